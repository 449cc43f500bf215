"""Platform updates are stored before they are confirmed, and their effects happen once.

A poller (or a webhook) writes each update to `inboundupdate` and only then confirms it to
the platform, so a crash loses nothing. Processing marks the row done *inside the first
write transaction of its command* (see `App.write`): either the change and the mark commit
together, or neither does, and a second attempt finds the row done and changes nothing.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import BigInteger, cast, func, update
from sqlmodel import select

from storage import statements as st
from storage.models import InboundUpdate

log = logging.getLogger(__name__)


class AlreadyProcessed(Exception):
    """This update's effects were committed before (a replay, or a restart mid-queue)."""


@dataclass
class InboundClaim:
    id: int
    consumed: bool = False


current_claim: ContextVar[InboundClaim | None] = ContextVar("current_claim", default=None)


def claim_in(session, now) -> None:
    """Called at the start of every write transaction: mark the current update done with it."""
    claim = current_claim.get()
    if claim is None or claim.consumed:
        return
    res = session.execute(st.INBOX_CLAIM, {"p_row": claim.id, "p_now": now})
    if res.rowcount != 1:
        raise AlreadyProcessed(claim.id)
    claim.consumed = True


def store_updates(app, channel: str, items: list[tuple[str, dict]]) -> int:
    """Store (key, payload) pairs not seen before as pending rows (webhooks); returns how many were new."""
    if not items:
        return 0
    with app.db.write() as s:
        return len(take(s, channel, items, app.now()))


def max_numeric_key(app, channel: str) -> int | None:
    # Keys of 17 digits or more (2**53 and up) never come from Telegram: a row stored before
    # webhooks checked update_id must not become the next offset (bot.channels.webhook_input).
    with app.db.read() as s:
        return s.exec(select(func.max(cast(InboundUpdate.update_key, BigInteger)))
                      .where(InboundUpdate.channel == channel, func.length(InboundUpdate.update_key) <= 16)).one()


def pending(app, channel: str, limit: int = 100) -> list[InboundUpdate]:
    with app.db.read() as s:
        q = (select(InboundUpdate).where(InboundUpdate.channel == channel, InboundUpdate.status == "pending")
             .order_by(InboundUpdate.id).limit(limit))
        return list(s.exec(q))


def finish(app, row_id: int, *, error: str | None = None) -> None:
    """Mark an update done (it changed nothing, e.g. a read-only command) or failed."""
    with app.db.write() as s:
        s.execute(update(InboundUpdate).where(InboundUpdate.id == row_id, InboundUpdate.status == "pending")
                  .values(status="failed" if error else "done", processed_at=app.now(), error=error))


def mark_done(session, row_ids: list[int], now) -> None:
    """Inside a batch: the updates that changed nothing (read-only or refused) are done too."""
    if row_ids:
        session.execute(st.INBOX_DONE, {"p_rows": list(row_ids), "p_now": now})


def mark_failed(session, row_id: int, error: str, now) -> None:
    session.execute(update(InboundUpdate).where(InboundUpdate.id == row_id, InboundUpdate.status != "failed")
                    .values(status="failed", processed_at=now, error=error))


def take(session, channel: str, items: list[tuple[str, dict]], now, *, done: bool = False) -> dict[str, int]:
    """Inside a batch (the poller's path): store the updates not seen before as rows of this very
    transaction, which processes them and commits their rows with their effects (so they may
    be written `done` at once: nobody else can see them before the commit, and a second copy
    cannot go in: the key is unique). Returns {key: row id} of the new ones; a key seen before
    (a redelivery) is left out."""
    if not items:
        return {}
    keys = [k for k, _ in items]
    seen = set(session.execute(st.INBOX_SEEN, {"p_channel": channel, "p_keys": keys}).scalars())
    rows, fresh = [], set()
    for key, payload in items:
        if key not in seen and key not in fresh:
            fresh.add(key)
            rows.append(dict(channel=channel, update_key=key, payload=payload, status="done" if done else "pending",
                             received_at=now, processed_at=now if done else None))
    if not rows:
        return {}
    result = session.execute(st.INBOX_INSERT, rows)
    return {key: row_id for row_id, key in result}


def store_failed(app, channel: str, key: str, payload: dict, error: str) -> None:
    """An update whose processing failed on its own is kept, with the error, and not retried."""
    with app.db.write() as s:
        if take(s, channel, [(key, payload)], app.now()):
            s.execute(update(InboundUpdate).where(InboundUpdate.channel == channel, InboundUpdate.update_key == key)
                      .values(status="failed", processed_at=app.now(), error=error))
