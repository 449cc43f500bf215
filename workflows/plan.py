"""Template + start time -> tasks with absolute deadlines; moving an event re-plans them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from workflows.offsets import parse_offset, resolve

if TYPE_CHECKING:
    from workflows.spec import TemplateSpec


@dataclass
class PlannedTask:
    number: int
    code: str
    title: str
    title_en: str
    phase: str
    lead: str
    supporting: list[str]
    depends_on: list[str]
    evidence_kinds: list[str]
    offset: str
    deadline: datetime  # aware UTC
    is_cue: bool
    reminders: dict[str, Any] | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def parse_clock(text: str) -> time:
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def deadline_for(offset_text: str, start: datetime, tz: ZoneInfo, default_due_time: time) -> datetime:
    """The absolute (UTC) deadline of `offset_text` for an event starting at `start`."""
    local_start = start.astimezone(tz)
    return resolve(parse_offset(offset_text), local_start, default_due_time).astimezone(timezone.utc)


def plan_tasks(template: TemplateSpec, start: datetime) -> list[PlannedTask]:
    """Every duty of `template` as a task of an event starting at `start` (aware)."""
    tz = ZoneInfo(template.timezone)
    tasks = []
    for number, duty in enumerate(template.duties, start=1):
        overrides = duty.reminders.model_dump(exclude_none=True) if duty.reminders else None
        tasks.append(
            PlannedTask(
                number=number,
                code=duty.code,
                title=duty.title,
                title_en=duty.title_en or duty.title,
                phase=duty.phase,
                lead=duty.lead,
                supporting=list(duty.supporting),
                depends_on=list(duty.depends_on),
                evidence_kinds=list(duty.evidence),
                offset=duty.due,
                deadline=deadline_for(duty.due, start, tz, template.default_due_time),
                is_cue=duty.cue,
                reminders=overrides or None,
                note=duty.note,
            )
        )
    return tasks
