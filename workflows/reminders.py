"""Reminder and escalation policy (pure): which messages one task should get, and when.

A function of the task, the slot keys already sent, and `now` (always an argument, never the
wall clock). Every message is a `Slot` with a stable `key`; the integrator records sent keys so
a slot goes out at most once, even across restarts. Deadline-relative keys embed the deadline
(epoch seconds), so moving a deadline yields fresh slots. All arithmetic is in UTC; `tz` is only
used to read the local clock for quiet hours (Asia/Ho_Chi_Minh has no DST anyway).

Launch assignments, "you can start now" (a dependency transition) and the coordinators' daily
digest are event- or clock-of-day driven and live with the integrator, not here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "KINDS",
    "Policy",
    "Slot",
    "TaskState",
    "due_slots",
    "format_duration",
    "in_quiet_hours",
    "next_due",
    "parse_duration",
    "quiet_release",
    "slots_for",
]

UTC = timezone.utc
KINDS = ("ack_request", "reminder", "due", "overdue", "escalation", "cue", "checkin")
_FINISHED = ("done", "cancelled")
_DUR = re.compile(r"(?:(\d{1,5})d)?\s*(?:(\d{1,6})h)?\s*(?:(\d{1,7})m)?")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


# ---- durations ------------------------------------------------------------------------------
def parse_duration(text: object) -> timedelta:
    """'3d', '2h', '30m', '1h30m', '1d12h' (spaces between parts allowed) -> timedelta."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration like '3d', '2h', '30m' or '1h30m', got {text!r}")
    m = _DUR.fullmatch(text.strip().lower())
    if not m or not any(m.groups()):
        raise ValueError(f"expected a duration like '3d', '2h', '30m' or '1h30m', got {text!r}")
    d, h, mi = (int(g or 0) for g in m.groups())
    return timedelta(days=d, hours=h, minutes=mi)


def format_duration(td: timedelta) -> str:
    """The canonical text of a duration: 1d12h, 2h, 30m, 0m."""
    secs = int(td.total_seconds())
    d, rest = divmod(secs, 86400)
    h, rest = divmod(rest, 3600)
    mi, s = divmod(rest, 60)
    out = "".join(f"{n}{u}" for n, u in ((d, "d"), (h, "h"), (mi, "m"), (s, "s")) if n)
    return out or "0m"


# ---- policy ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    before: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1), timedelta(hours=2))
    overdue_every: timedelta = timedelta(hours=24)
    overdue_max: int = 14
    escalate_after: timedelta = timedelta(hours=24)
    ack_timeout: timedelta = timedelta(hours=24)
    cue_before: tuple[timedelta, ...] = (timedelta(minutes=30), timedelta(minutes=10))
    checkin_escalate_after: timedelta = timedelta(minutes=3)
    quiet_hours: tuple[time, time] | None = (time(21, 30), time(7, 0))
    urgent_window: timedelta = timedelta(hours=2)
    enabled: bool = True

    @classmethod
    def from_strings(cls, **values: object) -> Policy:
        """Keys as in config.toml [reminders]; unknown keys ignored; ValueError names a bad key."""
        return _apply(cls(), values)

    def merged(self, overrides: dict[str, Any] | None) -> Policy:
        """Overlay a template's or a duty's reminders table (same string keys)."""
        return _apply(self, overrides) if overrides else self


def _one_duration(v: object) -> timedelta:
    td = v if isinstance(v, timedelta) else parse_duration(v)
    if td < timedelta(0):
        raise ValueError(f"a duration cannot be negative, got {v!r}")
    return td


def _durations(v: object) -> tuple[timedelta, ...]:
    items = [p for p in v.split(",") if p.strip()] if isinstance(v, str) else v
    if not isinstance(items, (list, tuple)):
        raise ValueError(f"expected a list of durations like ['3d', '1d', '2h'], got {v!r}")
    return tuple(sorted({_one_duration(x) for x in items}, reverse=True))


def _positive(v: object) -> timedelta:
    td = _one_duration(v)
    if not td:
        raise ValueError(f"must be longer than zero, got {v!r}")
    return td


def _count(v: object) -> int:
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"expected a whole number >= 0, got {v!r}")
    return v


def _quiet(v: object) -> tuple[time, time] | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(t, time) for t in v):
        start, end = v
    else:
        parts = v.replace("–", "-").split("-") if isinstance(v, str) else []
        ms = [m for p in parts if (m := _CLOCK.fullmatch(p.strip()))]
        if len(parts) != 2 or len(ms) != 2:
            raise ValueError(f"expected 'HH:MM-HH:MM' (or empty for none), got {v!r}")
        start, end = (time(int(m[1]), int(m[2])) for m in ms)
    if start == end:
        raise ValueError(f"quiet hours must not start and end at the same time, got {v!r}")
    return (start, end)


def _flag(v: object) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return v.strip().lower() in ("true", "yes", "on", "1")
    raise ValueError(f"expected true or false, got {v!r}")


_PARSERS: dict[str, Callable[[object], object]] = {
    "before": _durations,
    "cue_before": _durations,
    "overdue_every": _positive,
    "overdue_max": _count,
    "escalate_after": _one_duration,
    "ack_timeout": _positive,
    "checkin_escalate_after": _one_duration,
    "quiet_hours": _quiet,
    "urgent_window": _one_duration,
    "enabled": _flag,
}


def _apply(base: Policy, values: dict[str, Any]) -> Policy:
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key in _PARSERS:
            try:
                changes[key] = _PARSERS[key](value)
            except (ValueError, TypeError, AttributeError, OverflowError) as e:
                raise ValueError(f"reminders.{key}: {e}") from None
    return replace(base, **changes) if changes else base


# ---- tasks and slots ------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskState:
    id: int
    code: str
    lead: str
    status: str  # todo | acknowledged | in_progress | blocked | done | cancelled
    deadline: datetime  # aware (UTC)
    is_cue: bool
    launched_at: datetime | None
    acknowledged_at: datetime | None
    last_report_at: datetime | None
    waiting_on: tuple[str, ...] = ()
    policy: Policy = Policy()


@dataclass(frozen=True)
class Slot:
    task_id: int
    key: str
    kind: str  # one of KINDS
    recipient: str  # contact | deputy | coordinator
    at: datetime  # nominal moment (UTC)
    send_at: datetime  # at, or held to the end of quiet hours (UTC)
    urgent: bool
    params: dict[str, Any] = field(default_factory=dict)


def _utc(dt: datetime, what: str) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {dt!r}")
    return dt.astimezone(UTC)


# ---- quiet hours ----------------------------------------------------------------------------
def in_quiet_hours(moment: datetime, quiet: tuple[time, time] | None, tz: ZoneInfo) -> bool:
    """Whether `moment`'s local clock time (in tz) lies in [start, end); the window may cross midnight."""
    if not quiet or quiet[0] == quiet[1]:
        return False
    start, end = quiet
    t = _utc(moment, "moment").astimezone(tz).time().replace(tzinfo=None)
    return start <= t < end if start < end else (t >= start or t < end)


def quiet_release(moment: datetime, quiet: tuple[time, time] | None, tz: ZoneInfo) -> datetime:
    """The end (UTC) of the quiet period containing `moment`; `moment` itself (UTC) if not quiet."""
    moment = _utc(moment, "moment")
    if quiet is None or not in_quiet_hours(moment, quiet, tz):
        return moment
    start, end = quiet
    local = moment.astimezone(tz)
    day = local.date()
    if start > end and local.time().replace(tzinfo=None) >= start:
        day += timedelta(days=1)  # evening part of a window crossing midnight: released tomorrow
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


# ---- the plan of one task -------------------------------------------------------------------
def _plan(task: TaskState, tz: ZoneInfo) -> list[Slot]:
    """Every slot of the task (finite: overdue series capped), sorted by (send_at, at, key)."""
    p = task.policy
    if not p.enabled or task.status in _FINISHED or task.launched_at is None:
        return []
    launch, dl = _utc(task.launched_at, "launched_at"), _utc(task.deadline, "deadline")
    ep = int(dl.timestamp())
    # key, kind, recipient, at, forced urgent, params
    raw: list[tuple[str, str, str, datetime, bool, dict[str, Any]]] = []

    if task.acknowledged_at is None and task.status == "todo":
        raw.append(("ack:1", "ack_request", "contact", launch + p.ack_timeout, False, {}))
        raw.append(("ack:2", "escalation", "coordinator", launch + 2 * p.ack_timeout, False, {"reason": "no_ack"}))

    if task.is_cue:
        for off in p.cue_before:
            txt = format_duration(off)
            raw.append((f"cue:{txt}@{ep}", "cue", "contact", dl - off, True, {"before": txt}))
        raw.append((f"checkin@{ep}", "checkin", "contact", dl, True, {}))
        report = _utc(task.last_report_at, "last_report_at") if task.last_report_at else None
        if report is None or report < dl:
            raw.append(
                (
                    f"escalation:checkin@{ep}",
                    "escalation",
                    "coordinator",
                    dl + p.checkin_escalate_after,
                    True,
                    {"reason": "unanswered_checkin"},
                )
            )
    else:
        for off in p.before:
            txt = format_duration(off)
            raw.append((f"before:{txt}@{ep}", "reminder", "contact", dl - off, False, {"before": txt}))
        # Deadline and overdue series: the ones before launch collapse into the latest of them.
        k0 = 0
        if launch > dl:
            k0 = min(p.overdue_max, (launch - dl) // p.overdue_every)
        if k0 == 0:
            raw.append((f"due@{ep}", "due", "contact", dl, False, {}))
        for k in range(max(k0, 1), p.overdue_max + 1):
            at = dl + k * p.overdue_every
            raw.append(
                (
                    f"overdue:{k}@{ep}",
                    "overdue",
                    "contact",
                    at,
                    False,
                    {"overdue_days": (at - dl).days, "overdue_for": format_duration(at - dl)},
                )
            )
        for who in ("deputy", "coordinator"):
            raw.append(
                (f"escalation:{who}@{ep}", "escalation", who, dl + p.escalate_after, False, {"reason": "overdue"})
            )

    slots = []
    for key, kind, recipient, at, forced, params in raw:
        if kind in ("due", "overdue"):
            base = max(at, launch)
        elif at < launch:
            continue
        else:
            base = at
        urgent = forced or dl - p.urgent_window <= base <= dl
        send_at = base if urgent else quiet_release(base, p.quiet_hours, tz)
        if kind == "reminder" and send_at >= dl:
            continue  # held past the deadline: it would never be worth sending
        if task.waiting_on:
            params = {**params, "waiting_on": list(task.waiting_on)}
        slots.append(Slot(task.id, key, kind, recipient, at, send_at, urgent, params))
    slots.sort(key=lambda s: (s.send_at, s.at, s.key))
    return slots


def slots_for(task: TaskState, tz: ZoneInfo, *, until: datetime) -> list[Slot]:
    """Every slot with at <= until, sorted by send_at (preview / simulate)."""
    until = _utc(until, "until")
    return [s for s in _plan(task, tz) if s.at <= until]


def due_slots(task: TaskState, now: datetime, sent: set[str] | frozenset[str], tz: ZoneInfo) -> list[Slot]:
    """Slots with send_at <= now, not yet sent, still relevant at now (late ones included)."""
    now = _utc(now, "now")
    dl = _utc(task.deadline, "deadline")
    return [
        s
        for s in _plan(task, tz)
        if s.send_at <= now and s.key not in sent and not (s.kind == "reminder" and dl <= now)
    ]


def next_due(task: TaskState, now: datetime, sent: Collection[str], tz: ZoneInfo) -> datetime | None:
    """The earliest send_at > now of a slot not yet sent; None if nothing will ever be due."""
    now = _utc(now, "now")
    return min((s.send_at for s in _plan(task, tz) if s.send_at > now and s.key not in sent), default=None)
