"""The outbox worker: sends pending rows through their channel and records the outcome.

The outbox row is the truth: a row is marked sent only after the channel accepted it, a
failure is retried with backoff, and a permanent rejection is parked with its error.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlmodel import select

from bot.channels.base import RETRY_MARK, Button, ChannelError, Reply
from bot.context import App
from bot.i18n import Texts
from bot.instance import WORKER_ID
from bot.liveness import Pulse
from bot.notify import GROUP_SEP, grouped_text
from bot.ratelimit import Pacer
from storage import retry
from storage.models import Outbox, User
from workflows.ports import Notice

log = logging.getLogger(__name__)
# A row that keeps failing (network, 5xx) is parked once it is this old, not after N tries:
# an outage of an hour must not lose messages; flood limits (retry_after) never park a row.
MAX_AGE = timedelta(hours=24)
SHORT_WAIT = 0.25  # seconds of overall spacing worth sleeping through inside one drain
MAX_OUTAGE_PAUSE = 8.0
MIN_LOOK_INTERVAL = 0.1  # seconds between two looks at the outbox
# How long a claimed row stays this worker's; after that another worker may take it over.
CLAIM = timedelta(seconds=60)


def reply_from_row(row: Outbox, tz: ZoneInfo) -> Reply:
    buttons = [[Button(b["label"], b["data"]) for b in r] for r in row.payload.get("buttons", [])]
    text = row.text
    if GROUP_SEP in text:  # news grouped while it waited (bot.notify): its header is written now
        text = grouped_text(Texts(row.payload.get("lang", "vi"), tz), text, row.created_at)
    document = photo = None
    if (doc := row.payload.get("document")) is not None:
        document = (doc["name"], base64.b64decode(doc["b64"]))
    if (pic := row.payload.get("photo")) is not None:
        photo = base64.b64decode(pic)
    return Reply(text, buttons=buttons, task_id=row.task_id, kind=row.kind, reply_to=row.payload.get("reply_to"),
                 document=document, photo=photo)


def queue_reply(app: App, channel: str, chat_id: str, reply: Reply, retry_after: float | None) -> None:
    """An answer that could not go at once goes through the outbox, after the wait it was given."""
    now = app.now()
    payload = {"buttons": [[{"label": b.label, "data": b.data} for b in row] for row in reply.buttons]}
    # The file travels with its caption (a workbook, a chart: tens of KB). In the row's JSON as
    # base64 rather than a column of its own: only these rare queued answers carry one, and a
    # row that outlives a restart still has it.
    if reply.document is not None:
        name, data = reply.document
        payload["document"] = {"name": name, "b64": base64.b64encode(data).decode("ascii")}
    if reply.photo is not None:
        payload["photo"] = base64.b64encode(reply.photo).decode("ascii")
    with app.write() as store:
        store.enqueue(Outbox(channel=channel, chat_id=str(chat_id), kind=reply.kind, text=reply.text, payload=payload,
                             task_id=reply.task_id, urgent=True, created_at=now,
                             next_attempt_at=now + timedelta(seconds=retry_after or 1)))


class Delivery:
    def __init__(self, app: App, channels: dict, pacers: dict[str, Pacer] | None = None) -> None:
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
        self._unrecorded: list[tuple[Outbox, str]] = []

    def wake(self) -> None:
        self._wake.set()

    def restore_holds(self) -> int:
        """At start: chats a flood limit told us to leave alone until a moment still to come
        (a row waits for it in the outbox) are held again, so that a restart does not send
        into the window: answers and other rows to that chat wait too. Returns how many."""
        now = self.app.now()
        q = (select(Outbox.channel, Outbox.chat_id, func.max(Outbox.next_attempt_at))
             .where(Outbox.status == "pending", Outbox.next_attempt_at > now,
                    Outbox.last_error.like(f"{RETRY_MARK}%"))
             .group_by(Outbox.channel, Outbox.chat_id))
        with self.app.db.read() as s:
            rows = list(s.exec(q))
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
        """Claim due rows that may go now (one per chat, within the pacers) for this worker."""
        now = self.app.now()
        clauses = []
        for name, ch in self.channels.items():
            if hasattr(ch, "ready_chats"):  # a channel that can only reach some chats right now
                clauses.append(and_(Outbox.channel == name, Outbox.chat_id.in_(list(ch.ready_chats()))))
            else:
                clauses.append(Outbox.channel == name)
        free = or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now, Outbox.claimed_by == self.worker)
        due = and_(Outbox.status == "pending", Outbox.next_attempt_at <= now, free, or_(*clauses))
        # Cheap look first (most wake-ups find nothing to do): only each chat's next row, picked
        # by the database, so a long backlog for one chat (a coordinator's news) costs one row.
        rank = func.row_number().over(partition_by=(Outbox.channel, Outbox.chat_id),
                                      order_by=(Outbox.urgent.desc(), Outbox.id)).label("rank")
        heads = (select(Outbox.id, Outbox.channel, Outbox.chat_id, Outbox.urgent, rank).where(due)).subquery()
        with self.app.db.read() as s:
            candidates = list(s.exec(select(heads.c.id, heads.c.channel, heads.c.chat_id).where(heads.c.rank == 1)
                                     .order_by(heads.c.urgent.desc(), heads.c.id).limit(limit * 5)))
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
            q = (select(Outbox).where(Outbox.id.in_(chosen), due).order_by(Outbox.urgent.desc(), Outbox.id)
                 .with_for_update(skip_locked=True))  # PostgreSQL: workers never wait on each other
            rows = list(s.exec(q))
            for row in rows:
                row.claimed_by, row.claimed_until = self.worker, now + CLAIM
            return rows

    async def drain_once(self, limit: int = 200) -> int:
        """Send what is due now and allowed by the pacers; returns how many rows were sent."""
        sent = 0
        self.next_wait = None
        while self._unrecorded:
            await asyncio.to_thread(retry.transaction, self._sent, *self._unrecorded[0])
            self._unrecorded.pop(0)
        rows = await asyncio.to_thread(retry.transaction, self._due, limit)
        if rows:
            self.next_wait = None  # recomputed below for rows the pacer holds back
        for row in rows:
            if self._stopping:
                break
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
                message_id = await channel.send(row.chat_id, reply_from_row(row, self.app.tz))
            except ChannelError as exc:
                if pacer is not None:
                    if exc.retry_after:
                        pacer.retry_after(row.chat_id, exc.retry_after, time.monotonic())
                    elif not exc.permanent and not exc.blocked:
                        # Network or 5xx: the platform is down for everyone; probe with one row
                        # at growing intervals instead of sending every row into the outage.
                        pacer.pause_all(self._outage, time.monotonic())
                        self._outage = min(self._outage * 2, MAX_OUTAGE_PAUSE)
                await asyncio.to_thread(retry.transaction, self._failed, row, exc)
                continue
            self._outage = 1.0
            try:
                await asyncio.to_thread(retry.transaction, self._sent, row, message_id)
            except Exception:
                self._unrecorded.append((row, message_id))
                raise
            sent += 1
        return sent

    def _sent(self, row: Outbox, message_id: str) -> None:
        now = self.app.now()
        with self.app.write() as store:
            db_row = store.s.get(Outbox, row.id)
            db_row.status, db_row.sent_at, db_row.attempts = "sent", now, db_row.attempts + 1
            db_row.claimed_until = None
            db_row.external_message_id = str(message_id)
            if row.task_id is not None:
                store.remember_sent(row.channel, row.chat_id, str(message_id), row.task_id, row.kind, now)

    def _failed(self, row: Outbox, exc: ChannelError) -> None:
        now = self.app.now()
        with self.app.write() as store:
            db_row = store.s.get(Outbox, row.id)
            db_row.attempts += 1
            db_row.claimed_by = db_row.claimed_until = None
            db_row.last_error = exc.stored()
            if exc.blocked and db_row.user_id is not None:
                user = store.s.get(User, db_row.user_id)
                if not user.unreachable:  # tell the coordinators once
                    user.unreachable = True
                    self.app.notifier.enqueue(store, [Notice(
                        key="unreachable", to="coordinators", kind="news", urgent=True,
                        params={"name": user.name, "agency": user.agency_code or "-", "channel": row.channel},
                        dedupe_key=f"unreachable:{user.id}:{row.channel}:{now.date()}")], now)
            too_old = db_row.created_at is not None and now - db_row.created_at > MAX_AGE
            if exc.permanent or exc.blocked or (too_old and not exc.retry_after):
                db_row.status = "parked"
                log.warning("outbox %s parked: %s", row.id, exc)
            elif exc.retry_after:  # a flood limit says exactly how long
                db_row.next_attempt_at = now + timedelta(seconds=exc.retry_after)
            else:  # network or 5xx: a short per-row backoff; the channel-wide pause does the rest
                db_row.next_attempt_at = now + timedelta(seconds=min(2 ** min(db_row.attempts, 3), 8))
