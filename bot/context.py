"""The running app's shared parts, handed explicitly to the router and the commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Settings, template_dirs
from bot.notify import Notifier
from bot.uow import UnitOfWork
from storage.db import Database
from storage.repositories import SqlStore
from storage.retry import order_writes
from workflows.clock import Clock, utc_now
from workflows.spec import parse_duration


@dataclass
class App:
    settings: Settings
    db: Database
    clock: Clock = utc_now  # the one clock (workflows.clock): tests pass a settable one
    notifier: Notifier = field(init=False)
    bot_usernames: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.notifier = Notifier(
            self.tz, self.settings.general.language, backlog_limit=self.settings.limits.outbox_per_contact
        )

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
        """One transaction for a batch of inbox updates; the pipeline hands each update a
        UnitOfWork on it (bot.uow), whose writes are savepoints of it and whose reads read
        through it (so an update sees what the ones before it in the batch changed).
        Committed when the block ends, all or nothing.

        Why: a transaction per update costs a BEGIN/COMMIT (an fsync on PostgreSQL) and a
        session per read; a busy chat's updates arrive by the hundred."""
        with self.db.write() as session:
            order_writes(session)  # before any row lock: one order with the reminder pass
            yield SqlStore(session)

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work outside any inbox batch (the CLI, the web board, the scheduler, the
        delivery worker): each write its own transaction, each read its own session."""
        return UnitOfWork(self)

    def write(self):
        """One write transaction of its own (never a batch's: that one is passed, bot.uow)."""
        return self.unit_of_work().write()

    def read(self):
        return self.unit_of_work().read()
