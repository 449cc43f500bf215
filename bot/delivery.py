"""The outbox worker: sends pending rows through their channel and records the outcome.

The outbox row is the truth: a row is marked sent only after the channel accepted it, a
failure is retried with backoff, and a permanent rejection is parked with its error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from bot.channels.base import RETRY_MARK, Channel, ChannelError
from bot.context import App
from bot.instance import WORKER_ID
from bot.liveness import Pulse
from bot.outgoing import MERGE_MAX, merge_run, mergeable, merged_reply, queue_reply, reply_from_row
from bot.ratelimit import Pacer
from storage import outbox as rows_of
from storage import retry
from storage.outbox import OutboxRow as Outbox
from workflows.ports import Notice

__all__ = ["CLAIM", "Delivery", "queue_reply", "reply_from_row"]  # the last two live in bot.outgoing
log = logging.getLogger(__name__)
# A row that keeps failing (network, 5xx) is parked once it is this old, not after N tries:
# an outage of an hour must not lose messages; flood limits (retry_after) never park a row.
MAX_AGE = timedelta(hours=24)
SHORT_WAIT = 0.25  # seconds of overall spacing worth sleeping through inside one drain
MAX_OUTAGE_PAUSE = 8.0
MIN_LOOK_INTERVAL = 0.1  # seconds between two looks at the outbox
# How long a claimed row stays this worker's; after that another worker may take it over.
CLAIM = timedelta(seconds=60)


class Delivery:
    def __init__(self, app: App, channels: dict[str, Channel], pacers: dict[str, Pacer] | None = None) -> None:
        self.app, self.channels = app, channels
        self.pacers = pacers or {}
        self.worker = WORKER_ID
        self._outage = 1.0
        self.next_wait: float | None = None  # seconds until a paced row may go (None: nothing waits)
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_look = 0.0
        self.pulse = Pulse("delivery", expect=1.0)
        # Sent, but the database could not be told (it went down meanwhile): recorded first
        # thing once it is back, instead of sending the message again when its claim expires.
        self._unrecorded: list[tuple[list[Outbox], str]] = []

    def wake(self) -> None:
        self._wake.set()

    def restore_holds(self) -> int:
        """At start: chats a flood limit told us to leave alone until a moment still to come
        (a row waits for it in the outbox) are held again, so that a restart does not send
        into the window: answers and other rows to that chat wait too. Returns how many."""
        now = self.app.now()
        with self.app.db.read() as s:
            rows = rows_of.flood_holds(s, now, RETRY_MARK)
        mono, held = time.monotonic(), 0
        for channel, chat_id, until in rows:
            pacer = self.pacers.get(channel)
            if pacer is None:
                continue
            pacer.retry_after(chat_id, (until - now).total_seconds(), mono)
            held += 1
        if held:
            log.info("%d chats still inside a flood-limit window: held until it ends", held)
        return held

    async def run_forever(self) -> None:
        """Drain the outbox continuously; sleep until woken or until the pacer allows more."""
        while not self._stopping:
            # Wake-ups come with every processed batch of updates; looking more often than
            # this finds nothing new worth the query (news and reminders can wait 0.1 s).
            since = time.monotonic() - self._last_look
            if since < MIN_LOOK_INTERVAL:
                await asyncio.sleep(MIN_LOOK_INTERVAL - since)
            self._last_look = time.monotonic()
            try:
                sent = await self.drain_once()
            except Exception as exc:  # the database (or a bug) must not end delivery: try again
                await self.pulse.pause(exc, self._wake)
                self._wake.clear()
                continue
            self.pulse.ok()
            if sent == 0:
                self._wake.clear()
                timeout = min(self.next_wait if self.next_wait is not None else 1.0, 1.0)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(timeout, 0.005))
                except TimeoutError:
                    pass

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _due(self, limit: int) -> list[Outbox]:
        """The rows `_due_groups` claims, one list (a chat's rows together, in order)."""
        return [row for group in self._due_groups(limit) for row in group]

    def _due_groups(self, limit: int) -> list[list[Outbox]]:
        """Claim due rows that may go now (one message per chat, within the pacers) for this
        worker: each chat's next row, with the answers waiting behind it when it is one."""
        now = self.app.now()
        reach = {
            name: list(ch.ready_chats()) if hasattr(ch, "ready_chats") else None  # some chats only, now
            for name, ch in self.channels.items()
        }
        with self.app.db.read() as s:
            candidates = rows_of.due_heads(s, now, self.worker, reach, limit * 5)
        if not candidates:
            return []
        mono, chosen, seen = time.monotonic(), [], set()
        for row_id, channel, chat_id in candidates:
            pacer = self.pacers.get(channel)
            if (channel, chat_id) in seen:
                continue
            seen.add((channel, chat_id))  # one per chat per round: the pacer spaces the rest
            wait = pacer.delay(chat_id, mono) if pacer is not None else 0.0
            if wait > 0:
                self.next_wait = wait if self.next_wait is None else min(self.next_wait, wait)
                continue
            chosen.append(row_id)
            if len(chosen) >= limit:
                break
        if not chosen:
            return []
        with self.app.db.write() as s:
            groups = []
            for head in rows_of.lock_due(s, chosen, now, self.worker, reach):
                group = [head]
                if mergeable(head) and self._paced(head.channel):  # answers waiting behind it: one message
                    group += merge_run(head, rows_of.due_behind(s, head, now, self.worker, reach, MERGE_MAX - 1))
                for row in group:
                    row.claimed_by, row.claimed_until = self.worker, now + CLAIM
                groups.append(group)
            return groups

    async def drain_once(self, limit: int = 200) -> int:
        """Send what is due now and allowed by the pacers; returns how many rows were sent."""
        sent = 0
        self.next_wait = None
        while self._unrecorded:
            await asyncio.to_thread(retry.transaction, self._sent, *self._unrecorded[0])
            self._unrecorded.pop(0)
        rows = await asyncio.to_thread(retry.transaction, self._due, limit)
        groups: dict[tuple[str, str], list[Outbox]] = {}  # one message per chat (its merged answers)
        for row in rows:
            groups.setdefault((row.channel, row.chat_id), []).append(row)
        if groups:
            self.next_wait = None  # recomputed below for rows the pacer holds back
        for rows in groups.values():
            if self._stopping:
                break
            row = rows[0]
            pacer = self.pacers.get(row.channel)
            if pacer is not None:
                own = pacer.chat_delay(row.chat_id, time.monotonic())
                if own > 0:  # this chat (or everyone) must wait; others may go
                    self.next_wait = own if self.next_wait is None else min(self.next_wait, own)
                    continue
                wait = pacer.delay(row.chat_id, time.monotonic())
                if wait > SHORT_WAIT:
                    self.next_wait = wait if self.next_wait is None else min(self.next_wait, wait)
                    continue
                if wait > 0:  # only the overall spacing: wait it out rather than re-query
                    await asyncio.sleep(wait)
                pacer.sent(row.chat_id, time.monotonic())
            channel = self.channels[row.channel]
            try:
                message_id = await channel.send(row.chat_id, merged_reply(rows, self.app.tz))
            except ChannelError as exc:
                if pacer is not None:
                    if exc.retry_after:
                        pacer.retry_after(row.chat_id, exc.retry_after, time.monotonic())
                    elif not exc.permanent and not exc.blocked:
                        # Network or 5xx: the platform is down for everyone; probe with one row
                        # at growing intervals instead of sending every row into the outage.
                        pacer.pause_all(self._outage, time.monotonic())
                        self._outage = min(self._outage * 2, MAX_OUTAGE_PAUSE)
                    elif exc.permanent or exc.blocked:
                        self._answered(pacer, rows)  # parked: no longer waiting
                for one in rows:
                    await asyncio.to_thread(retry.transaction, self._failed, one, exc)
                continue
            self._outage = 1.0
            if pacer is not None:
                self._answered(pacer, rows)
            try:
                await asyncio.to_thread(retry.transaction, self._sent, rows, message_id)
            except Exception:
                self._unrecorded.append((rows, message_id))
                raise
            sent += len(rows)
        return sent

    def _paced(self, channel: str) -> bool:
        """Whether this channel's chats get one message at a time (then answers that wait for
        their turn are merged); with per-chat pacing off (tests, benchmarks) each goes alone."""
        pacer = self.pacers.get(channel)
        return pacer is not None and pacer.limits.private_interval > 0

    @staticmethod
    def _answered(pacer: Pacer, rows: list[Outbox]) -> None:
        """Answers the channel left to the outbox (bot.channels.telegram) are no longer waiting."""
        n = sum(1 for r in rows if r.urgent and r.user_id is None)
        if n:
            pacer.unqueue(rows[0].chat_id, n, time.monotonic())

    def _sent(self, rows: list[Outbox], message_id: str) -> None:
        now = self.app.now()
        with self.app.write() as store:
            rows_of.mark_rows_sent(store.s, [row.id for row in rows], message_id, now)  # merged: one id
            # One message is about one task: a reply to a merged one is read against its last.
            about = next((row for row in reversed(rows) if row.task_id is not None), None)
            if about is not None:
                store.remember_sent(about.channel, about.chat_id, str(message_id), about.task_id, about.kind, now)

    def _failed(self, row: Outbox, exc: ChannelError) -> None:
        now = self.app.now()
        with self.app.write() as store:
            db_row = rows_of.get(store.s, row.id)
            db_row.attempts += 1
            db_row.claimed_by = db_row.claimed_until = None
            db_row.last_error = exc.stored()
            if exc.blocked and db_row.user_id is not None:
                user = store.user(db_row.user_id)
                if not user.unreachable:  # tell the coordinators once
                    user.unreachable = True
                    self.app.notifier.enqueue(
                        store,
                        [
                            Notice(
                                key="unreachable",
                                to="coordinators",
                                kind="news",
                                urgent=True,
                                params={"name": user.name, "agency": user.agency_code or "-", "channel": row.channel},
                                dedupe_key=f"unreachable:{user.id}:{row.channel}:{now.date()}",
                            )
                        ],
                        now,
                    )
            too_old = db_row.created_at is not None and now - db_row.created_at > MAX_AGE
            if exc.permanent or exc.blocked or (too_old and not exc.retry_after):
                db_row.status = "parked"
                log.warning("outbox %s parked: %s", row.id, exc)
            elif exc.retry_after:  # a flood limit says exactly how long
                db_row.next_attempt_at = now + timedelta(seconds=exc.retry_after)
            else:  # network or 5xx: a short per-row backoff; the channel-wide pause does the rest
                db_row.next_attempt_at = now + timedelta(seconds=min(2 ** min(db_row.attempts, 3), 8))
