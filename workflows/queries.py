"""Read-side summaries computed from tasks and now (nothing here writes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from workflows.ports import TaskRecord
from workflows.states import CLOSED, TaskStatus, is_overdue


@dataclass
class AgencyRow:
    agency: str
    total: int = 0
    done: int = 0
    done_late: int = 0
    overdue: int = 0
    blocked: int = 0
    in_progress: int = 0
    open: int = 0


def agency_rows(tasks: Iterable[TaskRecord], now: datetime) -> list[AgencyRow]:
    """Per lead agency: totals, done (and done after the original deadline), overdue, blocked."""
    rows: dict[str, AgencyRow] = {}
    for t in tasks:
        if t.status == TaskStatus.CANCELLED:
            continue
        r = rows.setdefault(t.lead, AgencyRow(t.lead))
        r.total += 1
        if t.status == TaskStatus.DONE:
            r.done += 1
            r.done_late += bool(t.completed_at and t.completed_at > t.original_deadline)
        else:
            r.open += 1
            r.overdue += is_overdue(t.status, t.deadline, now)
            r.blocked += t.status == TaskStatus.BLOCKED
            r.in_progress += t.status == TaskStatus.IN_PROGRESS
    return sorted(rows.values(), key=lambda r: (-(r.overdue + r.blocked), r.agency))


def overdue_tasks(tasks: Iterable[TaskRecord], now: datetime) -> list[TaskRecord]:
    """Open tasks past their deadline, most overdue first."""
    return sorted(
        (t for t in tasks if t.status not in CLOSED and is_overdue(t.status, t.deadline, now)), key=lambda t: t.deadline
    )
