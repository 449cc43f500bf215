"""Event use cases: create from a template, launch, move."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from workflows.access import require_staff
from workflows.errors import DutyError
from workflows.plan import deadline_for, plan_tasks
from workflows.ports import Ctx, EventRecord, NewEvent, Notice, Store, TaskRecord
from workflows.spec import TemplateSpec
from workflows.states import CLOSED


def require_future(when: datetime, now: datetime) -> None:
    """A start or deadline being set must not be in the past (the CLI's --allow-past skips this)."""
    if when < now:
        raise DutyError("in_past", when=when)


def create_event(
    store: Store, ctx: Ctx, template: TemplateSpec, start: datetime, name: str | None, *, allow_past: bool = False
) -> EventRecord:
    """Instantiate `template` at `start` (aware); agencies are upserted by code."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if not allow_past:
        require_future(start, ctx.now)
    for agency in template.agencies:
        store.upsert_agency(agency.code, agency.name, agency.name_en)
    event = store.add_event(
        NewEvent(
            name=name or template.name,
            template_id=template.id,
            template_path=str(template.path),
            timezone=template.timezone,
            start=start,
            created_at=ctx.now,
            default_due_time=template.default_due_time.strftime("%H:%M"),
            reminders=template.reminders.model_dump(exclude_none=True) if template.reminders else None,
        )
    )
    store.add_tasks(event.id, plan_tasks(template, start), ctx.now)
    store.audit(
        event_id=event.id,
        task_id=None,
        ctx=ctx,
        action="event_created",
        detail={"template": template.id, "start": start.isoformat(), "tasks": len(template.duties)},
    )
    return event


def launch_event(store: Store, ctx: Ctx, event: EventRecord) -> list[Notice]:
    """Mark the event launched; every agency gets a summary and one message per open task it
    leads, and each task it supports (marked as supporting, without status buttons)."""
    require_staff(ctx.actor)
    if event.launched_at is not None:
        raise DutyError("already_launched", event=event.id)
    event.launched_at = ctx.now
    tasks = [t for t in store.tasks(event.id) if t.status not in CLOSED]
    for t in tasks:
        t.next_reminder_at = ctx.now  # the reminder pass plans each task from launch on
    agencies = sorted({t.lead for t in tasks} | {a for t in tasks for a in (t.supporting or [])})
    notices: list[Notice] = []
    for agency in agencies:
        notices += agency_notices(event, tasks, agency)
    store.audit(
        event_id=event.id,
        task_id=None,
        ctx=ctx,
        action="event_launched",
        detail={"tasks": len(tasks), "agencies": len({t.lead for t in tasks})},
    )
    return notices


def agency_notices(
    event: EventRecord, tasks: Sequence[TaskRecord], agency: str, *, user_id: int | None = None
) -> list[Notice]:
    """What an agency's contact is sent about a launched event: a summary, one message per open
    task it leads (with buttons), one per task it supports (marked, no buttons). To the agency's
    contact at launch; to `user_id` alone when someone joins the agency later (same dedupe keys,
    so nobody gets a message twice)."""
    open_tasks = [t for t in tasks if t.status not in CLOSED]
    lead = sorted((t for t in open_tasks if t.lead == agency), key=lambda t: t.deadline)
    helping = sorted(
        (t for t in open_tasks if agency in (t.supporting or []) and t.lead != agency), key=lambda t: t.deadline
    )
    if not lead and not helping:
        return []
    to = "user" if user_id is not None else "agency"
    first = (lead or helping)[0]
    key = "launch_summary_both" if lead and helping else "launch_summary" if lead else "launch_summary_supporting"
    notices = [
        Notice(
            key=key,
            agency=agency,
            kind="assignment",
            dedupe_key=f"launch:{event.id}:{agency}",
            params={
                "event": event.name,
                "count": len(lead),
                "supporting": len(helping),
                "first_code": first.code,
                "first_deadline": first.deadline,
            },
            to=to,
            user_id=user_id,
        )
    ]
    for t in lead:
        notices.append(
            Notice(
                key="assignment",
                agency=agency,
                task_id=t.id,
                kind="assignment",
                with_buttons=True,
                dedupe_key=f"assign:{t.id}",
                params={
                    "code": t.code,
                    "number": t.number,
                    "title": t.title,
                    "title_en": t.title_en,
                    "deadline": t.deadline,
                    "lead": t.lead,
                },
                to=to,
                user_id=user_id,
            )
        )
    for t in helping:
        notices.append(
            Notice(
                key="assignment_supporting",
                agency=agency,
                task_id=t.id,
                kind="assignment",
                dedupe_key=f"support:{t.id}:{agency}",
                params={
                    "code": t.code,
                    "number": t.number,
                    "title": t.title,
                    "title_en": t.title_en,
                    "deadline": t.deadline,
                    "lead": t.lead,
                },
                to=to,
                user_id=user_id,
            )
        )
    return notices


def agencies_without_contact(store: Store, event: EventRecord) -> list[str]:
    """Agencies with open tasks in `event` (leading or supporting) that nobody represents yet."""
    tasks = [t for t in store.tasks(event.id) if t.status not in CLOSED]
    needed = {t.lead for t in tasks} | {a for t in tasks for a in (t.supporting or [])}
    return sorted(a for a in needed if not store.contacts_of(a))


def move_event(
    store: Store, ctx: Ctx, event: EventRecord, new_start: datetime, *, allow_past: bool = False
) -> tuple[int, int]:
    """Move the event; deadlines set by hand stay. Returns (moved, kept) task counts."""
    require_staff(ctx.actor)
    if event.ended_at is not None:  # its deadlines are the record the after-action report was made from
        raise DutyError("event_final", event=event.id)
    if not allow_past:
        require_future(new_start, ctx.now)
    if new_start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    tz = ZoneInfo(event.timezone)
    hh, mm = (int(x) for x in event.default_due_time.split(":"))
    old_start, event.start = event.start, new_start
    moved = kept = 0
    for t in store.tasks(event.id):
        planned = deadline_for(t.offset, new_start, tz, time(hh, mm))
        t.original_deadline = planned
        if event.launched_at is not None:
            t.next_reminder_at = ctx.now
        if t.deadline_manual:
            kept += 1
            continue
        if t.deadline != planned:
            old, t.deadline = t.deadline, planned
            t.updated_at, t.version = ctx.now, t.version + 1
            store.audit(
                event_id=event.id,
                task_id=t.id,
                ctx=ctx,
                action="deadline_moved",
                detail={"from": old.isoformat(), "to": planned.isoformat()},
            )
            moved += 1
    store.audit(
        event_id=event.id,
        task_id=None,
        ctx=ctx,
        action="event_moved",
        detail={"from": old_start.isoformat(), "to": new_start.isoformat(), "moved": moved, "kept": kept},
    )
    return moved, kept
