"""Invites: single-use, expiring codes with >=128 bits of randomness, stored only hashed."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from workflows.access import Role, require_staff
from workflows.errors import DutyError
from workflows.ports import Ctx, InviteRecord, NewInvite, Store

# 24 random bytes -> 32 url-safe characters: 192 bits, inside Telegram's 64-char
# [A-Za-z0-9_-] deep-link payload.
_CODE_BYTES = 24
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_code() -> str:
    return secrets.token_urlsafe(_CODE_BYTES)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_invite(
    store: Store,
    ctx: Ctx,
    target: str,
    *,
    ttl: timedelta,
    event_id: int | None = None,
    deputy: bool = False,
    replace: bool = False,
) -> tuple[str, InviteRecord]:
    """Make an invite for an agency contact, an observer or (admins only) a coordinator.

    `replace` (contacts only): whoever redeems it replaces the agency's current contacts of
    the same kind (workflows.people.replace_contacts)."""
    require_staff(ctx.actor)
    t = target.strip()
    if t.lower() in ("coordinator", "dieuphoi", "điều phối"):
        if ctx.actor.role != Role.ADMIN:
            raise DutyError("admin_only")
        role, agency = Role.COORDINATOR, None
    elif t.lower() in ("observer", "theodoi", "theo dõi"):
        role, agency = Role.OBSERVER, None
    else:
        agency = t.upper()
        if store.agency(agency) is None:
            raise DutyError("unknown_agency", agency=t)
        role = Role.CONTACT
    if replace and role != Role.CONTACT:
        raise DutyError("replace_contacts_only")
    code = new_code()
    invite = store.add_invite(
        NewInvite(
            code_hash=hash_code(code),
            role=role,
            agency_code=agency,
            is_deputy=deputy,
            event_id=event_id,
            created_by=ctx.actor.id,
            created_at=ctx.now,
            expires_at=ctx.now + ttl,
            replaces_contacts=replace,
        )
    )
    store.audit(
        event_id=event_id,
        task_id=None,
        ctx=ctx,
        action="invite_created",
        detail={
            "invite": invite.id,
            "role": role,
            "agency": agency,
            "deputy": deputy,
            "expires": invite.expires_at.isoformat(),
            **({"replace": True} if replace else {}),
        },
    )
    return code, invite


def check_code(store: Store, code: str, now: datetime, *, by: int | None = None) -> InviteRecord:
    """The invite behind `code`, or DutyError invite_invalid / invite_used / invite_expired;
    invite_yours when member `by` opens the joining code they used themselves (a link tapped twice)."""
    if not CODE_RE.match(code or ""):
        raise DutyError("invite_invalid")
    invite = store.invite_by_hash(hash_code(code))
    if invite is None:
        raise DutyError("invite_invalid")
    if invite.used_at is not None:
        if by is not None and invite.used_by == by and invite.role != "link":
            raise DutyError("invite_yours")
        raise DutyError("invite_used")
    if invite.expires_at <= now:
        raise DutyError("invite_expired")
    return invite


def redeem(store: Store, code: str, user_id: int, now: datetime) -> InviteRecord:
    """Claim `code` for `user_id` atomically: of many concurrent redemptions exactly one wins."""
    invite = check_code(store, code, now)
    if not store.claim_invite(invite.code_hash, user_id, now):
        raise DutyError("invite_used")
    return invite


LINK_TTL = timedelta(hours=1)


def create_link(store: Store, ctx: Ctx) -> tuple[str, InviteRecord]:
    """A single-use code that binds the person's account on another app to the same person."""
    code = new_code()
    invite = store.add_invite(
        NewInvite(
            code_hash=hash_code(code),
            role="link",
            link_user_id=ctx.actor.id,
            created_by=ctx.actor.id,
            created_at=ctx.now,
            expires_at=ctx.now + LINK_TTL,
        )
    )
    store.audit(
        event_id=None,
        task_id=None,
        ctx=ctx,
        action="link_created",
        detail={"invite": invite.id, "expires": invite.expires_at.isoformat()},
    )
    return code, invite
