"""APScheduler 3 wakes the engine: at the next due reminder moment, on a safety tick, and by cron.

The database holds the truth (tasks' `next_reminder_at`, recorded slots, the outbox); the
scheduler holds one `date` job ("look again at T") in memory, so a restart loses nothing
and a million tasks cost one job. Misfires are never dropped: a late wake-up still runs
(`misfire_grace_time=None`), and coalescing folds a backlog of wake-ups into one pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import App
from bot.instance import WORKER_ID
from bot.liveness import Pulse
from storage import leases, retention, retry
from workflows import chase
from workflows.clock import utc_now
from workflows.reminders import Policy

log = logging.getLogger(__name__)
# "skipped: maximum number of running instances reached" is expected with coalescing wake-ups.
logging.getLogger("apscheduler.executors.default").setLevel(logging.ERROR)
# "Added job …" on every re-planned wake-up would be most of an INFO log.
logging.getLogger("apscheduler.scheduler").setLevel(logging.WARNING)
RETENTION_EVERY = timedelta(hours=1)
SAFETY_TICK = timedelta(seconds=5)
# A change sets its task's next_reminder_at to "now" (re-plan me); re-planning waits this long so a
# busy minute of status updates costs a pass every half second, not one per batch.
POKE_DELAY = timedelta(milliseconds=500)
# Exactly one instance plans reminders: the holder of this lease. It is renewed on every
# tick; if the leader dies, another instance takes over once it expires.
LEADER_LEASE = "scheduler"
LEADER_TTL = timedelta(seconds=15)  # worst-case takeover: TTL + one tick = 20 s


def base_policy(app: App) -> Policy:
    return Policy.from_strings(**app.settings.reminders.model_dump())


def reminder_pass(app: App, *, limit: int = 5000) -> chase.PassResult:
    """One pass over the tasks whose moment has come, in one transaction."""
    return retry.transaction(_reminder_pass, app, limit)


def _reminder_pass(app: App, limit: int) -> chase.PassResult:
    now = app.now()
    with app.write() as store:
        store.order_writes(exclusive=True)  # no inbox batch interleaves (storage.retry)
        result = chase.run_pass(store, now, base_policy(app), app.tz, limit=limit)
        app.notifier.enqueue(store, result.notices, now)
    return result


def next_moment(app: App) -> datetime | None:
    with app.read() as store:
        return store.next_reminder_moment()


class Scheduler:
    def __init__(
        self, app: App, *, on_queued: Callable[[], None] = lambda: None, digest: Callable[[], int] | None = None
    ) -> None:
        self.app, self.on_queued, self.digest = app, on_queued, digest
        self.sched = AsyncIOScheduler(
            timezone=timezone.utc, job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        )
        self._lock = asyncio.Lock()
        self.leader = False
        # Wake-ups come at least every SAFETY_TICK; a failed one is tried again at the next tick.
        self.pulse = Pulse("scheduler", expect=SAFETY_TICK.total_seconds())

    def start(self) -> None:
        self.sched.add_job(self.wake, IntervalTrigger(seconds=SAFETY_TICK.total_seconds()), id="tick")
        self.sched.add_job(self.wake, DateTrigger(run_date=utc_now()), id="wake")
        if self.digest is not None:
            hh, mm = (int(x) for x in self.app.settings.reminders.digest_time.split(":"))
            self.sched.add_job(self._digest, CronTrigger(hour=hh, minute=mm, timezone=self.app.tz), id="digest")
        self.sched.add_job(
            self.prune,
            IntervalTrigger(seconds=RETENTION_EVERY.total_seconds()),
            id="retention",
            next_run_time=utc_now() + timedelta(minutes=1),
        )
        self.sched.start()

    def shutdown(self) -> None:
        if self.sched.running:
            self.sched.shutdown(wait=False)
        if self.leader:  # hand leadership over at once instead of after the lease expires
            try:
                leases.release(self.app.db, LEADER_LEASE, WORKER_ID)
            except Exception as exc:  # the database is down: the lease simply expires
                log.warning("scheduler lease not released (%s)", type(exc).__name__)

    def poke(self) -> None:
        """Something changed: look again soon. A burst of changes costs one pass, not one each."""
        soon = utc_now() + POKE_DELAY
        job = self.sched.get_job("wake") if self.sched.running else None
        if job is not None and job.next_run_time is not None and job.next_run_time <= soon:
            return
        self._plan(soon)

    def _plan(self, when: datetime) -> None:
        if not self.sched.running:
            return
        self.sched.add_job(self.wake, DateTrigger(run_date=when), id="wake", replace_existing=True)

    def is_leader(self) -> bool:
        return retry.transaction(leases.acquire, self.app.db, LEADER_LEASE, WORKER_ID, LEADER_TTL, utc_now())

    async def wake(self) -> None:
        try:
            await self._wake()
        except asyncio.CancelledError:  # shut down mid-pass: nothing is lost, the database says what is due
            log.debug("reminder pass cancelled by shutdown")
        except Exception as exc:  # the database is down: the next tick (or poke) tries again
            self.pulse.failed(exc)
            self._plan(utc_now() + timedelta(seconds=min(self.pulse.failures, 5)))
        else:
            self.pulse.ok()

    async def _wake(self) -> None:
        self.leader = await asyncio.to_thread(self.is_leader)
        if not self.leader:
            return
        async with self._lock:
            result = await asyncio.to_thread(reminder_pass, self.app)
            if result.notices:
                self.on_queued()
            moment = await asyncio.to_thread(next_moment, self.app)
        if moment is not None:
            # Never sooner than a moment from now: a due moment in the past means "at once".
            self._plan(max(moment, utc_now() + timedelta(milliseconds=50)))

    async def prune(self) -> retention.Pruned | None:
        """The leader deletes old delivered/processed traffic (storage.retention), in small batches."""
        try:
            if not await asyncio.to_thread(self.is_leader):
                return None
            pruned = await asyncio.to_thread(
                retention.prune, self.app.db, self.app.now(), self.app.settings.storage.retention_days
            )
        except asyncio.CancelledError:  # shut down mid-way: each batch commits or rolls back whole
            return None
        except Exception as exc:  # the database is down: the next round (or tick) does it
            self.pulse.failed(exc)
            return None
        if pruned.total:
            log.info(
                "retention: deleted %d delivered messages and %d processed updates older than %d days",
                pruned.outbox,
                pruned.inbox,
                self.app.settings.storage.retention_days,
            )
        return pruned

    async def _digest(self) -> None:
        try:
            await self._digest_once()
        except asyncio.CancelledError:  # shut down mid-way: its transaction commits or rolls back whole
            log.debug("digest cancelled by shutdown")
        except Exception as exc:  # the database is down at digest time: try again soon, not tomorrow
            delay = self.pulse.failed(exc)
            if self.sched.running:
                self.sched.add_job(
                    self._digest,
                    DateTrigger(run_date=utc_now() + timedelta(seconds=delay * 4)),
                    id="digest-retry",
                    replace_existing=True,
                )

    async def _digest_once(self) -> None:
        if not await asyncio.to_thread(self.is_leader):
            return
        queued = await asyncio.to_thread(retry.transaction, self.digest)
        if queued:
            self.on_queued()
