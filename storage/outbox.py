"""The outbox's SQL for sending: answers written with their batch, and the delivery worker's
claims and outcomes (bot.answers and bot.delivery say why each is done so).

Functions take the open session of the caller's transaction. Rows come back as
`storage.models.Outbox` objects, re-exported here as `OutboxRow` for type hints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlmodel import Session, col, select

from storage import statements as st
from storage.models import Identity, Outbox, User
from storage.repo_base import rowcount

OutboxRow = Outbox


# -- answers (bot.answers) ----------------------------------------------------------------------


def stage_answers(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert answers' rows (column values) in the batch's transaction."""
    if rows:
        session.execute(st.OUTBOX_INSERT, rows)


def mark_answers_sent(session: Session, sent: list[tuple[str, str]], now: datetime) -> None:
    """(dedupe key, message id) of answers the channel sent."""
    if sent:
        session.execute(st.MARK_SENT, [{"p_key": key, "p_mid": str(mid)[:64], "p_now": now} for key, mid in sent])


def release_answers(session: Session, keys: list[str], now: datetime) -> None:
    """Answers left to the delivery worker: no longer claimed, due now (the pacer spaces them)."""
    if keys:
        session.execute(
            update(Outbox)
            .where(col(Outbox.dedupe_key).in_(sorted(keys)))
            .values(claimed_by=None, claimed_until=None, next_attempt_at=now)
        )


def answer_failed(session: Session, key: str, *, error: str, park: bool, retry_at: datetime | None) -> None:
    values: dict[str, Any] = dict(claimed_by=None, claimed_until=None, attempts=1, last_error=error)
    if park:
        values["status"] = "parked"
    else:
        values["next_attempt_at"] = retry_at
    session.execute(update(Outbox).where(col(Outbox.dedupe_key) == key).values(**values))


def remember_sent_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Which task each sent message was about (channel, chat_id, message_id, task_id, kind, at)."""
    if rows:
        session.execute(st.SENT_INSERT, rows)


def release_orphans(session: Session, channel: str, key_prefix: str, claimer: str) -> int:
    """Answers claimed by another (dead) process: free for the delivery worker now."""
    return rowcount(
        session.execute(
            update(Outbox)
            .where(
                col(Outbox.channel) == channel,
                col(Outbox.status) == "pending",
                col(Outbox.dedupe_key).like(f"{key_prefix}%"),
                col(Outbox.claimed_by) != claimer,
            )
            .values(claimed_by=None, claimed_until=None)
        )
    )


# -- the delivery worker (bot.delivery) ---------------------------------------------------------


def flood_holds(session: Session, now: datetime, error_prefix: str) -> list[tuple[str, str, datetime]]:
    """(channel, chat, until) of chats whose next row waits for a flood limit's window to end."""
    q = (
        select(col(Outbox.channel), col(Outbox.chat_id), func.max(col(Outbox.next_attempt_at)))
        .where(
            col(Outbox.status) == "pending",
            col(Outbox.next_attempt_at) > now,
            col(Outbox.last_error).like(f"{error_prefix}%"),
        )
        .group_by(col(Outbox.channel), col(Outbox.chat_id))
    )
    return [(channel, chat, until) for channel, chat, until in session.exec(q) if until is not None]


def _due(now: datetime, worker: str, reach: dict[str, list[str] | None]) -> ColumnElement[bool]:
    """Rows due now, free or this worker's, on channels in `reach` (a channel: None for every
    chat, or the chats it can reach right now)."""
    clauses = [
        col(Outbox.channel) == name
        if chats is None
        else and_(col(Outbox.channel) == name, col(Outbox.chat_id).in_(chats))
        for name, chats in reach.items()
    ]
    free = or_(col(Outbox.claimed_until).is_(None), col(Outbox.claimed_until) < now, col(Outbox.claimed_by) == worker)
    return and_(col(Outbox.status) == "pending", col(Outbox.next_attempt_at) <= now, free, or_(*clauses))


def due_heads(
    session: Session, now: datetime, worker: str, reach: dict[str, list[str] | None], limit: int
) -> list[tuple[int, str, str]]:
    """(id, channel, chat) of each chat's next due row, urgent first: a cheap look (one row per
    chat, picked by the database, however long a chat's backlog)."""
    rank = (
        func.row_number()
        .over(
            partition_by=(col(Outbox.channel), col(Outbox.chat_id)),
            order_by=(col(Outbox.urgent).desc(), col(Outbox.id)),
        )
        .label("rank")
    )
    heads = (
        select(col(Outbox.id), col(Outbox.channel), col(Outbox.chat_id), col(Outbox.urgent))
        .add_columns(rank)
        .where(_due(now, worker, reach))
    ).subquery()
    q = (
        select(heads.c.id, heads.c.channel, heads.c.chat_id)
        .where(heads.c.rank == 1)
        .order_by(heads.c.urgent.desc(), heads.c.id)
        .limit(limit)
    )
    return [tuple(r) for r in session.exec(q)]


def lock_due(
    session: Session, ids: list[int], now: datetime, worker: str, reach: dict[str, list[str] | None]
) -> list[Outbox]:
    """The rows among `ids` still due, locked (PostgreSQL: skipped when another worker has them)."""
    q = (
        select(Outbox)
        .where(col(Outbox.id).in_(ids), _due(now, worker, reach))
        .order_by(col(Outbox.urgent).desc(), col(Outbox.id))
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(q).all())


def due_behind(
    session: Session, head: Outbox, now: datetime, worker: str, reach: dict[str, list[str] | None], limit: int
) -> list[Outbox]:
    """The due rows of `head`'s chat that come after it, in order, locked."""
    q = (
        select(Outbox)
        .where(
            _due(now, worker, reach),
            col(Outbox.channel) == head.channel,
            col(Outbox.chat_id) == head.chat_id,
            col(Outbox.id) != head.id,
        )
        .order_by(col(Outbox.urgent).desc(), col(Outbox.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(q).all())


def mark_rows_sent(session: Session, ids: list[int], message_id: str, now: datetime) -> None:
    """Rows the delivery worker sent as one message (merged answers share its id): one UPDATE,
    not a SELECT and a flush per row (that held SQLite's one writer ~3 ms a message)."""
    if ids:
        session.execute(
            update(Outbox)
            .where(col(Outbox.id).in_(ids))
            .values(
                status="sent",
                sent_at=now,
                attempts=col(Outbox.attempts) + 1,
                claimed_until=None,
                external_message_id=str(message_id),
            )
            .execution_options(synchronize_session=False)
        )


def get(session: Session, row_id: int) -> Outbox:
    row = session.get(Outbox, row_id)
    assert row is not None  # claimed by this worker: nobody deletes it meanwhile
    return row


def chat_owner(session: Session, channel: str, chat_id: str) -> tuple[Identity | None, User | None]:
    """Who a chat belongs to (their language, for what is sent there), if anyone."""
    ident = session.exec(
        select(Identity).where(col(Identity.channel) == channel, col(Identity.chat_id) == chat_id)
    ).first()
    return ident, (session.get(User, ident.user_id) if ident else None)
