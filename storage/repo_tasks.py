"""Agencies, events, tasks and the audit trail (part of SqlStore)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select

from storage import statements as st
from storage.models import Agency, AuditEntry, Event, Task, table
from storage.repo_base import TASK_IDS, Repo, tasks_added_or_removed
from workflows.plan import PlannedTask
from workflows.ports import Ctx, NewEvent

_AUDIT_INSERT = insert(table(AuditEntry))


class TaskRepo(Repo):
    def add_event(self, new: NewEvent) -> Event:
        event = Event(**asdict(new))
        self.s.add(event)
        self.s.flush()
        return event

    def add_tasks(self, event_id: int, planned: Sequence[PlannedTask], now: datetime) -> None:
        for p in planned:
            self.s.add(
                Task(
                    event_id=event_id,
                    number=p.number,
                    code=p.code,
                    title=p.title,
                    title_en=p.title_en,
                    phase=p.phase,
                    lead=p.lead,
                    supporting=p.supporting,
                    depends_on=p.depends_on,
                    evidence_kinds=p.evidence_kinds,
                    offset=p.offset,
                    deadline=p.deadline,
                    original_deadline=p.deadline,
                    is_cue=p.is_cue,
                    reminders=p.reminders,
                    note=p.note,
                    updated_at=now,
                )
            )
        self.s.flush()

    def upsert_agency(self, code: str, name: str, name_en: str) -> None:
        row = self.s.get(Agency, code)
        if row is None:
            self.s.add(Agency(code=code, name=name, name_en=name_en))
        else:
            row.name, row.name_en = name, name_en
        self.s.flush()

    def agency(self, code: str) -> Agency | None:
        return self.s.get(Agency, code.upper()) if code else None

    def agencies(self) -> list[Agency]:
        return list(self.s.exec(select(Agency).order_by(Agency.code)))

    def get_event(self, event_id: int) -> Event | None:
        return self.s.get(Event, event_id)

    def list_events(self) -> list[Event]:
        cache = self._people()
        if "events" not in cache:
            cache["events"] = list(self.s.exec(st.EVENTS))
        return list(cache["events"])

    def current_event(self, now: datetime) -> Event | None:
        """The event people mean when they name none: the latest launched one, else the latest."""
        events = self.list_events()
        launched = [e for e in events if e.launched_at is not None and e.ended_at is None]
        pool = launched or events
        return max(pool, key=lambda e: (e.launched_at is not None, e.id)) if pool else None

    def task(self, task_id: int, *, lock: bool = False) -> Task | None:
        if lock:
            return self.s.exec(st.TASK_LOCKED, params={"p_task": task_id}).first()
        return self.s.get(Task, task_id)

    def find_task(self, event_id: int, ref: str, *, lock: bool = False) -> Task | None:
        """A task by code (`CB-05`, any case) or number (`#17` or `17`)."""
        ref = ref.strip()
        digits = ref.lstrip("#")
        key = (event_id, f"#{int(digits)}" if digits.isdigit() else ref.upper())
        known = self._task_ids()
        if known is not None and key in known:
            return known[key]
        by_number = digits.isdigit()
        params = (
            {"p_event": event_id, "p_number": int(digits)}
            if by_number
            else {"p_event": event_id, "p_code": ref.upper()}
        )
        task = self.s.exec(st.FIND_TASK[by_number, lock], params=params).first()
        if task is not None and known is not None:
            known[key] = task
        return task

    def _task_ids(self) -> dict[tuple[int, str], Task] | None:
        if self.s.get_bind().dialect.name != "sqlite" or tasks_added_or_removed(self.s):
            return None
        known: dict[tuple[int, str], Task] = self.s.info.setdefault(TASK_IDS, {})
        return known

    def tasks(self, event_id: int) -> list[Task]:
        q = select(Task).where(Task.event_id == event_id).order_by(col(Task.deadline), col(Task.number))
        return list(self.s.exec(q))

    def tasks_by_codes(self, event_id: int, codes: Iterable[str]) -> list[Task]:
        codes = list(codes)
        if not codes:
            return []
        known = self._task_ids()
        if known is not None and all((event_id, c.upper()) in known for c in codes):
            return [known[(event_id, c.upper())] for c in codes]
        found = list(self.s.exec(st.TASKS_BY_CODES, params={"p_event": event_id, "p_codes": codes}))
        if known is not None:
            known.update({(event_id, t.code.upper()): t for t in found})
        return found

    def task_statuses(self, event_id: int, codes: Iterable[str] | None = None) -> dict[str, str]:
        """Status by code for the event's tasks (only `codes`, when given)."""
        q = select(Task.code, Task.status).where(Task.event_id == event_id)
        if codes is not None:
            wanted = list(codes)
            if not wanted:
                return {}
            q = q.where(col(Task.code).in_(wanted))
        return {code: status for code, status in self.s.exec(q).all()}

    def audit(self, *, event_id: int | None, task_id: int | None, ctx: Ctx, action: str, detail: dict[str, Any]) -> int:
        """Append an audit entry now (a plain INSERT: entries are never changed); returns its id."""
        actor = ctx.actor
        # On the connection: no autoflush of the session's pending changes for a plain INSERT;
        # one prepared statement with parameters (building `.values(...)` each time costs more).
        res = self.s.connection().execute(
            _AUDIT_INSERT,
            dict(
                event_id=event_id,
                task_id=task_id,
                at=ctx.now,
                actor_id=actor.id,
                actor=actor.name,
                channel=ctx.channel,
                action=action,
                detail=detail,
                message_ref=ctx.message_ref,
            ),
        )
        key = res.inserted_primary_key
        assert key is not None
        return int(key[0])

    def last_audit_id(self, task_id: int) -> int | None:
        return self.s.exec(st.LAST_AUDIT_ID, params={"p_task": task_id}).one()

    def history(self, task_id: int) -> list[AuditEntry]:
        q = select(AuditEntry).where(AuditEntry.task_id == task_id).order_by(col(AuditEntry.at), col(AuditEntry.id))
        return list(self.s.exec(q))

    def audit_entry(self, entry_id: int) -> AuditEntry | None:
        return self.s.get(AuditEntry, entry_id)

    def event_audit(self, event_id: int) -> list[AuditEntry]:
        q = select(AuditEntry).where(AuditEntry.event_id == event_id).order_by(col(AuditEntry.at), col(AuditEntry.id))
        return list(self.s.exec(q))
