"""What a database error means for the caller, and running a transaction again when it may.

Two kinds of failure are nobody's fault and pass by themselves:
- a *conflict*: PostgreSQL chose this transaction as a deadlock victim (40P01) or could not
  serialise it (40001); it was rolled back whole, so running the same work again is safe
  and is what the server asks for;
- an *outage*: the server is down, restarting, unreachable, or the SQLite file cannot be
  written (read-only, disk I/O). Nothing was committed; the loops wait and try again
  (bot.liveness) and an update is never marked failed because of one.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
T = TypeVar("T")
CONFLICT_STATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
ATTEMPTS = 5
# One lock order for the writers that touch many tasks and outbox rows at once. An inbox batch
# and a reminder pass both update tasks and then the pending news rows they group into, in
# orders of their own; after an outage they meet (a catch-up batch, the pass the outage held
# back) and deadlock. Each takes this PostgreSQL advisory lock first, batches shared (they
# run side by side), the reminder pass exclusive: the pass never interleaves with a batch.
WRITE_ORDER_KEY = 0x64757479  # "duty"


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def is_conflict(exc: BaseException) -> bool:
    """A deadlock or a serialisation failure: the transaction may simply run again."""
    return isinstance(exc, DBAPIError) and _sqlstate(exc) in CONFLICT_STATES


def is_outage(exc: BaseException) -> bool:
    """The database cannot be used right now (connection lost or refused, read-only, I/O)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if is_conflict(exc):
        return False
    return isinstance(exc, (OperationalError, InterfaceError, PendingRollbackError))


def is_transient(exc: BaseException) -> bool:
    """Worth trying again later, and never a reason to mark an update failed."""
    return is_conflict(exc) or is_outage(exc)


def order_writes(session: Session, *, exclusive: bool = False) -> None:
    """Take the write-order lock for this transaction (PostgreSQL; SQLite has one writer)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {fn}(:k)"), {"k": WRITE_ORDER_KEY})


def transaction(fn: Callable[..., T], *args: Any, attempts: int = ATTEMPTS, **kwargs: Any) -> T:
    """Run `fn` (which opens, uses and commits its own transaction) and run it again, whole,
    when the database rolled it back for a deadlock or a serialisation failure. `fn` must
    hold nothing from a failed attempt (it starts from what the database says)."""
    for attempt in range(1, attempts + 1):
        try:
            return fn(*args, **kwargs)
        except DBAPIError as exc:
            if not is_conflict(exc) or attempt == attempts:
                raise
            pause = random.uniform(0.01, 0.05) * attempt  # apart, so the two do not meet again
            log.info(
                "%s met a %s; running it again (attempt %d)",
                getattr(fn, "__name__", "transaction"),
                "deadlock" if _sqlstate(exc) == "40P01" else "serialization failure",
                attempt + 1,
            )
            time.sleep(pause)
    raise AssertionError("unreachable")
