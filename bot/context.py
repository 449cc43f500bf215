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
from bot.inbox import claim_in, current_claim
from bot.notify import Notifier
from storage.db import Database
from storage.retry import order_writes
from storage.repositories import SqlStore
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

    @contextmanager
    def write(self) -> Iterator[SqlStore]:
        """One write transaction; it also marks the update being processed as done (bot.inbox).

        Inside `batch()` it is a savepoint: rolled back alone on error, committed with the batch."""
        claim = current_claim.get()
        fresh = claim is not None and not claim.consumed
        ambient = _batch_session.get()
        try:
            if ambient is not None:
                with ambient.begin_nested():
                    claim_in(ambient, self.now())
                    yield SqlStore(ambient)
            else:
                with self.db.write() as session:
                    claim_in(session, self.now())
                    yield SqlStore(session)
        except BaseException:
            if fresh:  # rolled back: the update is not done yet (its mark was rolled back too)
                claim.consumed = False
            raise

    @contextmanager
    def read(self) -> Iterator[SqlStore]:
        ambient = _batch_session.get()
        if ambient is not None:
            yield SqlStore(ambient)
            return
        with self.db.read() as session:
            yield SqlStore(session)
