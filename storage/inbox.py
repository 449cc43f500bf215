"""The inbox's SQL: platform updates stored before they are confirmed (bot.inbox says why).

Functions take the open session of the caller's transaction, so that storing an update,
applying it and marking it done can commit together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, cast, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import statements as st
from storage.models import InboundUpdate
from storage.repo_base import rowcount


def is_duplicate(exc: BaseException) -> bool:
    """A unique key refused the row: the same update was stored meanwhile."""
    return isinstance(exc, IntegrityError)


def claim(session: Session, row_id: int, now: datetime) -> bool:
    """Mark a pending update done in this transaction; False when it was done before."""
    return rowcount(session.execute(st.INBOX_CLAIM, {"p_row": row_id, "p_now": now})) == 1


def max_numeric_key(session: Session, channel: str) -> int | None:
    # Keys of 17 digits or more (2**53 and up) never come from Telegram: a row stored before
    # webhooks checked update_id must not become the next offset (bot.channels.webhook_input).
    return session.exec(
        select(func.max(cast(col(InboundUpdate.update_key), BigInteger))).where(
            col(InboundUpdate.channel) == channel, func.length(col(InboundUpdate.update_key)) <= 16
        )
    ).one()


def pending(session: Session, channel: str, limit: int = 100) -> list[InboundUpdate]:
    q = (
        select(InboundUpdate)
        .where(col(InboundUpdate.channel) == channel, col(InboundUpdate.status) == "pending")
        .order_by(col(InboundUpdate.id))
        .limit(limit)
    )
    return list(session.exec(q))


def finish(session: Session, row_id: int, now: datetime, error: str | None = None) -> None:
    """Mark a pending update done (it changed nothing) or failed."""
    session.execute(
        update(InboundUpdate)
        .where(col(InboundUpdate.id) == row_id, col(InboundUpdate.status) == "pending")
        .values(status="failed" if error else "done", processed_at=now, error=error)
    )


def mark_done(session: Session, row_ids: list[int], now: datetime) -> None:
    if row_ids:
        session.execute(st.INBOX_DONE, {"p_rows": list(row_ids), "p_now": now})


def mark_failed(session: Session, row_id: int, error: str, now: datetime) -> None:
    session.execute(
        update(InboundUpdate)
        .where(col(InboundUpdate.id) == row_id, col(InboundUpdate.status) != "failed")
        .values(status="failed", processed_at=now, error=error)
    )


def mark_failed_key(session: Session, channel: str, key: str, error: str, now: datetime) -> None:
    session.execute(
        update(InboundUpdate)
        .where(col(InboundUpdate.channel) == channel, col(InboundUpdate.update_key) == key)
        .values(status="failed", processed_at=now, error=error)
    )


def take(
    session: Session, channel: str, items: list[tuple[str, dict[str, Any]]], now: datetime, *, done: bool = False
) -> dict[str, int]:
    """Store the (key, payload) updates not seen before as rows of this transaction; returns
    {key: row id} of the new ones (a key seen before, a redelivery, is left out)."""
    if not items:
        return {}
    keys = [k for k, _ in items]
    seen = set(session.execute(st.INBOX_SEEN, {"p_channel": channel, "p_keys": keys}).scalars())
    rows, fresh = [], set()
    for key, payload in items:
        if key not in seen and key not in fresh:
            fresh.add(key)
            rows.append(
                dict(
                    channel=channel,
                    update_key=key,
                    payload=payload,
                    status="done" if done else "pending",
                    received_at=now,
                    processed_at=now if done else None,
                )
            )
    if not rows:
        return {}
    result = session.execute(st.INBOX_INSERT, rows)
    return {key: row_id for row_id, key in result}
