"""Platform updates are stored before they are confirmed, and their effects happen once.

A poller (or a webhook) writes each update to `inboundupdate` and only then confirms it to
the platform, so a crash loses nothing. Processing marks the row done *inside the first
write transaction of its command* (its UnitOfWork, bot.uow): either the change and the mark commit
together, or neither does, and a second attempt finds the row done and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from storage import inbox as rows

log = logging.getLogger(__name__)


class AlreadyProcessed(Exception):
    """This update's effects were committed before (a replay, or a restart mid-queue)."""


@dataclass
class InboundClaim:
    id: int
    consumed: bool = False


def claim_with(session, claim: InboundClaim | None, now) -> None:
    """Mark the claimed update done in this write transaction (once: the first write does)."""
    if claim is None or claim.consumed:
        return
    if not rows.claim(session, claim.id, now):
        raise AlreadyProcessed(claim.id)
    claim.consumed = True


def store_updates(app, channel: str, items: list[tuple[str, dict]]) -> int:
    """Store (key, payload) pairs not seen before as pending rows (webhooks); returns how many were new."""
    if not items:
        return 0
    with app.db.write() as s:
        return len(rows.take(s, channel, items, app.now()))


is_duplicate = rows.is_duplicate  # the same update, stored meanwhile by a concurrent retry


def max_numeric_key(app, channel: str) -> int | None:
    with app.db.read() as s:
        return rows.max_numeric_key(s, channel)


def pending(app, channel: str, limit: int = 100) -> list:
    with app.db.read() as s:
        return rows.pending(s, channel, limit)


def finish(app, row_id: int, *, error: str | None = None) -> None:
    """Mark an update done (it changed nothing, e.g. a read-only command) or failed."""
    with app.db.write() as s:
        rows.finish(s, row_id, app.now(), error)


# Inside a batch: the updates that changed nothing (read-only or refused) are done too.
mark_done = rows.mark_done
mark_failed = rows.mark_failed
# Inside a batch (the poller's path): store the updates not seen before as rows of this very
# transaction, which processes them and commits their rows with their effects (so they may be
# written `done` at once: nobody else can see them before the commit, and a second copy cannot
# go in: the key is unique).
take = rows.take


def store_failed(app, channel: str, key: str, payload: dict, error: str) -> None:
    """An update whose processing failed on its own is kept, with the error, and not retried."""
    with app.db.write() as s:
        if rows.take(s, channel, [(key, payload)], app.now()):
            rows.mark_failed_key(s, channel, key, error, app.now())
