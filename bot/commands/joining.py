"""Joining by invite, for people who already belong: never a silent change of who someone is.

A member opening a code for another role or agency is told what they are now and asked to
confirm (Chuyển sang … / Giữ nguyên); until they confirm nothing changes and the code stays
valid. A coordinator or admin is never demoted by a code (the code stays valid for the person
it was meant for). A contact who joins after launch is sent the agency's summary and its tasks.
"""

from __future__ import annotations

import re

from bot.channels.base import Button, IncomingMessage, Reply
from bot.commands import Call
from bot.commands._helpers import notify
from bot.i18n import Texts
from storage.models import Invite
from workflows import events as event_uc
from workflows import people
from workflows.errors import DutyError
from workflows.ports import Ctx

CALLBACK = re.compile(r"^j:(\d{1,9}):(y|n)$")
_RANK = {"admin": 3, "coordinator": 2, "observer": 1, "contact": 1}


def describe(texts: Texts, role: str, agency: str | None, deputy: bool) -> str:
    """"đầu mối CA", "đầu mối dự phòng SYT", "điều phối": who someone is, in a few words."""
    if role == "contact" and agency:
        return texts("join.contact_of" if not deputy else "join.deputy_of", agency=agency)
    return texts(f"role.{role}")


def _target(invite) -> tuple[str, str | None, bool]:
    return invite.role, invite.agency_code if invite.role == "contact" else None, bool(invite.is_deputy)


def existing_member(call: Call, store, user, invite) -> list[Reply] | None:
    """An active member opening an invite: the answer when it must not simply apply (None: apply)."""
    texts = call.texts
    now_is = describe(texts, user.role, user.agency_code, bool(user.is_deputy))
    would_be = describe(texts, *_target(invite))
    if user.role in ("admin", "coordinator") and _RANK[invite.role] <= _RANK[user.role]:
        # A code never demotes staff; it stays valid for the person it was meant for.
        key = "join.already" if (user.role, invite.role) == ("coordinator", "coordinator") else "join.no_demote"
        return [Reply(texts(key, now=now_is, target=would_be))]
    if (user.role, user.agency_code, bool(user.is_deputy)) == _target(invite):
        return [Reply(texts("join.already", now=now_is, target=would_be))]
    store.user(user.id).pending = {"kind": "switch_invite", "invite_id": invite.id}
    buttons = [[Button(texts("join.switch", target=would_be), f"j:{invite.id}:y"),
                Button(texts("join.keep"), f"j:{invite.id}:n")]]
    return [Reply(texts("join.ask", now=now_is, target=would_be), buttons=buttons, kind="ask")]


def confirm(app, msg: IncomingMessage, user, texts: Texts, invite_id: int, yes: bool) -> list[Reply]:
    """The answer to "Chuyển sang …?": only the person asked, only for the code they opened."""
    call = Call(app, msg, user, texts, "start", [])
    now = app.now()
    with app.write() as store:
        me = store.user(user.id)
        pending = me.pending or {}
        if pending.get("kind") != "switch_invite" or pending.get("invite_id") != invite_id:
            return [Reply(texts("err.stale_button"), toast=texts("err.stale_button"))]
        me.pending = None
        invite = store.s.get(Invite, invite_id)
        now_is = describe(texts, me.role, me.agency_code, bool(me.is_deputy))
        if not yes:
            return [Reply(texts("join.kept", now=now_is), toast=texts("join.keep"), edit=True)]
        if invite is None or invite.used_at is not None:
            raise DutyError("invite_used")
        if invite.expires_at <= now:
            raise DutyError("invite_expired")
        refused = existing_member(call, store, me, invite)  # who they are may have changed since
        if refused is not None and not refused[0].buttons:
            return refused
        me.pending = None
        if not store.claim_invite(invite.code_hash, me.id, now):
            raise DutyError("invite_used")
        return apply(call, store, me, invite, now, before=now_is)


def apply(call: Call, store, user, invite, now, *, before: str | None = None) -> list[Reply]:
    """Give `user` the invite's role (the code is already claimed), audit it, and catch them up."""
    from bot.commands.people import handover

    msg = call.msg
    back = people.rejoin(user, invite.role)  # a removed person comes back with the invite's role
    if user.role != "admin":
        user.role = invite.role
    user.agency_code = invite.agency_code if invite.role == "contact" else None
    user.is_deputy = invite.is_deputy
    ctx = Ctx(actor=user, channel=msg.channel, now=now, message_ref=msg.ref)
    detail = {"invite": invite.id, "role": invite.role, "agency": invite.agency_code}
    if back:
        detail["returned"] = True
    if before is not None:
        detail["was"] = before
    store.audit(event_id=invite.event_id, task_id=None, ctx=ctx, action="joined", detail=detail)
    agency = store.agency(invite.agency_code) if invite.agency_code else None
    replaced = handover(call, store, ctx, invite, user)
    caught_up = catch_up(call, store, user)
    texts = call.texts
    if agency is not None:
        head = call.reply("start.joined_contact", name=user.name, agency=agency.name, code=agency.code)
    else:
        head = call.reply("start.joined", name=user.name, role=texts(f"role.{invite.role}"))
    if caught_up:
        head[0].text = head[0].text + "\n" + texts("join.caught_up", count=caught_up)
    return head + replaced


def catch_up(call: Call, store, user) -> int:
    """A contact joining a launched event gets what the agency got at launch: its summary, one
    message per open task it leads, each task it supports. Returns how many tasks were sent."""
    if user.role != "contact" or not user.agency_code:
        return 0
    notices = []
    for event in store.list_events():
        if event.launched_at is None or event.ended_at is not None:
            continue
        notices += event_uc.agency_notices(event, store.tasks(event.id), user.agency_code, user_id=user.id)
    if not notices:
        return 0
    notify(call, store, notices)
    return sum(1 for n in notices if n.task_id is not None)
