"""Roles and the agency check, in one place so every channel applies the same rules."""

from __future__ import annotations

from typing import Protocol

ROLES = ("admin", "coordinator", "observer", "contact")
STAFF = frozenset({"admin", "coordinator"})
READERS = frozenset({"admin", "coordinator", "observer"})


class ActorLike(Protocol):
    role: str
    agency_code: str | None


class AccessDenied(Exception):
    """The actor may not do this; `code` picks the reply (never reveals what exists)."""

    def __init__(self, code: str = "forbidden") -> None:
        super().__init__(code)
        self.code = code


def is_staff(actor: ActorLike) -> bool:
    return actor.role in STAFF


def can_read_all(actor: ActorLike) -> bool:
    return actor.role in READERS


def can_see_task(actor: ActorLike, lead: str, supporting: list[str]) -> bool:
    """Staff and observers see everything; a contact sees tasks its agency leads or supports."""
    if can_read_all(actor):
        return True
    return actor.role == "contact" and actor.agency_code is not None and (
        actor.agency_code == lead or actor.agency_code in supporting
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
