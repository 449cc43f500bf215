"""Joining by invite: a newcomer becomes a member, a member never changes who they are silently.

Rules (the bot renders the outcomes; nothing here knows a chat):
- the code is claimed atomically (of two people redeeming it at once exactly one gets it);
- a member opening a code for another role or agency is asked first (`AskSwitch`: "Chuyển sang
  … / Giữ nguyên"); until they confirm nothing changes and the code stays valid;
- a coordinator or admin is never demoted by a code, and a code for what someone already is
  changes nothing (`Refused`); the code stays valid for the person it was meant for;
- a removed person redeeming a new invite comes back, with the invite's role (not the old one);
- a replacing invite removes the agency's previous contacts of that kind (`people.replace_contacts`);
- a contact who joins after launch is caught up: the agency's summary and its tasks, as at launch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from workflows import events as event_uc
from workflows import people
from workflows.access import Role
from workflows.errors import DutyError
from workflows.ports import AgencyRecord, Ctx, InviteRecord, Notice, Store, UserRecord

_RANK = {"admin": 3, "coordinator": 2, "observer": 1, "contact": 1}
PENDING_KIND = "switch_invite"  # the question "Chuyển sang …?" waiting in the person's record


@dataclass(frozen=True)
class Standing:
    """Who someone is in a few words: a role, and for a contact the agency and whether deputy."""

    role: str
    agency: str | None = None
    deputy: bool = False

    @classmethod
    def of_user(cls, user: UserRecord) -> Standing:
        return cls(user.role, user.agency_code if user.role == "contact" else None, bool(user.is_deputy))

    @classmethod
    def of_invite(cls, invite: InviteRecord) -> Standing:
        return cls(invite.role, invite.agency_code if invite.role == "contact" else None, bool(invite.is_deputy))

    def label(self) -> str:
        """A neutral label for the audit trail ("contact CA deputy", "coordinator")."""
        return " ".join(p for p in (self.role, self.agency, "deputy" if self.deputy else None) if p)


@dataclass(frozen=True)
class Refused:
    """Nothing changes and the code stays valid: `already` what the code gives, or `no_demote`."""

    reason: str  # "already" | "no_demote"
    now: Standing
    target: Standing


@dataclass(frozen=True)
class AskSwitch:
    """The member is asked to confirm the change (the question waits in their record)."""

    invite_id: int
    now: Standing
    target: Standing


@dataclass(frozen=True)
class Kept:
    """The member answered "Giữ nguyên": nothing changed."""

    now: Standing


@dataclass(frozen=True)
class Stale:
    """A button for a question no longer asked (answered already, or another code opened since)."""


@dataclass(frozen=True)
class Joined:
    """The person now has the invite's role; `notices` (catch-up, handover news) are to be sent."""

    user: UserRecord
    role: str
    agency: AgencyRecord | None  # for a contact
    returned: bool = False  # a removed person came back
    caught_up: int = 0  # tasks sent to a contact joining a launched event
    replaced: list[str] = field(default_factory=list)  # names of the contacts a replacing invite removed
    notices: list[Notice] = field(default_factory=list)


Outcome = Refused | AskSwitch | Kept | Stale | Joined


def join(store: Store, ctx: Ctx, user: UserRecord, invite: InviteRecord, *, newcomer: bool = False) -> Outcome:
    """`user` opens `invite` (already checked by `invites.check_code`).

    A `newcomer` (just created for this code) or a removed person joins at once; an active member
    is asked, or told why nothing changes. Joining claims the code (DutyError invite_used if lost)."""
    if not newcomer and user.active:
        asked = check_member(store, user, invite)
        if asked is not None:
            return asked
    if not store.claim_invite(invite.code_hash, user.id, ctx.now):
        raise DutyError("invite_used")
    return _apply(store, ctx, user, invite)


def check_member(store: Store, user: UserRecord, invite: InviteRecord) -> Refused | AskSwitch | None:
    """An active member opening an invite: the answer when it must not simply apply (None: apply)."""
    now, target = Standing.of_user(user), Standing.of_invite(invite)
    if user.role in ("admin", "coordinator") and _RANK[invite.role] <= _RANK[user.role]:
        # A code never demotes staff; it stays valid for the person it was meant for.
        reason = "already" if (user.role, invite.role) == ("coordinator", "coordinator") else "no_demote"
        return Refused(reason, now, target)
    if now == target:
        return Refused("already", now, target)
    record = store.user(user.id)
    if record is not None:  # the question waits in the stored record (`user` may be a detached copy)
        record.pending = {"kind": PENDING_KIND, "invite_id": invite.id, "code_hash": invite.code_hash}
    return AskSwitch(invite.id, now, target)


def confirm_switch(store: Store, ctx: Ctx, invite_id: int, yes: bool) -> Outcome:
    """The answer to "Chuyển sang …?": only the person asked, only for the code they opened."""
    me = store.user(ctx.actor.id) if ctx.actor.id is not None else None
    if me is None:
        return Stale()
    pending = me.pending or {}
    if pending.get("kind") != PENDING_KIND or pending.get("invite_id") != invite_id or not pending.get("code_hash"):
        return Stale()
    me.pending = None
    before = Standing.of_user(me)
    if not yes:
        return Kept(before)
    invite = store.invite_by_hash(pending["code_hash"])
    if invite is None or invite.id != invite_id or invite.used_at is not None:
        raise DutyError("invite_used")
    if invite.expires_at <= ctx.now:
        raise DutyError("invite_expired")
    asked = check_member(store, me, invite)  # who they are may have changed since
    if isinstance(asked, Refused):
        return asked
    me.pending = None
    if not store.claim_invite(invite.code_hash, me.id, ctx.now):
        raise DutyError("invite_used")
    return _apply(store, replace(ctx, actor=me), me, invite, before=before)


def _apply(store: Store, ctx: Ctx, user: UserRecord, invite: InviteRecord, *, before: Standing | None = None) -> Joined:
    """Give `user` the invite's role (the code is already claimed), audit it, and catch them up."""
    back = people.rejoin(user, invite.role)  # a removed person comes back with the invite's role
    if user.role != "admin":
        user.role = Role(invite.role)  # a joining invite's role is a Role ("link" codes never get here)
    user.agency_code = invite.agency_code if invite.role == "contact" else None
    user.is_deputy = invite.is_deputy
    ctx = replace(ctx, actor=user)
    detail: dict[str, Any] = {"invite": invite.id, "role": invite.role, "agency": invite.agency_code}
    if back:
        detail["returned"] = True
    if before is not None:
        detail["was"] = before.label()
    store.audit(event_id=invite.event_id, task_id=None, ctx=ctx, action="joined", detail=detail)
    agency = store.agency(invite.agency_code) if invite.agency_code else None
    replaced, notices = _handover(store, ctx, invite, user)
    catch_up = catch_up_notices(store, user)
    return Joined(
        user,
        invite.role,
        agency,
        returned=back,
        replaced=replaced,
        notices=notices + catch_up,
        caught_up=sum(1 for n in catch_up if n.task_id is not None),
    )


def _handover(store: Store, ctx: Ctx, invite: InviteRecord, newcomer: UserRecord) -> tuple[list[str], list[Notice]]:
    """A replacing invite: the agency's previous contacts of that kind are removed, the coordinators told."""
    if not invite.replaces_contacts or invite.role != "contact" or not invite.agency_code:
        return [], []
    gone = people.replace_contacts(store, ctx, newcomer, agency=invite.agency_code, deputy=invite.is_deputy)
    if not gone:
        return [], []
    names = [u.name for u in gone]
    return names, [
        Notice(
            key="contact_replaced",
            to="coordinators",
            kind="news",
            params={"agency": invite.agency_code, "name": newcomer.name, "old": ", ".join(names)},
        )
    ]


def catch_up_notices(store: Store, user: UserRecord) -> list[Notice]:
    """A contact joining a launched event gets what the agency got at launch: its summary, one
    message per open task it leads, each task it supports."""
    if user.role != "contact" or not user.agency_code:
        return []
    notices: list[Notice] = []
    for event in store.list_events():
        if event.launched_at is None or event.ended_at is not None:
            continue
        notices += event_uc.agency_notices(event, store.tasks(event.id), user.agency_code, user_id=user.id)
    return notices
