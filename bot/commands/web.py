"""/web (/bangtin): a single-use sign-in link to the web board, for the person asking."""

from __future__ import annotations

from bot.channels.base import Reply
from bot.commands import MEMBER, Call, UsageError, command
from bot.web.auth import board_enabled, make_link, usable


@command("web", "bangtin", audience=MEMBER, menu=("contact", "staff"))
def web(call: Call) -> list[Reply]:
    if call.args:
        raise UsageError()
    if call.msg.chat_type != "private":  # a sign-in link posted to a group signs in whoever clicks first
        return call.reply("err.private_only")
    if not board_enabled(call.app.settings, local_chat=call.msg.channel == "console"):
        return call.reply("web.cmd.off")
    if not usable(call.user):
        return call.reply("err.staff_only")
    with call.write() as store:  # inside the update's transaction (one writer on SQLite)
        url = make_link(call.app, call.user.id, store=store)
    return call.reply("web.cmd.link", url=url, minutes=call.app.settings.web.link_minutes)
