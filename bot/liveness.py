"""Long-running loops survive what they stand on stumbling, and say how they are doing.

Every loop of a running dutybot (delivery, inbox processing, pollers, scheduler wake-ups,
answer settling) reports each successful round to its `Pulse` and each failure too. A
failure of any kind never ends the loop: it waits a little longer each time (capped at
`MAX_PAUSE`, so it is back at work within seconds once the database answers again) and
tries the same work again. The log gets one line when a loop starts failing and one when it
recovers, not one per retry: an outage of an hour is two lines per loop, not thousands.

`/health` (bot.health) reads the pulses: a loop whose task ended, or that has not
completed a round for too long, makes the instance unhealthy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from storage.retry import is_transient
from workflows.clock import utc_now

log = logging.getLogger(__name__)
FIRST_PAUSE = 0.25
MAX_PAUSE = 5.0  # seconds: how late a loop may notice that the database is back


class Pulse:
    """The health of one loop. `expect`: the longest a healthy loop goes between two
    successful rounds (None: it runs only when there is work, e.g. answer settling)."""

    def __init__(self, name: str, expect: float | None = None) -> None:
        self.name, self.expect = name, expect
        self.task: asyncio.Task | None = None  # set by whoever starts the loop (bot.runtime)
        self.started = time.monotonic()
        self.last_ok: float | None = None
        self.last_ok_at: datetime | None = None
        self.failing_since: float | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.failures = 0  # in the current outage

    def ok(self) -> None:
        now = time.monotonic()
        if self.failing_since is not None:
            log.warning(
                "%s: working again after %.1f s (%d failed attempts)",
                self.name,
                now - self.failing_since,
                self.failures,
            )
            self.failing_since, self.failures = None, 0
        self.last_ok, self.last_ok_at = now, utc_now()

    def gave_up(self) -> None:
        """The work was handed on (e.g. to the outbox): the failure is over without a recovery."""
        self.failing_since, self.failures = None, 0

    def failed(self, exc: BaseException) -> float:
        """Record a failure; returns how long to wait before the next attempt."""
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        self.last_error_at = utc_now()
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            # Once per outage. A database or network outage is expected to pass: one line; an
            # unexpected exception is a bug: its traceback, once.
            if is_transient(exc):
                log.error("%s: failing (%s); retrying every few seconds until it works", self.name, self.last_error)
            else:
                log.exception("%s: failing; retrying every few seconds until it works", self.name, exc_info=exc)
        return min(FIRST_PAUSE * 2 ** (self.failures - 1), MAX_PAUSE)

    async def pause(self, exc: BaseException, wake: asyncio.Event | None = None) -> None:
        """Record a failure and wait before the next attempt (cut short by `wake`, e.g. at stop)."""
        delay = self.failed(exc)
        if wake is None:
            await asyncio.sleep(delay)
            return
        try:
            await asyncio.wait_for(wake.wait(), timeout=delay)
        except TimeoutError:
            pass

    def state(self, stuck_after: float, failing_after: float, stopping: bool = False) -> dict:
        """What /health shows for this loop; `healthy` False when dead, stuck or failing too long."""
        now = time.monotonic()
        dead = self.task is not None and self.task.done() and not stopping
        since_ok = now - (self.last_ok if self.last_ok is not None else self.started)
        stuck = self.expect is not None and since_ok > self.expect + stuck_after
        failing_for = now - self.failing_since if self.failing_since is not None else None
        too_long = failing_for is not None and failing_for > failing_after
        out = {
            "healthy": not (dead or stuck or too_long),
            "dead": dead,
            "stuck": stuck,
            "last_ok": self.last_ok_at.isoformat(timespec="seconds") if self.last_ok_at else None,
            "seconds_since_ok": round(since_ok, 1),
            "failing_for": round(failing_for, 1) if failing_for is not None else None,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat(timespec="seconds") if self.last_error_at else None,
        }
        if dead and self.task is not None and not self.task.cancelled() and self.task.exception() is not None:
            out["last_error"] = f"{type(self.task.exception()).__name__}: {self.task.exception()}"[:300]
        return out


class Liveness:
    """The pulses of one process's loops, by name."""

    def __init__(self) -> None:
        self.pulses: dict[str, Pulse] = {}
        self.stopping = False

    def add(self, pulse: Pulse, task: asyncio.Task | None = None) -> Pulse:
        if task is not None:
            pulse.task = task
        self.pulses[pulse.name] = pulse
        return pulse

    def report(self, stuck_after: float, failing_after: float) -> dict[str, dict]:
        return {name: p.state(stuck_after, failing_after, self.stopping) for name, p in sorted(self.pulses.items())}
