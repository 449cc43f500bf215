"""Pacing sends under a platform's flood limits, so that 429s are the exception.

Telegram allows about 30 messages/s overall, 1 message/s to one private chat and 20
messages/minute to one group. PTB's AIORateLimiter does not limit per private chat; we
pace all three a little under the limit, and honour a server's `retry_after` for the chat
(and everyone, when the server says the bot as a whole is flooding).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    per_second: float = 29.0  # overall, a little under 30
    private_interval: float = 1.02  # seconds between two messages to one private chat
    group_per_minute: int = 20
    group_window: float = 60.5

    @classmethod
    def unlimited(cls) -> Limits:
        return cls(per_second=1e9, private_interval=0.0, group_per_minute=10**9)


class Pacer:
    """Tells how long to wait before a message to `chat` may go; `sent` records one going."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self._global_next = 0.0
        self._chat_next: dict[str, float] = {}
        self._group_sent: dict[str, deque[float]] = {}
        self._paused_until = 0.0
        self._held: dict[str, float] = {}  # chat -> until when the server told us to wait
        # chat -> (answers handed to the outbox and not yet sent, when last counted): while a
        # chat has some, its next answer queues behind them instead of overtaking them.
        self._queued: dict[str, tuple[int, float]] = {}

    @staticmethod
    def is_group(chat_id: str) -> bool:
        return chat_id.startswith("-")

    def chat_delay(self, chat_id: str, now: float) -> float:
        """The wait owed to this chat alone (or to a pause of everyone), not to the overall spacing."""
        wait = max(0.0, self._paused_until - now, self._chat_next.get(chat_id, 0.0) - now)
        if self.is_group(chat_id):
            window = self._group_sent.get(chat_id)
            if window and len(window) >= self.limits.group_per_minute:
                wait = max(wait, window[0] + self.limits.group_window - now)
        return wait

    def held(self, chat_id: str, now: float) -> float:
        """The wait the platform itself imposed (retry_after, an outage pause), not our spacing."""
        return max(0.0, self._paused_until - now, self._held.get(chat_id, 0.0) - now)

    def sent_direct(self, chat_id: str, now: float) -> None:
        """The per-chat part of `sent`: space this chat's next message after this one."""
        if self.is_group(chat_id):
            window = self._group_sent.setdefault(chat_id, deque())
            window.append(now)
            while window and window[0] + self.limits.group_window <= now:
                window.popleft()
        else:
            self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), now + self.limits.private_interval)
            if len(self._chat_next) > 50_000:  # forget chats whose pause is long over
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}

    def take_turn(self, chat_id: str, now: float) -> float:
        """Reserve the next slot of the overall rate for a send to this chat (answers count
        against it like every send); returns how long to wait for it. Reserving before waiting
        keeps two senders from waking for the same slot."""
        wait = max(0.0, self._global_next - now)
        self.sent(chat_id, now + wait)
        return wait

    def delay(self, chat_id: str, now: float) -> float:
        return max(self.chat_delay(chat_id, now), self._global_next - now)

    def sent(self, chat_id: str, now: float) -> None:
        step = 1.0 / self.limits.per_second
        # Spacing from the planned slot, not from when we woke: wake-up lateness does not add up
        # (but an idle spell does not bank more than a couple of sends either).
        self._global_next = max(self._global_next + step, now - 2 * step)
        self.sent_direct(chat_id, now)

    def retry_after(self, chat_id: str, seconds: float, now: float, *, everyone: bool = False) -> None:
        """The server asked us to wait: nothing to this chat (or to anyone) before then."""
        until = now + seconds
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)
        self._held[chat_id] = max(self._held.get(chat_id, 0.0), until)
        if len(self._held) > 50_000:
            self._held = {c: t for c, t in self._held.items() if t > now}
        if everyone:
            self._paused_until = max(self._paused_until, until)

    def queue(self, chat_id: str, n: int, now: float) -> None:
        """`n` answers to this chat were left to the outbox (bot.delivery sends them, paced)."""
        count, _ = self._queued.get(chat_id, (0, now))
        self._queued[chat_id] = (count + n, now)

    def unqueue(self, chat_id: str, n: int, now: float) -> None:
        count, _ = self._queued.get(chat_id, (0, now))
        if count - n > 0:
            self._queued[chat_id] = (count - n, now)
        else:
            self._queued.pop(chat_id, None)

    def queued(self, chat_id: str, now: float, *, stale: float = 60.0) -> bool:
        """Whether answers to this chat wait in the outbox. Counted per process: one that
        another instance sent is forgotten after `stale` seconds (it then costs only order)."""
        count, at = self._queued.get(chat_id, (0, now))
        if count > 0 and now - at > stale:
            self._queued.pop(chat_id, None)
            return False
        return count > 0

    def pause_all(self, seconds: float, now: float) -> None:
        """The platform itself is failing (network, 5xx): nobody gets a send before then."""
        self._paused_until = max(self._paused_until, now + seconds)
