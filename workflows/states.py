"""The task status machine; "overdue" and "waiting" are derived, never stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from workflows.errors import TransitionError

__all__ = [
    "TaskStatus",
    "STORED",
    "DERIVED",
    "ALL_STATUSES",
    "CLOSED",
    "TransitionError",
    "check_transition",
    "effective_status",
    "is_overdue",
]


class TaskStatus(StrEnum):
    """A task's stored status; the values are what the database and the exports hold."""

    TODO = "todo"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


STORED: tuple[str, ...] = tuple(TaskStatus)
DERIVED = ("waiting",)
ALL_STATUSES = STORED + DERIVED
CLOSED = frozenset({TaskStatus.DONE, TaskStatus.CANCELLED})

# Who may move a task from one stored status to another. A contact reports; only a
# coordinator reopens a done task or restores a cancelled one.
_CONTACT_MOVES: dict[str, frozenset[str]] = {
    "todo": frozenset({"acknowledged", "in_progress", "blocked", "done"}),
    "acknowledged": frozenset({"in_progress", "blocked", "done"}),
    "in_progress": frozenset({"in_progress", "blocked", "done"}),
    "blocked": frozenset({"in_progress", "blocked", "done"}),
    "done": frozenset(),
    "cancelled": frozenset(),
}
_COORDINATOR_EXTRA: dict[str, frozenset[str]] = {
    "todo": frozenset({"cancelled"}),
    "acknowledged": frozenset({"cancelled"}),
    "in_progress": frozenset({"cancelled"}),
    "blocked": frozenset({"cancelled"}),
    "done": frozenset({"in_progress"}),
    "cancelled": frozenset({"todo"}),
}


def check_transition(current: str, target: str, *, by_coordinator: bool) -> None:
    """Raise TransitionError unless `current -> target` is allowed for this kind of actor."""
    if current == target == "done":
        raise TransitionError("already_done", current, target)
    if current == "acknowledged" and target == "acknowledged":
        raise TransitionError("already_acknowledged", current, target)
    if current in ("in_progress", "blocked") and target == "acknowledged":
        raise TransitionError("already_acknowledged", current, target)
    allowed = _CONTACT_MOVES.get(current, frozenset())
    if by_coordinator:
        allowed = allowed | _COORDINATOR_EXTRA.get(current, frozenset())
    if target not in allowed:
        raise TransitionError("closed" if current in CLOSED else "not_allowed", current, target)


def dependency_met(status: str | None) -> bool:
    """A dependency stops holding a task back once it is done or cancelled (a cancelled one will
    never be done: waiting on it would be waiting forever). None: no such task, still unmet."""
    return status in CLOSED


def effective_status(status: str, *, dependencies_done: bool) -> str:
    """What people see: `waiting` while a not-yet-started task has unmet dependencies."""
    if status in ("todo", "acknowledged") and not dependencies_done:
        return "waiting"
    return status


def is_overdue(status: str, deadline: datetime, now: datetime) -> bool:
    """Overdue is derived from the deadline and now, for open tasks only."""
    return status not in CLOSED and deadline < now
