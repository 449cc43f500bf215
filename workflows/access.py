"""Roles and the agency check, in one place so every channel applies the same rules."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from workflows.errors import AccessDenied

__all__ = [
    "Role",
    "ROLES",
    "STAFF",
    "READERS",
    "ActorLike",
    "AccessDenied",
    "is_staff",
    "can_read_all",
    "can_see_task",
    "require_update",
    "require_staff",
    "require_reader",
]


class Role(StrEnum):
    """A person's role; the values are what the database and the exports hold."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    OBSERVER = "observer"
    CONTACT = "contact"


ROLES: tuple[str, ...] = tuple(Role)
STAFF = frozenset({Role.ADMIN, Role.COORDINATOR})
READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.OBSERVER})


class ActorLike(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def agency_code(self) -> str | None: ...


def is_staff(actor: ActorLike) -> bool:
    return actor.role in STAFF


def can_read_all(actor: ActorLike) -> bool:
    return actor.role in READERS


def can_see_task(actor: ActorLike, lead: str, supporting: list[str]) -> bool:
    """Staff and observers see everything; a contact sees tasks its agency leads or supports."""
    if can_read_all(actor):
        return True
    return (
        actor.role == "contact"
        and actor.agency_code is not None
        and (actor.agency_code == lead or actor.agency_code in supporting)
    )


def require_update(actor: ActorLike, lead: str) -> None:
    """A contact may only change its own agency's tasks; observers change nothing."""
    if is_staff(actor):
        return
    if actor.role == "contact" and actor.agency_code == lead:
        return
    raise AccessDenied("not_your_agency" if actor.role == "contact" else "forbidden")


def require_staff(actor: ActorLike) -> None:
    if not is_staff(actor):
        raise AccessDenied("staff_only")


def require_reader(actor: ActorLike) -> None:
    if not can_read_all(actor):
        raise AccessDenied("staff_only")
