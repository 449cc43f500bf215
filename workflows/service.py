"""Task use cases: report status, change deadlines, reassign, extensions, evidence.

Each function works inside the caller's transaction (`store`), checks access first, writes
the change and its audit row, and returns the notices the change causes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workflows.access import is_staff, require_staff, require_update
from workflows.errors import DutyError, TransitionError
from workflows.ports import AuditRecord, Ctx, ExtensionRecord, NewEvidence, NewExtension, Notice, Store, TaskRecord
from workflows.quota import mib
from workflows.states import CLOSED, TaskStatus, check_transition, dependency_met

REPORT_KINDS = ("ack", "progress", "done", "blocked", "unblocked")
_TARGET = {
    "ack": TaskStatus.ACKNOWLEDGED,
    "progress": TaskStatus.IN_PROGRESS,
    "done": TaskStatus.DONE,
    "blocked": TaskStatus.BLOCKED,
    "unblocked": TaskStatus.IN_PROGRESS,
}


@dataclass
class Result:
    task: TaskRecord
    notices: list[Notice] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    audit_id: int | None = None  # the audit entry written: what the undo button names


def _task(store: Store, task_id: int | None) -> TaskRecord:
    """The task (row-locked) a request or an audit entry names; it exists (foreign keys)."""
    task = store.task(task_id, lock=True) if task_id is not None else None
    if task is None:
        raise DutyError("unknown_task", ref=str(task_id))
    return task


def _task_params(task: TaskRecord) -> dict[str, Any]:
    return {"code": task.code, "number": task.number, "title": task.title, "title_en": task.title_en, "lead": task.lead}


def _require_running(store: Store, task: TaskRecord) -> None:
    """An ended event's record is final: a late status change would change what its after-action report said."""
    event = store.get_event(task.event_id)
    if event is not None and event.ended_at is not None:
        raise DutyError("event_ended", code=task.code, event=task.event_id)


def _require_open_record(store: Store, task: TaskRecord) -> None:
    """A coordinator's change (deadline, cancel, reassign, extension) to an ended event's task would
    rewrite its after-action report just the same: refused, in words for the organisers themselves."""
    event = store.get_event(task.event_id)
    if event is not None and event.ended_at is not None:
        raise DutyError("event_final", event=task.event_id)


def check_report(store: Store, ctx: Ctx, task: TaskRecord, kind: str) -> None:
    """Raise the DutyError `report` would for `kind` on `task` as it stands, changing nothing: a
    button that asks first ("how many percent?", "what blocks it?") checks before it asks."""
    if kind not in REPORT_KINDS:
        raise ValueError(kind)
    require_update(ctx.actor, task.lead)
    _require_running(store, task)
    try:
        check_transition(task.status, _TARGET[kind], by_coordinator=is_staff(ctx.actor))
    except TransitionError as exc:
        raise DutyError(exc.code, code=task.code, status=task.status) from None


def report(
    store: Store,
    ctx: Ctx,
    task: TaskRecord,
    kind: str,
    *,
    percent: int | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> Result:
    """A contact (or coordinator) reports on `task`: ack, progress, done, blocked, unblocked."""
    if kind not in REPORT_KINDS:
        raise ValueError(kind)
    require_update(ctx.actor, task.lead)
    _require_running(store, task)
    target = _TARGET[kind]
    if percent is not None and not 0 <= percent <= 100:
        raise DutyError("bad_percent", value=percent)
    if kind == "progress" and percent is not None and percent >= 100:
        target, percent = TaskStatus.DONE, 100
    if kind == "blocked" and not (reason or "").strip():
        raise DutyError("reason_required")
    try:
        check_transition(task.status, target, by_coordinator=is_staff(ctx.actor))
    except TransitionError as exc:
        raise DutyError(exc.code, code=task.code, status=task.status) from None

    was_status, was_percent, was_reason, was_completed = (
        task.status,
        task.percent,
        task.blocked_reason,
        task.completed_at,
    )
    task.status = target
    if target == "done":
        task.percent, task.completed_at = 100, ctx.now
    elif percent is not None:
        task.percent = percent
    if target == "acknowledged" or (task.acknowledged_at is None and target != "todo"):
        task.acknowledged_at = task.acknowledged_at or ctx.now
    task.blocked_reason = reason.strip() if reason is not None and target == "blocked" else None
    if target != "done":
        task.completed_at = None
    task.updated_at, task.version, task.next_reminder_at = ctx.now, task.version + 1, ctx.now
    detail: dict[str, Any] = {
        "from": str(was_status),
        "to": str(target),
        "percent": task.percent,
        "prev_percent": was_percent,
        "prev_reason": was_reason,
        "prev_completed_at": was_completed.isoformat() if was_completed else None,
    }
    if reason:
        detail["reason"] = reason.strip()
    if note:
        detail["note"] = note.strip()
    entry = store.audit(event_id=task.event_id, task_id=task.id, ctx=ctx, action="status", detail=detail)

    notices: list[Notice] = []
    if not is_staff(ctx.actor):
        notices.append(
            Notice(
                key="news_status",
                to="coordinators",
                task_id=task.id,
                kind="news",
                urgent=target == "blocked",
                params={
                    **_task_params(task),
                    "status": target,
                    "percent": task.percent,
                    "reason": task.blocked_reason or "",
                    "actor": ctx.actor.name,
                    "note": (note or "").strip(),
                },
            )
        )
    if target == "done":
        notices += _unblocked_notices(store, task)
    return Result(task, notices, detail, audit_id=entry)


UNDO_WINDOW = timedelta(minutes=5)


def undo(store: Store, ctx: Ctx, entry: AuditRecord) -> Result:
    """Take back one's own last status change, within a few minutes, if nothing changed since."""
    task = _task(store, entry.task_id)
    _require_running(store, task)
    later = [e for e in store.history(task.id) if e.action in ("status", "undo") and e.id > entry.id]
    if entry.action == "status" and entry.actor_id != ctx.actor.id:  # not "too late": never theirs to take back
        raise DutyError("undo_not_yours", code=task.code)
    if entry.action != "status" or later or ctx.now - entry.at > UNDO_WINDOW or task.status != entry.detail.get("to"):
        raise DutyError("undo_expired", code=task.code)
    d = entry.detail
    task.status, task.percent = TaskStatus(d["from"]), d.get("prev_percent", 0)
    task.blocked_reason = d.get("prev_reason")
    prev_done = d.get("prev_completed_at")
    task.completed_at = datetime.fromisoformat(prev_done) if prev_done else None
    task.updated_at, task.version, task.next_reminder_at = ctx.now, task.version + 1, ctx.now
    detail = {"undone": entry.id, "from": d.get("to"), "to": d["from"]}
    store.audit(event_id=task.event_id, task_id=task.id, ctx=ctx, action="undo", detail=detail)
    notice = Notice(
        key="news_undo",
        to="coordinators",
        task_id=task.id,
        kind="news",
        params={**_task_params(task), "status": task.status, "actor": ctx.actor.name},
    )
    notices = [notice] if not is_staff(ctx.actor) else []
    if d.get("to") == TaskStatus.DONE:  # who heard "you can start" from this done hears it was taken back
        notices += _waiting_again_notices(store, task, entry.id, "waiting_again")
    return Result(task, notices, detail)


def _waiting_again_notices(store: Store, undone: TaskRecord, entry_id: int, key: str) -> list[Notice]:
    """The reverse of `_unblocked_notices`: tasks this one's done (or cancellation) had freed wait for it again."""
    tasks = store.tasks(undone.event_id)
    met = {t.code for t in tasks if dependency_met(t.status) and t.code != undone.code}
    out: list[Notice] = []
    for t in tasks:
        deps = set(t.depends_on or [])
        if undone.code in deps and t.status not in CLOSED and deps - {undone.code} <= met:
            for agency in dict.fromkeys([t.lead, *(t.supporting or [])]):
                out.append(
                    Notice(
                        key=key,
                        to="agency",
                        agency=agency,
                        task_id=t.id,
                        kind="news",
                        params={**_task_params(t), "dep": undone.code},
                        dedupe_key=f"waiting_again:{t.id}:{agency}:{entry_id}",
                    )
                )
    return out


def _unblocked_notices(store: Store, done_task: TaskRecord) -> list[Notice]:
    """'You can start now' for every task whose last dependency just finished."""
    tasks = store.tasks(done_task.event_id)
    done = {t.code for t in tasks if dependency_met(t.status)} | {done_task.code}
    out: list[Notice] = []
    # Once per finishing change (the task's version), not once ever: a done that was undone and then
    # reported again must be heard again (`_waiting_again_notices` told them to wait meanwhile).
    once = f"{done_task.code}:{done_task.version}"
    for t in tasks:
        if done_task.code in (t.depends_on or []) and t.status not in CLOSED and set(t.depends_on) <= done:
            out.append(
                Notice(
                    key="unblocked",
                    to="agency",
                    agency=t.lead,
                    task_id=t.id,
                    kind="unblocked",
                    params=_task_params(t),
                    dedupe_key=f"unblocked:{t.id}:{once}",
                )
            )
            for agency in t.supporting or []:  # the agencies helping hear it too, marked as such
                if agency != t.lead:
                    out.append(
                        Notice(
                            key="unblocked_supporting",
                            to="agency",
                            agency=agency,
                            task_id=t.id,
                            kind="news",
                            params=_task_params(t),
                            dedupe_key=f"unblocked:{t.id}:{agency}:{once}",
                        )
                    )
    return out


def set_deadline(
    store: Store, ctx: Ctx, task: TaskRecord, when: datetime, reason: str = "", *, allow_past: bool = False
) -> Result:
    """A coordinator sets a deadline by hand; it then stays put when the event moves."""
    require_staff(ctx.actor)
    _require_open_record(store, task)
    if task.status in CLOSED:  # a done task's deadline decides "on time" in the reports: not rewritten after
        raise DutyError("closed", code=task.code, status=task.status)
    if not allow_past and when < ctx.now:
        raise DutyError("in_past", when=when)
    old = task.deadline
    task.deadline, task.deadline_manual = when, True
    task.updated_at, task.version, task.next_reminder_at = ctx.now, task.version + 1, ctx.now
    detail = {"from": old.isoformat(), "to": when.isoformat(), "reason": reason}
    store.audit(event_id=task.event_id, task_id=task.id, ctx=ctx, action="deadline", detail=detail)
    notice = Notice(
        key="deadline_changed",
        to="agency",
        agency=task.lead,
        task_id=task.id,
        kind="news",
        params={**_task_params(task), "deadline": when, "reason": reason},
    )
    return Result(task, [notice], detail)


def reassign(store: Store, ctx: Ctx, task: TaskRecord, agency_code: str) -> Result:
    """Move a task to another lead agency; both agencies are told."""
    require_staff(ctx.actor)
    _require_open_record(store, task)
    agency_code = agency_code.upper()
    if store.agency(agency_code) is None:
        raise DutyError("unknown_agency", agency=agency_code)
    old = task.lead
    if old == agency_code:
        raise DutyError("same_agency", agency=agency_code)
    if task.status in CLOSED:
        raise DutyError("closed", code=task.code, status=task.status)
    detail = {
        "from": old,
        "to": agency_code,
        "prev_status": task.status,
        "prev_reason": task.blocked_reason,
        "prev_supporting": list(task.supporting or []),
    }
    # The new lead is no longer a supporting agency, and starts afresh: the old agency's
    # blocker and acknowledgement were theirs, not the new lead's.
    task.supporting = [a for a in task.supporting or [] if a != agency_code]
    if task.status in (TaskStatus.ACKNOWLEDGED, TaskStatus.BLOCKED):
        task.status = TaskStatus.IN_PROGRESS if task.percent else TaskStatus.TODO
    task.blocked_reason, task.acknowledged_at = None, None
    task.lead, task.updated_at, task.version = agency_code, ctx.now, task.version + 1
    task.next_reminder_at = ctx.now
    store.audit(event_id=task.event_id, task_id=task.id, ctx=ctx, action="reassign", detail=detail)
    params = _task_params(task)
    return Result(
        task,
        [
            Notice(
                key="reassigned_away",
                to="agency",
                agency=old,
                task_id=task.id,
                kind="news",
                params={**params, "to_agency": agency_code},
            ),
            Notice(
                key="assignment",
                to="agency",
                agency=agency_code,
                task_id=task.id,
                kind="assignment",
                with_buttons=True,
                params={**params, "deadline": task.deadline},
            ),
        ],
        detail,
    )


def request_extension(store: Store, ctx: Ctx, task: TaskRecord, when: datetime, reason: str) -> Result:
    """A contact asks for a later deadline; a coordinator approves or rejects it."""
    require_update(ctx.actor, task.lead)
    _require_running(store, task)
    if task.status in CLOSED:
        raise DutyError("closed", code=task.code, status=task.status)
    if not reason.strip():
        raise DutyError("reason_required")
    if when <= task.deadline:
        raise DutyError("extension_not_later", code=task.code, deadline=task.deadline)
    if when < ctx.now:  # an overdue task's "later" date may still be gone
        raise DutyError("in_past", when=when)
    req = store.add_extension(
        NewExtension(
            task_id=task.id,
            requested_by=ctx.actor.id,
            requested_deadline=when,
            previous_deadline=task.deadline,
            reason=reason.strip(),
            created_at=ctx.now,
        )
    )
    detail = {"request": req.id, "to": when.isoformat(), "reason": reason.strip()}
    store.audit(event_id=task.event_id, task_id=task.id, ctx=ctx, action="extension_requested", detail=detail)
    notice = Notice(
        key="extension_requested",
        to="coordinators",
        task_id=task.id,
        kind="news",
        params={
            **_task_params(task),
            "request": req.id,
            "deadline": when,
            "reason": reason.strip(),
            "actor": ctx.actor.name,
        },
    )
    return Result(task, [notice], detail)


def decide_extension(store: Store, ctx: Ctx, request: ExtensionRecord, approve: bool, reason: str = "") -> Result:
    """Approve (the deadline moves, the original stays for statistics) or reject a request (why: to the contact)."""
    require_staff(ctx.actor)
    if request.status != "pending":
        raise DutyError("request_decided", request=request.id, status=request.status)
    task = _task(store, request.task_id)
    if approve:  # a rejection changes no deadline: it still closes a request left open at the end
        _require_open_record(store, task)
    request.status = "approved" if approve else "rejected"
    request.decided_by, request.decided_at = ctx.actor.id, ctx.now
    if approve:
        task.deadline, task.deadline_manual = request.requested_deadline, True
        task.updated_at, task.version, task.next_reminder_at = ctx.now, task.version + 1, ctx.now
    detail = {"request": request.id, "to": request.requested_deadline.isoformat()}
    if reason.strip():
        detail["reason"] = reason.strip()
    store.audit(
        event_id=task.event_id,
        task_id=task.id,
        ctx=ctx,
        action="extension_approved" if approve else "extension_rejected",
        detail=detail,
    )
    notice = Notice(
        key="extension_approved" if approve else "extension_rejected",
        to="agency",
        agency=task.lead,
        task_id=task.id,
        kind="news",
        params={**_task_params(task), "deadline": request.requested_deadline, "reason": reason.strip() or "—"},
    )
    return Result(task, [notice], detail)


def attach_evidence(
    store: Store,
    ctx: Ctx,
    task: TaskRecord,
    *,
    kind: str,
    size: int,
    max_bytes: int,
    data: bytes | None = None,
    filename: str = "",
    mime: str = "",
    caption: str = "",
    external_ref: str = "",
) -> Result:
    """Attach a photo/document/link to a task, within the configured size limit."""
    require_update(ctx.actor, task.lead)
    if size > max_bytes:
        raise DutyError("evidence_too_large", size=mib(size), limit=mib(max_bytes))
    ev = store.add_evidence(
        NewEvidence(
            task_id=task.id,
            kind=kind,
            filename=filename,
            mime=mime,
            size=size,
            data=data,
            caption=caption,
            external_ref=external_ref,
            user_id=ctx.actor.id,
            channel=ctx.channel,
            at=ctx.now,
        )
    )
    detail = {"evidence": ev.id, "kind": kind, "size": size, "filename": filename}
    store.audit(event_id=task.event_id, task_id=task.id, ctx=ctx, action="evidence", detail=detail)
    notice = Notice(
        key="news_evidence",
        to="coordinators",
        task_id=task.id,
        kind="news",
        params={**_task_params(task), "kind": kind, "actor": ctx.actor.name},
    )
    return Result(task, [notice] if not is_staff(ctx.actor) else [], detail)


def cancel(store: Store, ctx: Ctx, task: TaskRecord, reason: str) -> Result:
    """A coordinator cancels a task: no more reminders, not overdue, shown as cancelled; the lead is told."""
    require_staff(ctx.actor)
    _require_open_record(store, task)
    if not (reason or "").strip():
        raise DutyError("reason_required")
    if task.status == TaskStatus.CANCELLED:
        raise DutyError("already_cancelled", code=task.code)
    if task.status in CLOSED:
        raise DutyError("closed", code=task.code, status=task.status)
    detail = {"from": str(task.status), "to": "cancelled", "reason": reason.strip(), "prev_reason": task.blocked_reason}
    task.status, task.blocked_reason = TaskStatus.CANCELLED, None
    task.updated_at, task.version, task.next_reminder_at = ctx.now, task.version + 1, ctx.now
    store.audit(event_id=task.event_id, task_id=task.id, ctx=ctx, action="cancelled", detail=detail)
    notice = Notice(
        key="task_cancelled",
        to="agency",
        agency=task.lead,
        task_id=task.id,
        kind="news",
        params={**_task_params(task), "reason": reason.strip()},
    )
    # A cancelled task holds nothing back (states.dependency_met): who waited only on it can start.
    return Result(task, [notice, *_unblocked_notices(store, task)], detail)


def restore(store: Store, ctx: Ctx, task: TaskRecord) -> Result:
    """Undo a cancellation: the task comes back as it was (status, blocker), and is chased again."""
    require_staff(ctx.actor)
    _require_open_record(store, task)
    if task.status != TaskStatus.CANCELLED:
        raise DutyError("not_cancelled", code=task.code, status=task.status)
    last = next((e for e in reversed(store.history(task.id)) if e.action == "cancelled"), None)
    before = (last.detail or {}) if last is not None else {}
    was = before.get("from")
    status = TaskStatus(was) if was in ("todo", "acknowledged", "in_progress", "blocked") else TaskStatus.TODO
    if status == TaskStatus.BLOCKED and not before.get("prev_reason"):
        status = TaskStatus.IN_PROGRESS
    task.status = status
    task.blocked_reason = before.get("prev_reason") if status == TaskStatus.BLOCKED else None
    task.updated_at, task.version, task.next_reminder_at = ctx.now, task.version + 1, ctx.now
    detail = {"from": "cancelled", "to": str(status)}
    entry = store.audit(event_id=task.event_id, task_id=task.id, ctx=ctx, action="restored", detail=detail)
    notice = Notice(
        key="task_restored",
        to="agency",
        agency=task.lead,
        task_id=task.id,
        kind="assignment",
        with_buttons=True,
        params={**_task_params(task), "deadline": task.deadline},
    )
    # Cancelling told the tasks waiting only on it that they could start; they wait for it again.
    return Result(task, [notice, *_waiting_again_notices(store, task, entry, "waiting_again_restored")], detail)
