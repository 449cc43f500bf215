"""Evidence files and deadline extension requests (part of SqlStore)."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import func
from sqlmodel import col, select

from storage.models import Evidence, ExtensionRequest, Task
from storage.repo_base import Repo
from workflows.ports import NewEvidence, NewExtension


class EvidenceRepo(Repo):
    def add_evidence(self, new: NewEvidence) -> Evidence:
        ev = Evidence(**asdict(new))
        self.s.add(ev)
        self.s.flush()
        return ev

    def add_extension(self, new: NewExtension) -> ExtensionRequest:
        req = ExtensionRequest(**asdict(new))
        self.s.add(req)
        self.s.flush()
        return req

    def evidence_count(self, task_id: int) -> int:
        return self.s.exec(select(func.count()).select_from(Evidence).where(Evidence.task_id == task_id)).one()

    def evidence_counts(self, event_id: int) -> dict[int, int]:
        q = (
            select(Evidence.task_id, func.count())
            .join(Task, col(Task.id) == col(Evidence.task_id))
            .where(Task.event_id == event_id)
            .group_by(col(Evidence.task_id))
        )
        return {task: n for task, n in self.s.exec(q).all()}

    def evidence_of(self, task_id: int) -> list[Evidence]:
        return list(self.s.exec(select(Evidence).where(Evidence.task_id == task_id).order_by(col(Evidence.id))))

    def evidence_bytes(self) -> int:
        return self.s.exec(select(func.coalesce(func.sum(Evidence.size), 0))).one()

    def evidence_bytes_of_agency(self, agency: str) -> int:
        """Bytes of evidence on the tasks `agency` leads (its quota, see workflows.quota)."""
        q = (
            select(func.coalesce(func.sum(Evidence.size), 0))
            .select_from(Evidence)
            .join(Task, col(Task.id) == col(Evidence.task_id))
            .where(Task.lead == agency)
        )
        return self.s.exec(q).one()

    def extension(self, request_id: int) -> ExtensionRequest | None:
        return self.s.get(ExtensionRequest, request_id)

    def pending_extensions(self, event_id: int) -> list[ExtensionRequest]:
        q = (
            select(ExtensionRequest)
            .join(Task, col(Task.id) == col(ExtensionRequest.task_id))
            .where(Task.event_id == event_id, ExtensionRequest.status == "pending")
        )
        return list(self.s.exec(q))
