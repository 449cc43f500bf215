"""The figures every report shares, and the after-action review of an event.

Everything here reads an `EventReport` (workflows.report_model) and nothing else, so the
workbook, the chart, the digest and the after-action message tell the same truth as the chat.

Definitions (PRODUCT.md: on-time statistics count against the **original** deadline):
- a task is *done on time* when it was completed at or before its original deadline, *done late*
  otherwise; cancelled tasks are left out of every count except `cancelled`;
- *overdue*: open (not done, not cancelled) and past its current deadline at `now`; *blocked*:
  status blocked. The two overlap (a blocked task can be overdue), as in /status;
- *due*: the tasks that should be finished by `now`: done ones plus open ones whose original
  deadline has passed; the *on-time rate* is done-on-time / due (None when nothing is due yet);
- *delay*: completion (or `now`, for a task still open) minus the original deadline;
- *extensions granted*: approved extension requests, and deadlines a coordinator moved later
  by hand (`deadline` audit entries); an event move is not an extension.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflows.clock import utc_now
from workflows.report_model import AuditLine, EventReport, TaskRow

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
# Mutually exclusive states for charts, in stacking order (a blocked task that is also overdue
# counts as blocked: the reason is what a coordinator acts on).
CATEGORIES = ("done_on_time", "done_late", "in_progress", "blocked", "overdue", "not_started")


# -- time ------------------------------------------------------------------------------------
def event_tz(report: EventReport, fallback: ZoneInfo | None = None) -> ZoneInfo:
    return report.event.zone(fallback) or ZoneInfo(DEFAULT_TZ)


def parse_time(value: Any, tz: ZoneInfo) -> datetime | None:
    """A datetime (or ISO string) as an aware datetime in `tz`; naive values are taken as local."""
    if value is None or value == "":
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)


def report_now(report: EventReport, now: datetime | None = None, tz: ZoneInfo | None = None) -> datetime:
    """`now` if given, else the time the figures were taken, else the wall clock, in the event's zone."""
    tz = tz or event_tz(report)
    when = now if now is not None else report.event.exported_at
    return parse_time(when, tz) or utc_now().astimezone(tz)


# -- one task --------------------------------------------------------------------------------
class TaskView:
    """A task of the report with its times in the report's zone and its derived states at `now`."""

    __slots__ = (
        "task",
        "deadline",
        "original",
        "completed",
        "status",
        "is_open",
        "overdue",
        "on_time",
        "due",
        "category",
    )

    def __init__(self, task: TaskRow, tz: ZoneInfo, now: datetime) -> None:
        self.task = task
        self.status = task.status or "todo"
        self.deadline = parse_time(task.deadline, tz)
        self.original = parse_time(task.original_deadline, tz) or self.deadline
        self.completed = parse_time(task.completed_at, tz)
        self.is_open = self.status not in ("done", "cancelled")
        if self.deadline is not None:
            self.overdue = self.is_open and self.deadline < now
        else:
            self.overdue = self.is_open and task.overdue
        self.on_time: bool | None = None
        if self.status == "done":
            self.on_time = self.completed is None or self.original is None or self.completed <= self.original
        # Should be finished by now: counts in the on-time rate's denominator.
        self.due = self.status == "done" or (self.is_open and self.original is not None and self.original < now)
        self.category = _category(self)


def _category(v: TaskView) -> str | None:
    if v.status == "cancelled":
        return None
    if v.status == "done":
        return "done_on_time" if v.on_time else "done_late"
    if v.status == "blocked":
        return "blocked"
    if v.overdue:
        return "overdue"
    if v.status == "in_progress":
        return "in_progress"
    return "not_started"


def views(report: EventReport, now: datetime, tz: ZoneInfo) -> list[TaskView]:
    return [TaskView(t, tz, now) for t in report.tasks]


@dataclass
class Tally:
    """Counts for a group of tasks; `overdue` and `blocked` may overlap; `by_category` splits
    `total` into CATEGORIES exactly. `agency`: the lead agency, for a per-agency row."""

    total: int = 0
    cancelled: int = 0
    done: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0
    overdue: int = 0
    blocked: int = 0
    due: int = 0
    by_category: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    agency: str = ""

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None


def tally(tasks: list[TaskView]) -> Tally:
    """Counts for a group of tasks (see the module docstring for the definitions)."""
    out = Tally()
    for v in tasks:
        if v.status == "cancelled":
            out.cancelled += 1
            continue
        out.total += 1
        out.by_category[v.category or "not_started"] += 1
        if v.status == "done":
            out.done += 1
            if v.on_time:
                out.on_time += 1
            else:
                out.late += 1
            out.due += 1
            continue
        out.open += 1
        out.overdue += v.overdue
        out.blocked += v.status == "blocked"
        out.due += v.due
    return out


def by_agency(tasks: list[TaskView]) -> list[tuple[str, Tally]]:
    """(agency code, tally) for every lead agency, by code."""
    groups: dict[str, list[TaskView]] = {}
    for v in tasks:
        groups.setdefault(v.task.lead or "?", []).append(v)
    return [(code, replace(tally(groups[code]), agency=code)) for code in sorted(groups)]


# -- the after-action review ----------------------------------------------------------------
@dataclass(frozen=True)
class Delay:
    task: TaskRow
    original_deadline: datetime
    deadline: datetime | None
    completed_at: datetime | None
    delay: timedelta
    open: bool

    @property
    def code(self) -> str:
        return self.task.code


@dataclass(frozen=True)
class BlockedSpell:
    task: TaskRow
    at: datetime | None
    actor: str
    reason: str
    until: datetime | None = None
    duration: timedelta | None = None
    still: bool = False

    @property
    def code(self) -> str:
        return self.task.code


@dataclass(frozen=True)
class Extension:
    task: TaskRow
    at: datetime | None
    actor: str
    kind: str  # "approved" (a request) | "set" (a coordinator moved the deadline later)
    old: datetime | None
    new: datetime
    added: timedelta | None
    reason: str

    @property
    def code(self) -> str:
        return self.task.code


@dataclass(frozen=True)
class AfterAction:
    event: Any  # report_model.EventInfo
    ended: bool
    as_of: datetime
    totals: Tally
    agencies: list[Tally]  # worst on-time rate first
    delays: list[Delay]  # longest first
    blocked: list[BlockedSpell]  # in time order
    extensions: list[Extension]  # in time order


def after_action(report: EventReport, now: datetime | None = None) -> AfterAction:
    """On-time rate per agency, longest delays, why things were blocked, extensions granted."""
    tz = event_tz(report)
    now = report_now(report, now, tz)
    vs = views(report, now, tz)
    agencies = [t for _, t in by_agency(vs)]
    agencies.sort(
        key=lambda a: (
            a.on_time_rate is None,
            a.on_time_rate if a.on_time_rate is not None else 0,
            -a.late - a.overdue,
            a.agency,
        )
    )
    delays: list[Delay] = []
    blocked: list[BlockedSpell] = []
    extensions: list[Extension] = []
    for v in vs:
        if v.status != "cancelled" and v.original is not None:
            end = v.completed if v.status == "done" and v.completed else now
            if end > v.original:
                delays.append(
                    Delay(
                        v.task,
                        v.original,
                        v.deadline,
                        v.completed if v.status == "done" else None,
                        end - v.original,
                        v.status != "done",
                    )
                )
        blocked += _blocked_spells(v, tz, now)
        extensions += _extensions(v, tz)
    delays.sort(key=lambda d: (-d.delay.total_seconds(), d.code))
    blocked.sort(key=lambda b: (b.at is None, b.at or now, b.code))
    extensions.sort(key=lambda e: (e.at or now, e.code))
    return AfterAction(report.event, report.event.ended, now, tally(vs), agencies, delays, blocked, extensions)


def _sorted_audit(task: TaskRow, tz: ZoneInfo) -> list[tuple[datetime | None, AuditLine]]:
    entries = [(parse_time(e.at, tz), e) for e in task.audit]
    return sorted(entries, key=lambda p: (p[0] is None, p[0] or datetime.min.replace(tzinfo=tz)))


def _blocked_spells(v: TaskView, tz: ZoneInfo, now: datetime) -> list[BlockedSpell]:
    spells: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for at, e in _sorted_audit(v.task, tz):
        if e.action != "status":
            continue
        if current is not None:
            current["until"] = at
            current["duration"] = at - current["at"] if at and current["at"] else None
            current = None
        if e.detail.get("to") == "blocked":
            current = {"at": at, "actor": e.actor or "", "reason": e.detail.get("reason") or ""}
            spells.append(current)
    if current is not None:
        current["still"] = v.status == "blocked"
        current["duration"] = now - current["at"] if current["at"] and current["still"] else None
    if not spells and v.status == "blocked" and v.task.blocked_reason:
        spells.append({"at": None, "actor": "", "reason": v.task.blocked_reason, "still": True})
    return [BlockedSpell(v.task, **s) for s in spells]


def _extensions(v: TaskView, tz: ZoneInfo) -> list[Extension]:
    out: list[Extension] = []
    reasons: dict[Any, str] = {}
    current = v.original
    for at, e in _sorted_audit(v.task, tz):
        action, detail = e.action, e.detail
        if action == "extension_requested":
            reasons[detail.get("request")] = detail.get("reason") or ""
        if action not in ("deadline", "extension_approved", "deadline_moved"):
            continue
        old = parse_time(detail.get("from"), tz) or current  # audit details are JSON: ISO strings
        new = parse_time(detail.get("to"), tz)
        if new is None:
            continue
        current = new
        if action == "deadline_moved":
            continue  # the whole event moved: not an extension
        if old is not None and new <= old:
            continue  # brought forward: not an extension
        out.append(
            Extension(
                v.task,
                at,
                e.actor or "",
                "approved" if action == "extension_approved" else "set",
                old,
                new,
                new - old if old else None,
                reasons.get(detail.get("request"), "")
                if action == "extension_approved"
                else detail.get("reason") or "",
            )
        )
    return out
