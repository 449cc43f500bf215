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

from datetime import datetime, timedelta
from typing import TypeVar

from sqlmodel import SQLModel

from storage import retry
from storage import web as web_store
from storage.models import Evidence, User, WebSession
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

    # -- for the shell: what bot/ would otherwise do with the raw session (bot/ never touches `.s`) --
    def order_writes(self, *, exclusive: bool = False) -> None:
        """Take the write-order lock for this transaction (storage.retry; a no-op on SQLite)."""
        retry.order_writes(self.s, exclusive=exclusive)

    def evidence(self, evidence_id: int) -> Evidence | None:
        return web_store.evidence(self.s, evidence_id)

    def create_web_link(self, user_id: int, now: datetime, ttl: timedelta) -> str:
        """A fresh single-use sign-in token for the web board (returned once, stored hashed)."""
        return web_store.create_link(self.s, user_id, now, ttl)

    def web_link_state(self, token: str, now: datetime) -> tuple[str, int | None]:
        return web_store.link_state(self.s, token, now)

    def claim_web_link(self, token: str, now: datetime) -> int | None:
        return web_store.claim_link(self.s, token, now)

    def start_web_session(self, user_id: int, now: datetime) -> str:
        """A new web session for `user_id`: its cookie value."""
        return web_store.create_session(self.s, user_id, now)[0]

    def web_session(self, token: str) -> tuple[WebSession, User] | tuple[None, None]:
        return web_store.session_and_user(self.s, token)

    def touch_web_session(self, session_id: int, now: datetime) -> None:
        web_store.touch_session(self.s, session_id, now)

    def end_web_session(self, session_id: int, now: datetime) -> None:
        web_store.end_session(self.s, session_id, now)


def _is_a_store(store: SqlStore) -> Store:
    return store  # mypy checks here that SqlStore implements the engine's port
