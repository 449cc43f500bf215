"""What the reminder pass reads and records: due tasks, sent slots, last reports (part of SqlStore)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from storage.models import AuditEntry, ReminderSlot, Task, table
from storage.repo_base import Repo


class ReminderRepo(Repo):
    def tasks_due_for_reminders(self, now: datetime, limit: int) -> list[Task]:
        due = col(Task.next_reminder_at)
        q = select(Task).where(due.is_not(None), due <= now).order_by(due).limit(limit)
        return list(self.s.exec(q))

    def record_slot(self, *, task_id: int, key: str, kind: str, at: datetime, now: datetime, late: bool) -> bool:
        """Record a sent reminder slot once; False when it was already recorded (no error)."""
        dialect = self.s.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        slots = table(ReminderSlot)
        stmt = insert(slots).values(task_id=task_id, key=key, kind=kind, at=at, created_at=now, late=late)
        # RETURNING tells reliably whether a row went in (rowcount is -1 with RETURNING on psycopg).
        res = self.s.connection().execute(
            stmt.on_conflict_do_nothing(index_elements=["task_id", "key"]).returning(slots.c.id)
        )
        return res.first() is not None

    def next_reminder_moment(self) -> datetime | None:
        return self.s.exec(select(func.min(Task.next_reminder_at))).one()

    def slot_keys(self, task_id: int) -> frozenset[str]:
        return frozenset(self.s.exec(select(ReminderSlot.key).where(ReminderSlot.task_id == task_id)))

    def slot_keys_of(self, task_ids: Iterable[int]) -> dict[int, frozenset[str]]:
        """`slot_keys` for many tasks in one query (a reminder pass reads them for every task)."""
        ids, out = list(task_ids), dict[int, set[str]]()
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            for task_id, key in self.s.exec(
                select(ReminderSlot.task_id, ReminderSlot.key).where(col(ReminderSlot.task_id).in_(chunk))
            ):
                out.setdefault(task_id, set()).add(key)
        return {t: frozenset(out.get(t, ())) for t in ids}

    def last_reports_of(self, task_ids: Iterable[int]) -> dict[int, datetime | None]:
        """`last_report_at` for many tasks in one query."""
        ids, out = list(task_ids), dict[int | None, datetime | None]()
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            q = (
                select(AuditEntry.task_id, func.max(AuditEntry.at))
                .where(col(AuditEntry.task_id).in_(chunk), AuditEntry.action == "status")
                .group_by(col(AuditEntry.task_id))
            )
            out.update(dict(self.s.exec(q).all()))
        return {t: out.get(t) for t in ids}

    def last_report_at(self, task_id: int) -> datetime | None:
        q = select(func.max(AuditEntry.at)).where(AuditEntry.task_id == task_id, AuditEntry.action == "status")
        return self.s.exec(q).one()
