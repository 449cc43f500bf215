"""The report's read model: an event, its tasks and audit trail as typed values.

Every report reads an `EventReport`: the JSON/CSV export (bot.render.export), the workbook, the
chart, the digest, the after-action message and the Báo cáo. Times are datetimes in the event's
zone (never ISO strings to parse back); `status` includes the derived `waiting`; `overdue` is
derived from `now`. An export read back from JSON (`from_export`) gives the same model, so a
report can be rebuilt from a saved export file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from workflows.ports import AgencyRecord, EventRecord, Json, TaskRecord
from workflows.spec import load_template
from workflows.states import dependency_met, effective_status, is_overdue

log = logging.getLogger(__name__)


class ShownStatus(StrEnum):
    """A task's status as people see it: the stored one, or `waiting` while its dependencies are open."""

    TODO = "todo"
    ACKNOWLEDGED = "acknowledged"
    WAITING = "waiting"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Named:
    """An agency or a phase: its code and its names."""

    code: str
    name: str
    name_en: str = ""

    def name_in(self, lang: str) -> str:
        return (self.name_en if lang == "en" else None) or self.name or self.code


@dataclass(frozen=True)
class AuditLine:
    at: datetime | None
    actor: str
    channel: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)  # as recorded (JSON)


@dataclass(frozen=True)
class TaskRow:
    number: int
    code: str
    title: str
    lead: str
    phase: str = ""
    title_en: str = ""
    supporting: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    deadline: datetime | None = None
    original_deadline: datetime | None = None
    status: ShownStatus = ShownStatus.TODO
    overdue: bool = False
    percent: int = 0
    blocked_reason: str | None = None
    completed_at: datetime | None = None
    evidence_count: int = 0
    last_note: str | None = None
    audit: tuple[AuditLine, ...] = ()

    def title_in(self, lang: str) -> str:
        return (self.title_en if lang == "en" else None) or self.title or ""


@dataclass(frozen=True)
class EventInfo:
    id: int | None
    name: str
    timezone: str | None
    template: str | None = None
    start: datetime | None = None
    launched: bool = False
    ended: bool = False
    ended_at: datetime | None = None
    exported_at: datetime | None = None  # the time the figures were taken

    def zone(self, fallback: ZoneInfo | None = None) -> ZoneInfo | None:
        """The event's zone; `fallback` when it has none (or an unknown one)."""
        if self.timezone:
            try:
                return ZoneInfo(self.timezone)
            except (KeyError, ValueError):
                pass
        return fallback


@dataclass(frozen=True)
class EventReport:
    event: EventInfo
    agencies: dict[str, Named]  # the lead agencies, by code
    phases: tuple[Named, ...]  # in template order
    tasks: tuple[TaskRow, ...]  # by number

    def agency_name(self, code: str, lang: str) -> str:
        agency = self.agencies.get(code)
        return agency.name_in(lang) if agency is not None else code

    def phase_name(self, code: str, lang: str) -> str:
        for p in self.phases:
            if p.code == code:
                return p.name_in(lang)
        return code


class ReportedEvent(EventRecord, Protocol):
    template_path: str  # where its phases are named


class AuditEntry(Protocol):
    """An audit entry as the report reads it: who, through which channel, what."""

    @property
    def task_id(self) -> int | None: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def detail(self) -> Json: ...


class ReportStore(Protocol):
    """What the read model reads (storage.repositories.SqlStore and tests.memory_store have it)."""

    def tasks(self, event_id: int) -> Sequence[TaskRecord]: ...
    def evidence_counts(self, event_id: int) -> dict[int, int]: ...
    def event_audit(self, event_id: int) -> Sequence[AuditEntry]: ...
    def agencies(self) -> Sequence[AgencyRecord]: ...


def event_report(store: ReportStore, event: ReportedEvent, now: datetime) -> EventReport:
    """Everything about `event` at `now`: tasks with derived status, evidence counts, audit trail."""
    tz = ZoneInfo(event.timezone)

    def local(dt: datetime | None) -> datetime | None:
        return dt.astimezone(tz) if dt else None

    tasks = store.tasks(event.id)
    by_code = {t.code: t for t in tasks}
    counts = store.evidence_counts(event.id)
    audit_by_task: dict[int, list[AuditEntry]] = {}
    for entry in store.event_audit(event.id):
        if entry.task_id is not None:
            audit_by_task.setdefault(entry.task_id, []).append(entry)
    rows = []
    for t in sorted(tasks, key=lambda t: t.number):
        deps_done = all(by_code.get(c) is not None and dependency_met(by_code[c].status) for c in t.depends_on or [])
        entries = audit_by_task.get(t.id, [])
        notes = [e.detail.get("note") for e in entries if e.detail.get("note")]
        rows.append(
            TaskRow(
                number=t.number,
                code=t.code,
                title=t.title,
                title_en=t.title_en or "",
                phase=t.phase,
                lead=t.lead,
                supporting=tuple(t.supporting or ()),
                depends_on=tuple(t.depends_on or ()),
                deadline=local(t.deadline),
                original_deadline=local(t.original_deadline),
                status=ShownStatus(effective_status(t.status, dependencies_done=deps_done)),
                overdue=is_overdue(t.status, t.deadline, now),
                percent=t.percent,
                blocked_reason=t.blocked_reason,
                completed_at=local(t.completed_at),
                evidence_count=counts.get(t.id, 0),
                last_note=notes[-1] if notes else None,
                audit=tuple(AuditLine(local(e.at), e.actor, e.channel, e.action, e.detail) for e in entries),
            )
        )
    leads = {r.lead for r in rows}
    agencies = {a.code: Named(a.code, a.name, a.name_en or "") for a in store.agencies() if a.code in leads}
    info = EventInfo(
        id=event.id,
        name=event.name,
        timezone=event.timezone,
        template=event.template_id,
        start=local(event.start),
        launched=event.launched_at is not None,
        ended=event.ended_at is not None,
        ended_at=local(event.ended_at),
        exported_at=local(now),
    )
    return EventReport(info, dict(sorted(agencies.items())), event_phases(event, [r.phase for r in rows]), tuple(rows))


def event_phases(event: ReportedEvent, codes: Iterable[str]) -> tuple[Named, ...]:
    """The phases `codes` name, in template order (names from the event's template file; bare codes
    if it is gone or does not know one)."""
    used = list(dict.fromkeys(codes))
    named: list[Named] = []
    try:
        named = [Named(p.code, p.name, p.name_en or "") for p in load_template(event.template_path).phases]
    except Exception as exc:  # a moved or edited template must not break a report
        log.info("phases of event %s: template %s unreadable (%s)", event.id, event.template_path, exc)
    known = {p.code for p in named}
    return tuple([p for p in named if p.code in used] + [Named(c, c) for c in used if c not in known])


# -- an export read back (a saved JSON file, a test's or a benchmark's hand-built dict) --------------
def as_report(data: EventReport | dict[str, Any]) -> EventReport:
    return data if isinstance(data, EventReport) else from_export(data)


def _time(value: Any) -> datetime | None:
    """An ISO string as a datetime, offset kept (a naive one is read in the event's zone later)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def from_export(data: dict[str, Any]) -> EventReport:
    """The model of an export dict (`bot.render.export.to_export`'s shape); missing fields get defaults."""
    ev = data.get("event") or {}
    info = EventInfo(
        id=ev.get("id"),
        name=ev.get("name") or "",
        timezone=ev.get("timezone"),
        template=ev.get("template"),
        start=_time(ev.get("start")),
        launched=bool(ev.get("launched")),
        ended=bool(ev.get("ended")),
        ended_at=_time(ev.get("ended_at")),
        exported_at=_time(ev.get("exported_at")),
    )
    agencies = {}
    for code, a in (data.get("agencies") or {}).items():
        agencies[code] = (
            Named(code, a, "") if isinstance(a, str) else Named(code, a.get("name") or "", a.get("name_en") or "")
        )
    phases = tuple(
        Named(p.get("code") or "", p.get("name") or "", p.get("name_en") or "") for p in data.get("phases") or []
    )
    tasks = tuple(_task(t) for t in data.get("tasks") or [])
    return EventReport(info, agencies, phases, tasks)


def _task(t: dict[str, Any]) -> TaskRow:
    audit = tuple(
        AuditLine(
            _time(e.get("at")),
            e.get("actor") or "",
            e.get("channel") or "",
            e.get("action") or "",
            e.get("detail") or {},
        )
        for e in t.get("audit") or []
    )
    return TaskRow(
        number=t.get("number") or 0,
        code=t.get("code") or "",
        title=t.get("title") or "",
        lead=t.get("lead") or "",
        phase=t.get("phase") or "",
        title_en=t.get("title_en") or "",
        supporting=tuple(t.get("supporting") or ()),
        depends_on=tuple(t.get("depends_on") or ()),
        deadline=_time(t.get("deadline")),
        original_deadline=_time(t.get("original_deadline")),
        status=ShownStatus(t.get("status") or "todo"),
        overdue=bool(t.get("overdue")),
        percent=t.get("percent") or 0,
        blocked_reason=t.get("blocked_reason"),
        completed_at=_time(t.get("completed_at")),
        evidence_count=t.get("evidence_count") or 0,
        last_note=t.get("last_note"),
        audit=audit,
    )
