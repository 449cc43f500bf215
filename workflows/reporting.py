"""A contact's status report on a task: the one use case behind `/xong CB-05`, the task buttons
(Đã nhận / Đang làm / Xong / Vướng) and an understood free-text reply ("xong rồi", "được 70%").

Every way in reports through `report_status`, so they cannot drift apart: the same checks, the
same audit entry (which the undo button names), the same notices, and the same view of the
tasks it depends on for the answer's "waiting for …" line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workflows import service
from workflows.ports import Ctx, Notice, Store, TaskRecord


@dataclass(frozen=True)
class StatusReport:
    """What a report changed, for the bot layer to enqueue and render."""

    task: TaskRecord  # the task after the change
    undo_entry: int  # the audit entry written: the undo button takes back exactly this change
    notices: list[Notice] = field(default_factory=list)
    dependencies: dict[str, TaskRecord] = field(default_factory=dict)  # the tasks it depends on, by code


def report_status(
    store: Store,
    ctx: Ctx,
    task: TaskRecord,
    kind: str,
    *,
    percent: int | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> StatusReport:
    """Report `kind` (ack, progress, done, blocked, unblocked) on `task` (locked by the caller)."""
    result = service.report(store, ctx, task, kind, percent=percent, reason=reason, note=note)
    assert result.audit_id is not None  # service.report always writes its audit entry
    deps = {d.code: d for d in store.tasks_by_codes(task.event_id, task.depends_on or [])}
    return StatusReport(result.task, result.audit_id, result.notices, deps)


def check_report_status(store: Store, ctx: Ctx, task: TaskRecord, kind: str) -> None:
    """Refuse now (DutyError) what `report_status` would refuse, before asking for a percent or a reason."""
    service.check_report(store, ctx, task, kind)
