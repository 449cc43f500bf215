"""What the health check reads: does the database answer, and how the outbox is doing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, text
from sqlmodel import col, select

from storage.db import Database
from storage.models import Outbox


@dataclass(frozen=True)
class OutboxHealth:
    backlog: int  # pending rows, due or not
    parked: int  # rows given up on, waiting for a person to look
    last_error: str | None  # of the newest row that has one
    oldest_due: datetime | None  # the most overdue pending row's due moment (aware UTC)


def outbox_health(db: Database, now: datetime) -> OutboxHealth:
    """One read transaction; raises whatever the driver raises when the database is down."""
    with db.read() as s:
        s.execute(text("SELECT 1"))
        backlog = s.exec(select(func.count()).select_from(Outbox).where(Outbox.status == "pending")).one()
        parked = s.exec(select(func.count()).select_from(Outbox).where(Outbox.status == "parked")).one()
        last = s.exec(
            select(Outbox.last_error)
            .where(col(Outbox.last_error).is_not(None))
            .order_by(col(Outbox.id).desc())
            .limit(1)
        ).first()
        # Rows a flood limit or quiet hours hold are not due yet, so they do not count here.
        oldest = s.exec(
            select(func.min(Outbox.next_attempt_at)).where(
                Outbox.status == "pending", col(Outbox.next_attempt_at) <= now
            )
        ).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite gives naive UTC
        oldest = oldest.replace(tzinfo=timezone.utc)
    return OutboxHealth(backlog=backlog, parked=parked, last_error=last, oldest_due=oldest)
