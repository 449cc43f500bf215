"""The running app's shared parts, handed explicitly to the router and the commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Settings, template_dirs
from bot.inbox import current_claim
from bot.notify import Notifier
from storage.db import Database
from storage.retry import order_writes
from storage.repositories import SqlStore
from bot.uow import UnitOfWork
from workflows.clock import Clock, utc_now
from workflows.spec import parse_duration


# The transaction of the inbox batch being processed in this thread (see `App.batch`).
_batch_session: ContextVar = ContextVar("batch_session", default=None)


@dataclass
class App:
    settings: Settings
    db: Database
    clock: Clock = utc_now  # the one clock (workflows.clock): tests pass a settable one
    notifier: Notifier = field(init=False)
    bot_usernames: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.notifier = Notifier(self.tz, self.settings.general.language,
                                 backlog_limit=self.settings.limits.outbox_per_contact)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.general.timezone)

    def now(self) -> datetime:
        return self.clock()

    @property
    def invite_ttl(self) -> timedelta:
        return parse_duration(self.settings.invites.ttl)

    @property
    def template_dirs(self) -> list[Path]:
        return template_dirs(self.settings)

    @contextmanager
    def batch(self) -> Iterator[SqlStore]:
        """One transaction for a batch of inbox updates: every `write()` inside it becomes a
        savepoint of it and every `read()` reads through it (so an update sees what the ones
        before it in the batch changed). Committed when the block ends, all or nothing.

        Why: a transaction per update costs a BEGIN/COMMIT (an fsync on PostgreSQL) and a
        session per read; a busy chat's updates arrive by the hundred."""
        with self.db.write() as session:
            order_writes(session)  # before any row lock: one order with the reminder pass
            token = _batch_session.set(session)
            try:
                yield SqlStore(session)
            finally:
                _batch_session.reset(token)

    def unit_of_work(self) -> UnitOfWork:
        """The unit of work of this thread's batch and update, if any (the ambient fallback,
        for the call sites that do not take one explicitly yet); else its own transactions."""
        return UnitOfWork(self, _batch_session.get(), current_claim.get())

    def write(self):
        """One write transaction; it also marks the update being processed as done (bot.inbox).

        Inside `batch()` it is a savepoint: rolled back alone on error, committed with the batch."""
        return self.unit_of_work().write()

    def read(self):
        return self.unit_of_work().read()
