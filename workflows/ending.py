"""Ending an event: it is marked ended, its reminders stop, and the audit trail says who ended it.

A coordinator ends an event (`/ketthuc`, confirmed by a button); an event nobody ends ends by
itself `AUTO_END_AFTER` its last deadline (`due_to_end`, checked with the daily digest). What
the bot does next (the after-action report to every coordinator) reads the ended event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from workflows.access import require_staff
from workflows.errors import DutyError
from workflows.ports import Ctx, EventRecord, Store
from workflows.reminders import KINDS

# An event with no explicit end ends this long after its last deadline.
AUTO_END_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Ended:
    event: EventRecord
    at: datetime
    stopped: int  # tasks that were still to be chased


def end_event(store: Store, ctx: Ctx, event: EventRecord) -> Ended | None:
    """Mark `event` ended now and stop chasing its tasks; None when it had already ended."""
    require_staff(ctx.actor)
    if event.ended_at is not None:
        return None
    event.ended_at = ctx.now
    stopped = 0
    for t in store.tasks(event.id):
        stopped += t.next_reminder_at is not None
        t.next_reminder_at = None  # an ended event is no longer chased
    # Queued but unsent assignments and reminders go nowhere either ("every reminder stops"): each
    # would carry buttons that are all refused now. Answers and the coordinators' news still go.
    store.cancel_task_messages(event.id, (*KINDS, "assignment", "unblocked", "catch_up"), ctx.now)
    store.audit(event_id=event.id, task_id=None, ctx=ctx, action="event_ended", detail={})
    return Ended(event, ctx.now, stopped)


def refuse_reminder_after_end(event: EventRecord | None) -> None:
    """A manual reminder (/nhac, the board's button) for an ended event: refused, since every
    button it carries would be refused and nothing is chased any more."""
    if event is not None and event.ended_at is not None:
        raise DutyError("ended_no_reminder", event=event.id)


def due_to_end(store: Store, now: datetime) -> list[EventRecord]:
    """Launched events still running whose last deadline passed `AUTO_END_AFTER` before `now`."""
    due = []
    for event in store.list_events():
        if event.launched_at is None or event.ended_at is not None:
            continue
        tasks = store.tasks(event.id)
        if tasks and max(t.deadline for t in tasks) + AUTO_END_AFTER < now:
            due.append(event)
    return due
