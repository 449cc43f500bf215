"""Who gets an answer when one sender floods the bot.

Every answer costs a send, and sends are what Telegram and Zalo ration (about 30 a second
for the whole bot). Forty strangers sending 25 messages each used to cost 1,000 answers,
120 × 429 and half a minute of delay for the contacts behind them. So:

- an unknown sender is answered at most once per `stranger_every` seconds (the first answer
  tells them how to join; repeating it helps nobody);
- a member over `per_minute` messages in the last minute is told once to slow down, and is
  still answered every time (nothing a contact reports is lost or left unanswered): their
  answers cost at most one send a second, because answers waiting for one chat are merged
  into one message (bot.delivery).

State is per process and bounded (`max_tracked` senders, oldest forgotten first): a restart
or a second instance forgets it, which costs at most one extra answer per sender.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from enum import StrEnum


class Verdict(StrEnum):
    ANSWER = "answer"  # handle and answer as usual
    SLOW_DOWN = "slow"  # a member just went over the rate: handle, answer, and say "slow down"
    QUIET = "quiet"  # a stranger already answered this hour: ignore, send nothing


class SenderGate:
    def __init__(
        self,
        per_minute: int = 20,
        stranger_every: float = 3600.0,
        *,
        max_tracked: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute, self.stranger_every, self.max_tracked = per_minute, stranger_every, max_tracked
        self._clock = clock
        self._strangers: OrderedDict[str, float] = OrderedDict()  # sender -> when last answered
        self._members: OrderedDict[str, deque[float]] = OrderedDict()  # sender -> arrival times in the window
        self._told: dict[str, float] = {}  # member -> when told to slow down (once per window)

    @classmethod
    def from_settings(cls, limits) -> SenderGate:
        return cls(limits.sender_per_minute, limits.stranger_answer_every)

    def check(self, key: str, *, known: bool) -> Verdict:
        now = self._clock()
        return self._member(key, now) if known else self._stranger(key, now)

    def _stranger(self, key: str, now: float) -> Verdict:
        last = self._strangers.get(key)
        if last is not None and now - last < self.stranger_every:
            return Verdict.QUIET
        self._remember(self._strangers, key, now)
        return Verdict.ANSWER

    def _member(self, key: str, now: float) -> Verdict:
        if self.per_minute <= 0:
            return Verdict.ANSWER
        seen = self._members.get(key)
        if seen is None:
            seen = deque()
            self._remember(self._members, key, seen)
        else:
            self._members.move_to_end(key)
        while seen and now - seen[0] >= 60.0:
            seen.popleft()
        seen.append(now)
        if len(seen) <= self.per_minute:
            self._told.pop(key, None)
            return Verdict.ANSWER
        told = self._told.get(key)
        if told is not None and now - told < 60.0:
            return Verdict.ANSWER  # told this minute already; never silenced
        self._told[key] = now
        return Verdict.SLOW_DOWN

    def _remember(self, table: OrderedDict, key: str, value) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.max_tracked:
            old, _ = table.popitem(last=False)
            self._told.pop(old, None)
