"""Retention: the tables that only record traffic do not grow for ever.

Delivered outbox rows and processed inbox rows (the stored platform updates, done or
failed) older than `[storage] retention_days` are deleted by the scheduler leader, a small
batch per transaction so neither SQLite's single writer nor a PostgreSQL table is held for
long. What the province must be able to show later is never touched: events, tasks, the
audit trail, evidence, reminder slots, users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select
from sqlmodel import col

from storage.db import Database
from storage.models import InboundUpdate, Outbox

BATCH = 500
MAX_BATCHES = 40  # at most 20,000 rows a pass; the next pass (an hour later) goes on


@dataclass
class Pruned:
    outbox: int = 0
    inbox: int = 0

    @property
    def total(self) -> int:
        return self.outbox + self.inbox


def _outbox_batch(cutoff: datetime, batch: int) -> Select[int | None]:
    return (
        select(col(Outbox.id))
        .where(col(Outbox.status) == "sent", col(Outbox.sent_at) < cutoff)
        .order_by(col(Outbox.id))
        .limit(batch)
    )


def _inbox_batch(cutoff: datetime, batch: int) -> Select[int | None]:
    # The newest update of each channel stays: the Telegram poller resumes after its update_id.
    newest = select(func.max(col(InboundUpdate.id))).group_by(col(InboundUpdate.channel))
    return (
        select(col(InboundUpdate.id))
        .where(
            col(InboundUpdate.status) != "pending",
            col(InboundUpdate.processed_at) < cutoff,
            col(InboundUpdate.id).not_in(newest),
        )
        .order_by(col(InboundUpdate.id))
        .limit(batch)
    )


def prune(db: Database, now: datetime, days: int, *, batch: int = BATCH, max_batches: int = MAX_BATCHES) -> Pruned:
    """Delete delivered/processed traffic older than `days`, `batch` rows per transaction."""
    cutoff = now - timedelta(days=days)
    done = Pruned()
    for table, pick, field in ((Outbox, _outbox_batch, "outbox"), (InboundUpdate, _inbox_batch, "inbox")):
        for _ in range(max_batches):
            with db.write() as s:
                # Ids first, then delete by id: one statement shape that both databases run (no DELETE … LIMIT).
                ids = list(s.execute(pick(cutoff, batch)).scalars())
                if ids:
                    s.execute(delete(table).where(col(table.id).in_(ids)))
            setattr(done, field, getattr(done, field) + len(ids))
            if len(ids) < batch:
                break
    return done
