"""The inbound pipeline of a channel with a stored inbox: a batch of updates is applied in ONE
transaction that also stores them (or marks the stored ones done), then answered.

    ingest (store the update; a redelivery is recognised by its key)
      -> one transaction per batch: route each message (bot.router), stage its answers in the
         outbox (bot.answers), mark the updates done
      -> after the commit, in the background: send the answers (paced per chat; those that
         must wait go through the delivery worker), then settle them (marked sent, in one
         transaction for several batches)

Telegram (polling and webhooks), Zalo (webhook and poll) and the local chat all come through
here. A channel only translates: `parse` a stored update into an IncomingMessage, `send`,
`edit`, `acknowledge` a button press, and two hooks (`handled`, `before_answers`) for what the
platform needs around them (Telegram's staff menus). Each update's unit of work (bot.uow: batch
session + inbox claim) is passed: `router.handle(msg, uow)` -> `Call.uow`."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot import answers, attachments, inbox
from bot.channels.base import Channel, ChannelError, IncomingMessage, Reply
from bot.context import App
from bot.outgoing import queue_reply
from bot.ratelimit import Pacer
from bot.router import Router
from bot.uow import UnitOfWork
from storage import retry

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One update on its way: parsed, handled in the batch, answered after the commit."""
    row_id: int
    raw: Any = None  # the platform's object (parsed from `payload` when it came from storage)
    msg: IncomingMessage | None = None
    replies: list[Reply] = field(default_factory=list)
    staff_joined: bool = False
    error: str | None = None
    keys: dict[int, str] = field(default_factory=dict)  # reply index -> its outbox key (bot.answers)
    key: str = ""  # the platform's update id, on the poller's path
    payload: dict | None = None
    skip: bool = False  # seen before (a redelivery): applied and answered the first time
    canned: list[Reply] | None = None  # answered without the router (a message the channel cannot read)
    uow: UnitOfWork | None = None  # inside the batch: the update's unit of work (for channel.handled)


class BatchChannel(Channel, Protocol):
    """A channel that the pipeline drives: it parses a stored update (sets job.raw, payload,
    msg) and acknowledges a button press; two hooks around handling and answering."""

    edits: bool  # False: a reply that would edit the pressed message comes as a new one

    async def parse(self, job: Job) -> None: ...
    async def acknowledge(self, job: Job, toast: str | None) -> None: ...
    def handled(self, job: Job) -> None: ...  # inside the batch's transaction
    async def before_answers(self, job: Job) -> None: ...


class Pipeline:
    def __init__(self, app: App, router: Router, channel: BatchChannel, *, pacer: Pacer | None,
                 on_change) -> None:
        self.app, self.router, self.channel, self.pacer, self.on_change = app, router, channel, pacer, on_change
        # Chats answered side by side; few at once: httpx's pool costs more per request as
        # it grows, and sending is CPU-bound here (measured: 1-2 beat 16).
        self._parallel = asyncio.Semaphore(2)
        self._answering: list[asyncio.Task] = []
        self.settler = answers.Settler(app, channel.name, on_deferred=on_change)
        self._in_flight = answers.InFlight()

    async def drain(self, timeout: float = 10) -> None:
        """At stop: committed batches still being answered finish, and are marked sent (so a
        restart does not send them again)."""
        if self._answering:
            await asyncio.wait(set(self._answering), timeout=timeout)
        await self.settler.drain(timeout=timeout)

    def slices(self, jobs: list[Job]) -> list[list[Job]]:
        """A batch in slices whose files to fetch fit a budget (most batches: one slice)."""
        limit = self.app.settings.evidence.max_bytes
        sizes = [min(j.msg.attachment.size or limit, limit + 1) if attachments.wants_fetch(j.msg) else 0
                 for j in jobs]
        return attachments.slices(jobs, sizes, budget=4 * limit)

    async def apply(self, jobs: list[Job], take: bool) -> None:
        """Fetch the members' files, apply the jobs in one transaction, answer in the background."""
        await attachments.fetch_for_members(self.app, self.channel.name, [j.msg for j in jobs if not j.skip])
        await self._context_settled(jobs)
        try:
            await asyncio.to_thread(self._handle_batch, jobs, take)
        finally:
            attachments.release(j.msg for j in jobs)  # stored (or refused): the bytes are not needed
        await self._answer_later(jobs)

    async def job(self, job: Job) -> Job:
        try:
            await self.channel.parse(job)
        except Exception as exc:  # a bug must not stall the queue; the row keeps the error
            log.exception("update %s unreadable", job.key or job.row_id)
            job.error = f"{type(exc).__name__}: {exc}"[:500]
            job.payload = job.payload if job.payload is not None else {}
        return job

    async def process_pending(self, limit: int = 200) -> int:
        """Process updates stored but not yet applied (webhook mode, or left by an older
        version): one transaction for the batch, then the answers."""
        rows = await asyncio.to_thread(inbox.pending, self.app, self.channel.name, limit)
        if not rows:
            return 0
        jobs = [await self.job(Job(row.id, payload=row.payload)) for row in rows]
        # The database down or locked: this raises, the rows stay pending (bot.liveness).
        for part in self.slices(jobs):
            await self.apply(part, False)
        self.on_change()
        return len(rows)

    def _handle_batch(self, jobs: list[Job], take: bool) -> None:
        def attempt() -> None:  # run whole again after a deadlock: from a clean slate
            for job in jobs:
                job.replies, job.staff_joined, job.keys, job.skip = [], False, {}, False
            self._handle_together(jobs, take)

        try:
            retry.transaction(attempt)
        except Exception as exc:
            if retry.is_transient(exc):  # the database, not the update: nothing is marked failed
                raise
            for job in jobs:
                job.replies, job.staff_joined, job.keys, job.skip = [], False, {}, False
            if len(jobs) > 1:  # find the bad one: each update alone, the others unharmed
                log.warning("a batch of %d updates failed; processing them one by one", len(jobs))
                for job in jobs:
                    self._handle_batch([job], take)
                return
            job = jobs[0]
            log.exception("update %s failed", job.key or job.row_id)
            job.error = f"{type(exc).__name__}: {exc}"[:500]  # a button press still gets its answer
            if take:
                inbox.store_failed(self.app, self.channel.name, job.key, job.payload or {}, job.error)
            else:
                inbox.finish(self.app, job.row_id, error=job.error)

    def _handle_together(self, jobs: list[Job], take: bool) -> None:
        now = self.app.now()
        with self.app.batch() as store:
            if take:  # rows of this transaction, written done: no claim needed (bot.inbox.take)
                ids = inbox.take(store.s, self.channel.name, [(j.key, j.payload) for j in jobs], now, done=True)
                for job in jobs:
                    job.skip = job.key not in ids  # seen before: applied the first time
                    job.row_id = ids.get(job.key, 0)
            store.prefetch_senders(self.channel.name, [j.msg.user_id for j in jobs if j.msg is not None and not j.skip])
            unchanged, staged = [], []
            for job in jobs:
                if job.skip:
                    continue
                if job.error is not None:
                    inbox.mark_failed(store.s, job.row_id, job.error, now)
                    continue
                job.uow = uow = UnitOfWork(self.app, store.s, None if take else inbox.InboundClaim(job.row_id))
                job.replies = list(job.canned) if job.canned is not None else \
                    self.router.handle(job.msg, uow) if job.msg is not None else []
                self.channel.handled(job)  # (Telegram: does this chat now need the staff menu?)
                if not uow.consumed:  # read-only, refused, not for us: done too
                    unchanged.append(job.row_id)
                staged += self._stage(job)
            inbox.mark_done(store.s, unchanged, now)
            answers.stage(store.s, self.channel.name, staged, now)

    def _stage(self, job: Job) -> list[tuple[str, str, Reply]]:
        """The answers to write down with the batch (the ones that are not edits or files)."""
        msg, out = job.msg, []
        if msg is None:
            return out
        is_button = msg.callback is not None
        for k, reply in enumerate(job.replies):
            if is_button and reply.edit and msg.message_id is not None:  # edits the message pressed
                continue
            if not is_button and msg.message_id:
                reply.reply_to = msg.message_id
            if answers.durable(reply):
                job.keys[k] = answers.key_for(self.channel.name, job.row_id, k)
                out.append((job.keys[k], msg.chat_id, reply))
        return out

    async def _context_settled(self, jobs: list[Job], timeout: float = 10.0) -> None:
        """A free-text reply or a photo is read against the task message it answers (or the
        chat's last one), remembered only once that message's batch is settled. When such a
        message comes from a chat whose answers are still in flight, wait for them first:
        a quick "xong" must not be asked "which task?". Commands and buttons name their task
        and never wait."""
        chats = {j.msg.chat_id for j in jobs if j.msg is not None and j.msg.callback is None
                 and not j.skip and (j.msg.attachment is not None or not j.msg.text.startswith("/"))}
        if not await self._in_flight.wait_clear(chats, timeout):  # a stuck settle must not stall the inbox
            log.warning("answers to %d chats still unsettled; reading replies without them", len(chats))

    async def _answer_later(self, jobs: list[Job]) -> None:
        """Answer a committed batch in the background, after the batches before it (so a chat's
        answers keep their order), while the next batch is fetched and applied."""
        while len(self._answering) >= 2:  # bounded: do not run ahead of the sending
            await asyncio.wait({self._answering[0]})
        chats = list({j.msg.chat_id for j in jobs if j.msg is not None and not j.skip})
        self._in_flight.hold(chats)
        previous = self._answering[-1] if self._answering else None
        task = asyncio.create_task(self._answer_after(previous, jobs, chats))
        self._answering.append(task)
        task.add_done_callback(self._answering.remove)

    async def _answer_after(self, previous: asyncio.Task | None, jobs: list[Job], chats: list[str]) -> None:
        settled = None
        try:
            if previous is not None:
                await asyncio.wait({previous})
            settled = await self._answer(jobs)
        except Exception:  # settling failed: the written answers go out through the outbox
            log.exception("answering a batch failed")
        finally:
            if settled is None:
                self._in_flight.release(chats)
            else:
                settled.add_done_callback(lambda _f: self._in_flight.release(chats))

    async def _answer(self, jobs: list[Job]) -> asyncio.Future:
        by_chat: dict[object, list[Job]] = {}
        for job in jobs:
            if job.raw is not None and not job.skip:
                by_chat.setdefault(job.msg.chat_id if job.msg else None, []).append(job)
        settling: list[asyncio.Future] = []
        # Members' chats first: answers to the people doing the work never wait behind strangers.
        chats = sorted(by_chat.values(), key=lambda js: not any(j.msg is not None and j.msg.sender_known for j in js))

        async def one_chat(chat_jobs: list[Job]) -> None:
            out = answers.Outcome()
            try:
                async with self._parallel:
                    for job in chat_jobs:
                        try:
                            await self._answer_one(job, out)
                        except Exception:  # the change is committed; its written answer goes later
                            log.exception("answering update %s failed", job.row_id)
            finally:
                # Settled as soon as this chat is answered, not when the whole batch is: killed
                # meanwhile, only answers not yet marked sent go again (the Settler still
                # writes whatever collects during one settle in one transaction).
                settling.append(self.settler.add(out))

        await asyncio.gather(*(one_chat(j) for j in chats))
        return asyncio.gather(*settling)

    async def _answer_one(self, job: Job, out: answers.Outcome) -> None:
        msg = job.msg
        # Every button press gets an answer (its toast), even when handling failed.
        await self.channel.acknowledge(job, next((r.toast for r in job.replies if r.toast), None))
        if msg is None:
            return
        await self.channel.before_answers(job)
        for k, reply in enumerate(job.replies):
            if msg.callback is not None and reply.edit and msg.message_id is not None and self.channel.edits:
                await self.channel.edit(msg.chat_id, msg.message_id, reply)
                continue
            key = job.keys.get(k)
            hold = self.pacer.held(str(msg.chat_id), time.monotonic()) if self.pacer is not None else 0.0
            if hold > 0 and key is not None:  # Telegram said wait: the outbox sends it after the wait
                out.failed.append((key, ChannelError("held by a flood limit", retry_after=hold)))
                continue
            if self.pacer is not None and await answers.wait_turn(self, msg.chat_id, reply, key, out):
                continue
            if self.pacer is not None:
                # Answers count against the overall rate like every other send (over ~30/s
                # Telegram holds back the whole bot, not one chat); they take the next slot
                # and, when the outbox has used the budget, wait their turn for it.
                wait = self.pacer.take_turn(str(msg.chat_id), time.monotonic())
                if wait > 0:
                    await asyncio.sleep(wait)
            name = self.channel.name
            try:
                message_id = await self.channel.send(msg.chat_id, reply)
            except ChannelError as exc:
                if exc.retry_after and self.pacer is not None:
                    self.pacer.retry_after(str(msg.chat_id), exc.retry_after, time.monotonic())
                if key is not None:
                    out.failed.append((key, exc))
                elif exc.permanent or exc.blocked:
                    log.warning("reply to %s:%s refused: %s", name, msg.chat_id, exc)
                else:  # a file that could not go now: through the outbox after the wait
                    await asyncio.to_thread(queue_reply, self.app, name, msg.chat_id, reply, exc.retry_after)
                continue
            if key is not None:
                out.sent.append((key, msg.chat_id, message_id, reply))
            elif reply.task_id is not None and message_id:
                out.memo.append((msg.chat_id, message_id, reply.task_id, reply.kind))
