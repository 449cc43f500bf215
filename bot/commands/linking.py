"""One person on several apps: /link (/lienket) makes a code for the other app, /unlink (/huylienket)."""

from __future__ import annotations

from bot.channels.base import Reply
from bot.commands import MEMBER, Call, UsageError, command
from bot.commands._helpers import notify
from workflows import invites, linking
from workflows.ports import Ctx


def redeem_link(call: Call, store, invite, user, code: str, now) -> list[Reply]:
    """`/start CODE` with a link code: this app's account becomes the code owner's (checks in
    workflows.linking; a refusal leaves the code unused)."""
    msg = call.msg
    owner = store.user(invite.link_user_id)
    ctx = Ctx(actor=owner, channel=msg.channel, now=now, message_ref=msg.ref)
    notice = linking.link_account(
        store,
        ctx,
        owner,
        user,
        channel=msg.channel,
        external_id=msg.user_id,
        chat_id=msg.chat_id,
        display_name=msg.display_name,
    )
    invites.redeem(store, code, owner.id, now)
    notify(call, store, [notice])
    return call.reply("link.done", name=owner.name, channel=msg.channel)


@command("link", "lienket", audience=MEMBER)
def link(call: Call) -> list[Reply]:
    """A code to use on the other app (Telegram <-> Zalo): both reach the same person."""
    if call.args:
        raise UsageError()
    with call.write() as store:
        code, inv = invites.create_link(store, call.ctx())
    return call.reply("link.made", code=code, expires=inv.expires_at)


@command("unlink", "huylienket", audience=MEMBER)
def unlink(call: Call) -> list[Reply]:
    """Take one app's account away from this person (not the last one)."""
    if call.msg.chat_type != "private":
        return call.reply("err.private_only")
    if len(call.args) != 1:
        with call.read() as store:
            mine = sorted({i.channel for i in store.identities_of(call.user.id)})
        return call.reply("unlink.which", channels=", ".join(mine))
    with call.write() as store:
        linking.unlink_account(store, call.ctx(), call.user, call.args[0])
        left = sorted({i.channel for i in store.identities_of(call.user.id)})
    return call.reply("unlink.done", channel=call.args[0].lower(), channels=", ".join(left))
