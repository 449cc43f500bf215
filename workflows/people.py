"""People: who is still in, removing someone, changing a role, handing an agency over.

`is_active` is the one check every way in asks (chat commands, buttons, free text, and the
web board's sign-in links and sessions): a removed person is refused everywhere at once.
Removing keeps the person's record, identities and audit history (the trail still names
who did what) and drops the messages still waiting for them; a new invite brings them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workflows.access import ROLES, Role, require_staff
from workflows.errors import DutyError
from workflows.ports import Actor, Ctx, Store, UserRecord

# What a coordinator may remove; admins may remove anyone but themselves.
COORDINATOR_REMOVES = frozenset({Role.CONTACT, Role.OBSERVER})


def is_active(store: Store, user_id: int | None) -> bool:
    """True when `user_id` names a person who has not been removed."""
    if user_id is None:
        return False
    user = store.user(user_id)
    return bool(user is not None and user.active)


def find_person(store: Store, ref: str) -> UserRecord | None:
    """The person `ref` names: `CHANNEL:ID` (telegram:123456789) or a user id (`12`, `#12`); else None."""
    ref = (ref or "").strip()
    channel, sep, external_id = ref.partition(":")
    if sep:
        ident = store.identity(channel.lower(), external_id.strip()) if external_id.strip() else None
        return store.user(ident.user_id) if ident is not None else None
    digits = ref.lstrip("#")
    if digits.isdigit() and len(digits) <= 12:
        return store.user(int(digits))
    return None


@dataclass
class Removal:
    person: UserRecord
    cancelled: int  # messages that were waiting for them and will not be sent
    # The agency (if they were its contact) that now has no contact at all: reminders reach nobody.
    agency_without_contact: str | None = None
    replaced: list[UserRecord] = field(default_factory=list)


def check_can_remove(actor: Actor, person: UserRecord) -> None:
    """Coordinators remove contacts and observers; admins anyone; nobody themselves."""
    require_staff(actor)
    if person.id is not None and person.id == actor.id:
        raise DutyError("remove_self")
    if actor.role != Role.ADMIN and person.role not in COORDINATOR_REMOVES:
        raise DutyError("remove_not_allowed", name=person.name, role=person.role)


def remove(store: Store, ctx: Ctx, person: UserRecord, *, reason: str = "removed") -> Removal:
    """Remove `person` (checked against `ctx.actor`); DutyError already_removed the second time."""
    check_can_remove(ctx.actor, person)
    locked = store.user_locked(person.id)  # two coordinators removing at once: one removes, one is told
    if locked is None or not locked.active:
        raise DutyError("already_removed", name=person.name)
    return deactivate(store, ctx, locked, reason=reason)


def deactivate(store: Store, ctx: Ctx, person: UserRecord, *, reason: str, replaced_by: int | None = None) -> Removal:
    """Remove without a permission check: for the system itself (config re-sync, a handover)."""
    person.active, person.pending = False, None
    cancelled = store.cancel_outbox_for(person.id, ctx.now)
    revoked = store.revoke_invites_of(person.id, ctx.now)  # the codes they handed out die with them
    detail: dict[str, object] = {
        "user": person.id,
        "name": person.name,
        "role": str(person.role),
        "agency": person.agency_code,
        "deputy": person.is_deputy,
        "cancelled_messages": cancelled,
        "revoked_codes": revoked,
        "reason": reason,
    }
    if replaced_by is not None:
        detail["replaced_by"] = replaced_by
    store.audit(event_id=None, task_id=None, ctx=ctx, action="user_removed", detail=detail)
    orphan = None
    if person.role == Role.CONTACT and person.agency_code and not store.contacts_of(person.agency_code):
        orphan = person.agency_code
    return Removal(person, cancelled, orphan)


def replace_contacts(store: Store, ctx: Ctx, newcomer: UserRecord, *, agency: str, deputy: bool) -> list[UserRecord]:
    """`newcomer` joined by a replacing invite: the agency's other contacts of the same kind
    (primary or deputy) are removed now, so nobody stale keeps getting its reminders."""
    gone: list[UserRecord] = []
    for old in store.contacts_of(agency, deputies=deputy):
        if old.id != newcomer.id:
            deactivate(store, ctx, old, reason="replaced", replaced_by=newcomer.id)
            gone.append(old)
    return gone


def set_role(
    store: Store, ctx: Ctx, person: UserRecord, role: str, *, agency: str | None = None, deputy: bool = False
) -> bool:
    """An admin sets someone's role (and agency, for a contact); a removed person is brought back.

    Returns False when nothing changed. An admin made this way is kept when the config's admin
    list changes (`admin_source` "cli")."""
    if ctx.actor.role != Role.ADMIN:
        raise DutyError("admin_only")
    if role not in ROLES:
        raise DutyError("unknown_role", role=role, roles=", ".join(ROLES))
    new_role = Role(role)
    if new_role == Role.CONTACT:
        if not agency:
            raise DutyError("agency_required")
        agency = agency.upper()
        if store.agency(agency) is None:
            raise DutyError("unknown_agency", agency=agency)
    elif agency:
        raise DutyError("agency_only_for_contacts")
    agency = agency if new_role == Role.CONTACT else None
    deputy = deputy if new_role == Role.CONTACT else False
    source = "cli" if new_role == Role.ADMIN else None  # an admin named here stays when the config changes
    before = {
        "role": str(person.role),
        "agency": person.agency_code,
        "deputy": person.is_deputy,
        "active": person.active,
        "admin_source": person.admin_source if person.role == Role.ADMIN else None,
    }
    after = {"role": str(new_role), "agency": agency, "deputy": deputy, "active": True, "admin_source": source}
    if before == after:
        return False
    person.role, person.agency_code, person.is_deputy, person.active = new_role, agency, deputy, True
    person.admin_source = source
    store.audit(
        event_id=None,
        task_id=None,
        ctx=ctx,
        action="role_changed",
        detail={"user": person.id, "name": person.name, "from": before, "to": after},
    )
    return True


def rejoin(person: UserRecord, role: str) -> bool:
    """A removed person redeeming a new invite is back, with the invite's role (not their old one)."""
    if person.active:
        return False
    person.active, person.role, person.admin_source = True, Role(role), None
    return True
