"""Engines and sessions: SQLite (WAL, busy timeout, BEGIN IMMEDIATE for writes) or PostgreSQL.

Why BEGIN IMMEDIATE: with SQLite's default deferred transactions a read-modify-write
takes the write lock only at its first write, and two such transactions deadlock; one of
them fails at once with "database is locked" whatever the busy timeout. Taking the lock up
front makes writers queue on the busy timeout instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine


def _sqlite_file(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def make_engine(url: str, *, busy_timeout_ms: int = 10000, pool_size: int = 5) -> Engine:
    """Build an engine for `url`; SQLite files get their folder created and their pragmas set."""
    if make_url(url).get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000})
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: object) -> None:
        # Let SQLAlchemy's "begin" hook below emit BEGIN itself (pysqlite's own is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One database: read sessions and write transactions (one transaction per `write()`)."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 10000, pool_size: int = 5) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms, pool_size=pool_size)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine = self.engine.execution_options(sqlite_immediate=True) if self.is_sqlite else self.engine
        self._sqlite_writer = threading.RLock()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed."""
        # Closing (not rolling back) ends the transaction without expiring the loaded
        # objects, so callers can keep reading them after the block.
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on error."""
        # SQLite has one writer at a time; threads of this process queue on a lock that hands
        # over at once, instead of on SQLite's busy handler, which sleeps in growing steps.
        guard = self._sqlite_writer if self.is_sqlite else nullcontext()
        try:
            with guard, Session(self._write_engine, expire_on_commit=False) as session:
                with session.begin():
                    yield session
        except OperationalError as exc:
            # A connection opened while the file could not be written is read-only for good
            # (SQLite falls back to read-only at open): once the file is writable again, every
            # write through it would still fail. Start the pool afresh.
            if self.is_sqlite and "readonly" in str(exc.orig):
                self.engine.dispose()
            raise

    def dispose(self) -> None:
        self.engine.dispose()
