"""The reminder pass: due slots -> notices, once per (task, slot), with the database as the truth.

Only tasks whose `next_reminder_at` has come are read, so a pass costs what is due, not
what exists. Any change to a task sets its `next_reminder_at` to "now" (`touch`), and the
next pass recomputes it from the policy; the scheduler only decides when to look next.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflows.ports import EventRecord, Notice, Store, TaskRecord
from workflows.reminders import Policy, Slot, TaskState, due_slots, format_duration, next_due, slots_for
from workflows.states import CLOSED, dependency_met

# A slot that should have gone out this much earlier was missed (downtime): it is marked late,
# and several late ones for one agency are folded into one catch-up message.
LATE_AFTER = timedelta(minutes=10)
_TO = {"contact": "agency", "deputy": "deputies", "coordinator": "coordinators"}
_CONTACT_KINDS = {"ack_request", "reminder", "due", "overdue", "cue", "checkin"}


@dataclass
class PassResult:
    tasks_seen: int = 0
    slots: int = 0
    notices: list[Notice] = field(default_factory=list)
    late: int = 0


def task_state(
    task: TaskRecord, event: EventRecord, policy: Policy, statuses: dict[str, str], last_report_at: datetime | None
) -> TaskState:
    waiting = tuple(c for c in task.depends_on or [] if not dependency_met(statuses.get(c)))
    return TaskState(
        id=task.id,
        code=task.code,
        lead=task.lead,
        status=task.status,
        deadline=task.deadline,
        is_cue=task.is_cue,
        launched_at=event.launched_at,
        acknowledged_at=task.acknowledged_at,
        last_report_at=last_report_at,
        waiting_on=waiting,
        policy=policy,
    )


def policy_for(base: Policy, event: EventRecord, task: TaskRecord) -> Policy:
    """config.toml, then the template's [reminders], then the duty's own overrides."""
    return base.merged(event.reminders).merged(task.reminders)


def touch(task: TaskRecord, now: datetime) -> None:
    """Ask the next pass to look at this task again (its slots may have changed)."""
    task.next_reminder_at = now


def slot_notice(task: TaskRecord, slot: Slot, *, late: bool) -> Notice:
    reason = slot.params.get("reason", "overdue") if slot.kind == "escalation" else None
    key = f"slot.{slot.kind}" + (f"_{reason}" if reason else "")
    params: dict[str, Any] = {
        "code": task.code,
        "number": task.number,
        "title": task.title,
        "title_en": task.title_en,
        "deadline": task.deadline,
        "lead": task.lead,
        "late": late,
        "waiting_on": ", ".join(slot.params.get("waiting_on", [])),
        **{k: v for k, v in slot.params.items() if k in ("before", "overdue_days")},
    }
    return Notice(
        key=key,
        to=_TO[slot.recipient],
        agency=task.lead,
        task_id=task.id,
        kind=slot.kind,
        urgent=slot.urgent or slot.kind == "escalation",
        params=params,
        dedupe_key=f"slot:{task.id}:{slot.key}",
        with_buttons=slot.kind in _CONTACT_KINDS,
    )


def run_pass(store: Store, now: datetime, base: Policy, tz: ZoneInfo, *, limit: int = 5000) -> PassResult:
    """Turn every due slot into notices (recording the slot), and re-plan the tasks read."""
    result = PassResult()
    tasks = store.tasks_due_for_reminders(now, limit)
    events: dict[int, EventRecord | None] = {}
    statuses: dict[int, dict[str, str]] = {}
    needed: dict[int, set[str]] = defaultdict(set)
    for task in tasks:  # only the dependencies of due tasks, not every task of the event
        needed[task.event_id].update(task.depends_on or [])
    late_by_agency: dict[str, list[tuple[TaskRecord, Slot]]] = defaultdict(list)
    open_ids = [t.id for t in tasks if t.status not in CLOSED]
    # Read for all the pass's tasks at once (one query each, not one per task).
    reports = store.last_reports_of(open_ids)
    slot_sets = store.slot_keys_of(open_ids)
    for task in tasks:
        result.tasks_seen += 1
        if task.event_id not in events:
            events[task.event_id] = store.get_event(task.event_id)
            statuses[task.event_id] = store.task_statuses(task.event_id, needed[task.event_id])
        event = events[task.event_id]
        if task.status in CLOSED or event is None or event.launched_at is None or event.ended_at is not None:
            task.next_reminder_at = None
            continue
        state = task_state(task, event, policy_for(base, event, task), statuses[task.event_id], reports[task.id])
        sent = slot_sets[task.id]
        for slot in due_slots(state, now, sent, tz):
            late = slot.send_at < now - LATE_AFTER
            sent = sent | {slot.key}
            # Another pass (another instance) may have recorded it a moment ago: then it is theirs.
            if not store.record_slot(task_id=task.id, key=slot.key, kind=slot.kind, at=slot.at, now=now, late=late):
                continue
            result.slots += 1
            if late and slot.recipient == "contact":
                late_by_agency[task.lead].append((task, slot))
            else:
                result.notices.append(slot_notice(task, slot, late=late))
        task.next_reminder_at = next_due(state, now, sent, tz)
    for agency, items in late_by_agency.items():
        result.late += len(items)
        if len(items) == 1:
            task, slot = items[0]
            result.notices.append(slot_notice(task, slot, late=True))
            continue
        codes = sorted({t.code for t, _ in items})
        digest = hashlib.sha256("|".join(sorted(f"{t.id}/{s.key}" for t, s in items)).encode()).hexdigest()[:24]
        result.notices.append(
            Notice(
                key="slot.catch_up",
                to="agency",
                agency=agency,
                kind="catch_up",
                dedupe_key=f"catchup:{agency}:{digest}",
                params={"count": len(items), "codes": ", ".join(codes)},
            )
        )
    return result


def timeline(
    tasks: Sequence[TaskRecord], event: EventRecord, base: Policy, tz: ZoneInfo, *, until: datetime
) -> list[tuple[TaskRecord, Slot]]:
    """Every slot the engine would send if nobody answered, in time order (preview/simulate)."""
    statuses: dict[str, str] = {t.code: t.status for t in tasks}
    out: list[tuple[TaskRecord, Slot]] = []
    for t in tasks:
        if t.status in CLOSED:
            continue
        state = task_state(t, event, policy_for(base, event, t), statuses, None)
        out += [(t, s) for s in slots_for(state, tz, until=until)]
    out.sort(key=lambda pair: (pair[1].send_at, pair[0].number, pair[1].key))
    return out


def describe(slot: Slot) -> str:
    bits = [slot.kind]
    if "before" in slot.params:
        bits.append(str(slot.params["before"]))
    if "overdue_days" in slot.params:
        bits.append(f"+{slot.params['overdue_days']}d")
    return " ".join(bits)


__all__ = ["run_pass", "timeline", "touch", "policy_for", "task_state", "slot_notice", "describe", "format_duration"]
