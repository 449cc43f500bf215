"""Files people send are fetched only when they may be kept.

A photo or document is downloaded only for a known, active member writing in a private chat
(a contact's evidence, a coordinator's plan document); a stranger's files are never fetched
(forty strangers' 9 MB documents once took the process from 133 MB to 498 MB). The size limit
holds while reading, not only on the size a platform declares, and a batch's files are
fetched in slices (`slices`) so that at most about `budget` bytes are held at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import TypeVar

from bot.channels.base import IncomingMessage
from bot.context import App

log = logging.getLogger(__name__)
T = TypeVar("T")


def wants_fetch(msg: IncomingMessage | None) -> bool:
    att = msg.attachment if msg is not None else None
    return att is not None and att.fetch is not None and att.data is None and msg.chat_type == "private"


def members(app: App, channel: str, user_ids: Iterable[str]) -> set[str]:
    """The senders among `user_ids` who are known, active people."""
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    with app.read() as store:
        store.prefetch_senders(channel, ids)
        return {i for i in ids if (u := store.identity_and_user(channel, i)[1]) is not None and u.active}


async def fetch_for_members(app: App, channel: str, msgs: Iterable[IncomingMessage | None]) -> int:
    """Download the files of `msgs` whose sender is a member; returns how many were fetched.
    A file larger than `[evidence] max_bytes` is left unfetched with its size above the limit,
    so the engine refuses it with the usual message."""
    todo = [m for m in msgs if wants_fetch(m)]
    if not todo:
        return 0
    known = await asyncio.to_thread(members, app, channel, [m.user_id for m in todo])
    limit, fetched = app.settings.evidence.max_bytes, 0
    for msg in todo:
        att = msg.attachment
        if msg.user_id not in known or att.size > limit:
            continue
        try:
            data = await att.fetch(limit)
        except Exception as exc:  # kept as a reference; the contact is told nothing was received
            log.warning("cannot download a %s from %s: %s", att.kind, channel, type(exc).__name__)
            continue
        if data is None:
            att.size = max(att.size, limit + 1)
            continue
        att.data, att.size = data, len(data)
        fetched += 1
    return fetched


def release(msgs: Iterable[IncomingMessage | None]) -> None:
    """Drop downloaded bytes once they are stored: answers still being sent keep only the message."""
    for msg in msgs:
        if msg is not None and msg.attachment is not None:
            msg.attachment.data = None


def slices(items: Sequence[T], sizes: Sequence[int], budget: int) -> list[list[T]]:
    """Split `items` in order so that the declared file sizes of each slice add up to at most
    `budget` (a slice always takes at least one item)."""
    out: list[list[T]] = []
    current: list[T] = []
    held = 0
    for item, size in zip(items, sizes):
        if current and size and held + size > budget:
            out.append(current)
            current, held = [], 0
        current.append(item)
        held += size
    if current:
        out.append(current)
    return out
