"""Flood limits and fault injection for the Telegram double."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus

from ._tg_spec import ApiError

GLOBAL = "*"


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's documented broadcast limits (token buckets).

    About one message per second in a private chat (with a small burst), 20 messages per
    minute in a group, 30 messages per second overall.  Benchmarks raise these; pass
    ``limits=None`` to ``TelegramDouble`` to disable flood control entirely.
    """

    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 20
    global_per_second: float = 30.0
    global_burst: int = 30


class _Bucket:
    __slots__ = ("rate", "capacity", "tokens", "stamp")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def wait(self, now: float) -> float:
        """Seconds until a token is available (0 if one is available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class FloodControl:
    """Per-chat and global buckets, plus the retry_after windows handed out."""

    def __init__(self, limits: FloodLimits | None) -> None:
        self.limits = limits
        self._buckets: dict[object, _Bucket] = {}
        self._windows: dict[object, float] = {}

    def window_remaining(self, chat_id: int | None, now: float, *, counted: bool) -> float:
        """Time left in a retry_after window that applies to this request (0 if none)."""
        if not self._windows:
            return 0.0
        left = self._windows.get(chat_id, 0.0) - now if chat_id is not None else 0.0
        if counted:
            left = max(left, self._windows.get(GLOBAL, 0.0) - now)
        return max(left, 0.0)

    def open_window(self, key: object, retry_after: int, now: float) -> None:
        self._windows[key] = max(self._windows.get(key, 0.0), now + retry_after)

    def take(self, chat_id: int, now: float) -> tuple[object, int] | None:
        """Consumes a message token; returns (window key, retry_after) when over the limit."""
        lim = self.limits
        if lim is None:
            return None
        if chat_id < 0:
            rate, burst = lim.group_per_minute / 60.0, lim.group_burst
        else:
            rate, burst = lim.private_per_second, lim.private_burst
        chat = self._bucket(chat_id, rate, burst, now)
        overall = self._bucket(GLOBAL, lim.global_per_second, lim.global_burst, now)
        chat_wait, global_wait = chat.wait(now), overall.wait(now)
        if chat_wait > 0 or global_wait > 0:
            key: object = chat_id if chat_wait >= global_wait else GLOBAL
            return key, max(1, math.ceil(max(chat_wait, global_wait)))
        chat.tokens -= 1
        overall.tokens -= 1
        return None

    def _bucket(self, key: object, rate: float, burst: float, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.capacity != burst:
            bucket = self._buckets[key] = _Bucket(rate, burst, now)
        return bucket


def failure(status: int, retry_after: int | None = None) -> ApiError:
    """The error answer Telegram's front end gives for an HTTP status."""
    if status == 429:
        n = retry_after or 1
        return ApiError(429, f"Too Many Requests: retry after {n}", retry_after=n)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if status == 400:
        return ApiError(400, "Bad Request: injected failure")
    return ApiError(status, phrase)


class FaultInjector:
    """``fail_next`` and ``set_failure_rate``; getUpdates is exempt unless named."""

    def __init__(self) -> None:
        self._next: list[tuple[int, int | None, frozenset[str] | None]] = []
        self.rate = 0.0
        self._rate_status = 429
        self._rate_retry: tuple[int, int] = (1, 5)
        self._rate_methods: frozenset[str] | None = None
        self._rng = random.Random()

    @staticmethod
    def _methods(methods: Iterable[str] | None) -> frozenset[str] | None:
        return frozenset(m.lower() for m in methods) if methods is not None else None

    def fail_next(self, n: int, status: int, retry_after: int | None, methods: Iterable[str] | None) -> None:
        self._next.extend([(status, retry_after, self._methods(methods))] * n)

    def set_failure_rate(
        self,
        p: float,
        status: int,
        retry_after: tuple[int, int],
        methods: Iterable[str] | None,
        seed: int | None,
    ) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError("failure rate must be within [0, 1]")
        self.rate = p
        self._rate_status = status
        self._rate_retry = retry_after
        self._rate_methods = self._methods(methods)
        if seed is not None:
            self._rng.seed(seed)

    @staticmethod
    def _applies(method: str, methods: frozenset[str] | None) -> bool:
        if methods is None:
            return method != "getupdates"
        return method in methods

    def pick(self, method: str) -> ApiError | None:
        lowered = method.lower()
        for index, (status, retry_after, methods) in enumerate(self._next):
            if self._applies(lowered, methods):
                del self._next[index]
                return failure(status, retry_after)
        if self.rate and self._applies(lowered, self._rate_methods) and self._rng.random() < self.rate:
            return failure(self._rate_status, self._rng.randint(*self._rate_retry))
        return None

    def clear(self) -> None:
        self._next.clear()
        self.rate = 0.0
