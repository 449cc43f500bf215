"""Joining by invite, as chat answers: the rules live in `workflows.joining`, this renders them.

A member opening a code for another role or agency is told what they are now and asked to
confirm (Chuyển sang … / Giữ nguyên); a coordinator or admin is never demoted by a code; a
contact who joins after launch is sent the agency's summary and its tasks.
"""

from __future__ import annotations

import re

from bot.channels.base import Button, IncomingMessage, Reply
from bot.commands import Call
from bot.commands._helpers import notify
from bot.i18n import Texts
from workflows import joining as uc
from workflows.ports import Ctx

CALLBACK = re.compile(r"^j:(\d{1,9}):(y|n)$")


def describe(texts: Texts, who: uc.Standing) -> str:
    """ "đầu mối CA", "đầu mối dự phòng SYT", "điều phối": who someone is, in a few words."""
    if who.role == "contact" and who.agency:
        return texts("join.contact_of" if not who.deputy else "join.deputy_of", agency=who.agency)
    return texts(f"role.{who.role}")


def join(call: Call, store, user, invite, *, newcomer: bool) -> list[Reply]:
    """`user` opens `invite` (checked): joined, asked to confirm a switch, or told why not."""
    msg = call.msg
    ctx = Ctx(actor=user, channel=msg.channel, now=call.app.now(), message_ref=msg.ref)
    return render(call, store, uc.join(store, ctx, user, invite, newcomer=newcomer))


def confirm(app, msg: IncomingMessage, user, texts: Texts, invite_id: int, yes: bool, uow=None) -> list[Reply]:
    """The answer to "Chuyển sang …?" (a `j:<invite>:y|n` button)."""
    call = Call(app, msg, user, texts, "start", [], uow=uow)
    with call.write() as store:
        return render(call, store, uc.confirm_switch(store, call.ctx(), invite_id, yes))


def render(call: Call, store, outcome: uc.Outcome) -> list[Reply]:
    """The chat answer to a joining outcome (inside the transaction: a join's notices are queued with it)."""
    texts = call.texts
    if isinstance(outcome, uc.Stale):
        return [Reply(texts("err.stale_button"), toast=texts("err.stale_button"))]
    if isinstance(outcome, uc.Kept):
        return [Reply(texts("join.kept", now=describe(texts, outcome.now)), toast=texts("join.keep"), edit=True)]
    if isinstance(outcome, uc.Refused):
        key = "join.already" if outcome.reason == "already" else "join.no_demote"
        return [Reply(texts(key, now=describe(texts, outcome.now), target=describe(texts, outcome.target)))]
    if isinstance(outcome, uc.AskSwitch):
        now, target = describe(texts, outcome.now), describe(texts, outcome.target)
        buttons = [
            [
                Button(texts("join.switch", target=target), f"j:{outcome.invite_id}:y"),
                Button(texts("join.keep"), f"j:{outcome.invite_id}:n"),
            ]
        ]
        return [Reply(texts("join.ask", now=now, target=target), buttons=buttons, kind="ask")]
    return _joined(call, store, outcome)


def _joined(call: Call, store, joined: uc.Joined) -> list[Reply]:
    notify(call, store, joined.notices)
    texts, user = call.texts, joined.user
    if joined.agency is not None:
        head = call.reply("start.joined_contact", name=user.name, agency=joined.agency.name, code=joined.agency.code)
    else:
        head = call.reply("start.joined", name=user.name, role=texts(f"role.{joined.role}"))
    if joined.caught_up:
        head[0].text = head[0].text + "\n" + texts("join.caught_up", count=joined.caught_up)
    if joined.replaced:
        head += call.reply("start.replaced", old=", ".join(joined.replaced), agency=user.agency_code)
    return head
