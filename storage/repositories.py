"""SqlStore: the engine's `Store` protocol on one SQLModel session (one transaction).

Its methods live in modules by concern, one class each, combined here:

    storage.repo_tasks      agencies, events, tasks, the audit trail
    storage.repo_people     people, their accounts on each app, invites
    storage.repo_evidence   evidence files, deadline extension requests
    storage.repo_reminders  what the reminder pass reads and records
    storage.repo_messages   the outbox and the memo of delivered messages
    storage.repo_base       the session and the caches kept in it
"""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import SQLModel

from storage.repo_evidence import EvidenceRepo
from storage.repo_messages import MessageRepo
from storage.repo_people import PeopleRepo
from storage.repo_reminders import ReminderRepo
from storage.repo_tasks import TaskRepo
from workflows.ports import Store

__all__ = ["SqlStore"]

M = TypeVar("M", bound=SQLModel)


class SqlStore(TaskRepo, PeopleRepo, EvidenceRepo, ReminderRepo, MessageRepo):
    """Reads and writes through `session`; the caller owns commit/rollback."""

    def add(self, obj: M) -> M:
        """Add any row and flush it (its id is known after): for the shell; the engine uses `add_*`."""
        self.s.add(obj)
        self.s.flush()
        return obj


def _is_a_store(store: SqlStore) -> Store:
    return store  # mypy checks here that SqlStore implements the engine's port
