"""A flood limit's window outlives a restart.

Telegram answers a too-fast sender with 429 and `retry_after`; sending to that chat inside the
window again earns longer bans. The pacer keeps windows in memory, so a restart used to forget
them (the crash benchmark counted ~300 requests inside windows over 20 kills). The failed row
is stored with a marked error and its next attempt at the window's end; on start the delivery
worker holds those chats again until then. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlmodel import select

from bot.channels.base import ChannelError, Reply
from bot.delivery import Delivery
from bot.ratelimit import Limits, Pacer
from storage.models import Outbox

LIMITS = Limits.unlimited()


class FloodOnce:
    """A channel whose first send to `flooded` is refused with a 30 s retry_after."""

    name = "fake"

    def __init__(self, flooded: str) -> None:
        self.flooded, self.refused, self.sent = flooded, False, []

    async def send(self, chat_id: str, reply: Reply) -> str:
        if chat_id == self.flooded and not self.refused:
            self.refused = True
            raise ChannelError("flood limit", retry_after=30)
        self.sent.append((chat_id, reply.text))
        return str(len(self.sent))


def queue(app, chat_id: str, text: str, *, at=None, error: str | None = None) -> None:
    with app.write() as store:
        store.enqueue(
            Outbox(
                channel="fake",
                chat_id=chat_id,
                kind="news",
                text=text,
                created_at=app.now(),
                next_attempt_at=at or app.now(),
                last_error=error,
            )
        )


def test_a_restart_keeps_away_from_a_chat_inside_its_window(app, clock):
    queue(app, "c1", "first")
    channel = FloodOnce("c1")
    first = Delivery(app, {"fake": channel}, {"fake": Pacer(LIMITS)})
    assert asyncio.run(first.drain_once()) == 0 and channel.refused
    with app.read() as store:
        (row,) = store.s.exec(select(Outbox)).all()
    assert row.status == "pending" and row.last_error.startswith("retry_after 30s")

    # The process dies; a new one starts 10 s later with more for that chat and for another.
    clock.advance(seconds=10)
    queue(app, "c1", "second")
    queue(app, "c2", "elsewhere")
    pacer = Pacer(LIMITS)
    again = Delivery(app, {"fake": channel}, {"fake": pacer})
    assert again.restore_holds() == 1
    assert 19 < pacer.held("c1", time.monotonic()) <= 20  # the 20 s left of the window
    assert pacer.held("c2", time.monotonic()) == 0
    assert asyncio.run(again.drain_once()) == 1
    assert channel.sent == [("c2", "elsewhere")]  # nothing to c1 inside the window

    clock.advance(seconds=21)  # the window is over: both of c1's messages go, in order
    pacer._held.clear(), pacer._chat_next.clear()  # the monotonic clock did not move with the test's
    asyncio.run(again.drain_once()), asyncio.run(again.drain_once())
    assert [t for c, t in channel.sent if c == "c1"] == ["first", "second"]


def test_only_flood_limits_hold_a_chat_after_a_restart(app):
    now = app.now()
    queue(app, "net", "after a network error", at=now + timedelta(seconds=8), error="network: ConnectError")
    queue(app, "old", "a window that is over", at=now - timedelta(seconds=1), error="retry_after 5s: flood limit")
    queue(app, "on", "inside a window", at=now + timedelta(seconds=5), error="retry_after 5s: flood limit")
    pacer = Pacer(LIMITS)
    assert Delivery(app, {"fake": FloodOnce("-")}, {"fake": pacer}).restore_holds() == 1
    mono = time.monotonic()
    assert pacer.held("net", mono) == 0 and pacer.held("old", mono) == 0 and 4 < pacer.held("on", mono) <= 5
