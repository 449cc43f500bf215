"""Telegram through a real python-telegram-bot 22 Application, started by hand.

Built with `.updater(None)` and `.job_queue(None)`: we fetch updates ourselves so that each
one is committed to the database before its offset is confirmed (PTB's own polling confirms
on fetch and loses what it held when killed), and reminders belong to the engine.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from bot import answers, attachments, inbox
from bot.channels.inbox_loop import InboxLoop
from bot.channels.base import Attachment, ChannelError, IncomingMessage, Reply
from bot.delivery import queue_reply
from bot.channels import tg_send
from bot.channels.tg_menu import set_menus
from bot.channels.tg_request import AiohttpRequest
from bot.context import App
from bot.liveness import Pulse
from bot.ratelimit import Pacer
from bot.router import Router
from storage import retry

log = logging.getLogger(__name__)
CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
# Telegram's shared identities: anonymous group admins and linked channels. A message
# "from" them proves nothing about who wrote it, so they get no privileges.
SHARED_IDS = {1087968824, 777000, 136817688}


def build_application(token: str, base_url: str, base_file_url: str | None = None) -> Application:
    builder = ApplicationBuilder().token(token).base_url(base_url).updater(None).job_queue(None)
    builder = builder.base_file_url(base_file_url or base_url.replace("/bot", "/file/bot"))
    return builder.request(AiohttpRequest(connections=16)).get_updates_request(AiohttpRequest(connections=1)).build()


@dataclass
class _Job:
    """One stored update on its way: parsed, handled in the batch, answered after the commit."""
    row_id: int
    update: Update | None = None
    msg: IncomingMessage | None = None
    replies: list[Reply] = field(default_factory=list)
    staff_joined: bool = False
    error: str | None = None
    keys: dict[int, str] = field(default_factory=dict)  # reply index -> its outbox key (bot.answers)
    key: str = ""  # the update_id, on the poller's path
    payload: dict | None = None
    skip: bool = False  # seen before (a redelivery): applied and answered the first time


class TelegramChannel(InboxLoop):
    name = CHANNEL

    def __init__(self, app: App, router: Router, *, on_change: Callable[[], None] = lambda: None,
                 poll_timeout: int = 20, pacer: Pacer | None = None) -> None:
        cfg = app.settings.telegram
        self.pacer = pacer  # shared with the delivery worker: answers honour retry_after too
        self.app, self.router, self.on_change, self.poll_timeout = app, router, on_change, poll_timeout
        self.application = build_application(cfg.token.get_secret_value(), cfg.base_url, cfg.base_file_url or None)
        self.bot = self.application.bot
        self._wake = asyncio.Event()
        self._stopping = False
        # Chats answered side by side; few at once: httpx's pool costs more per request as
        # it grows, and sending is CPU-bound here (measured: 1-2 beat 16).
        self._parallel = asyncio.Semaphore(2)
        self._answering: list[asyncio.Task] = []
        self._settler = answers.Settler(app, CHANNEL, on_deferred=on_change)
        self._in_flight = answers.InFlight()
        self.poll_pulse = Pulse(f"{CHANNEL}-poll", expect=poll_timeout + 10.0)
        self._fetching: asyncio.Task | None = None  # the long poll, cancelled at stop
        # Chats whose staff menu this process has set or found not to need one: a staff chat gets
        # its menu at start only once it has written to the bot (else Telegram answers "chat not
        # found"), or at its first message after that.
        self._menu_checked: set[str] = set()

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        await self.application.initialize()
        me = await self.bot.get_me()
        self.app.bot_usernames[CHANNEL] = me.username
        reached = await asyncio.to_thread(self._reached_staff_chats)
        await set_menus(self.bot, reached)
        self._menu_checked |= set(reached)
        await asyncio.to_thread(answers.release_orphans, self.app, CHANNEL)
        await self.application.start()

    def interrupt(self) -> None:
        """Stop taking work now: a long poll in progress is cut short (it fetched nothing that
        counts: updates are confirmed only by the next getUpdates, after their commit)."""
        self._stopping = True
        self._wake.set()
        if self._fetching is not None:
            self._fetching.cancel()

    async def stop(self) -> None:
        self.interrupt()
        if self._answering:  # committed batches still being answered: let them finish
            await asyncio.wait(set(self._answering), timeout=10)
        await self._settler.drain(timeout=10)  # ... and be marked sent, so a restart does not resend them
        await self.application.stop()
        await self.application.shutdown()

    # -- inbound: poll -> store and apply in one transaction -> confirm -> answer -----------
    async def poll_forever(self) -> None:
        """Fetch updates and apply each batch in ONE transaction that also stores them; only
        then confirm them (the next getUpdates' offset). Killed before the commit, nothing is
        stored and Telegram sends the same updates again; after it, each is stored as done and
        a redelivery is recognised by its update_id: every update takes effect exactly once."""
        offset: int | None = None
        started = False
        while not self._stopping:
            try:
                if not started:  # where the last run stopped (the database may be down now)
                    last = await asyncio.to_thread(inbox.max_numeric_key, self.app, CHANNEL)
                    offset, started = (last + 1 if last is not None else None), True
                offset = await self._poll_once(offset)
            except Exception as exc:  # Telegram or the database unreachable: same updates again
                if self._stopping:
                    break
                await self.poll_pulse.pause(exc, self._wake)
                continue
            self.poll_pulse.ok()

    async def _poll_once(self, offset: int | None) -> int | None:
        """One getUpdates and its batch; returns the next offset. Raises (the offset unchanged:
        the same updates come again) when the batch could not be committed."""
        self._fetching = asyncio.ensure_future(self.bot.get_updates(
            offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES))
        try:
            updates = await self._fetching
        except asyncio.CancelledError:
            if self._stopping:  # stop() cut the long poll short: nothing was fetched
                return offset
            raise
        finally:
            self._fetching = None
        if not updates:
            return offset
        jobs = [await self._job(_Job(0, update=u, key=str(u.update_id))) for u in updates]
        for part in self._slices(jobs):
            await self._apply(part, True)
        self.on_change()
        return max(u.update_id for u in updates) + 1  # confirmed by the next call, after the commit

    def _slices(self, jobs: list[_Job]) -> list[list[_Job]]:
        """A batch in slices whose files to fetch fit a budget (most batches: one slice)."""
        limit = self.app.settings.evidence.max_bytes
        sizes = [min(j.msg.attachment.size or limit, limit + 1) if attachments.wants_fetch(j.msg) else 0
                 for j in jobs]
        return attachments.slices(jobs, sizes, budget=4 * limit)

    async def _apply(self, jobs: list[_Job], take: bool) -> None:
        """Fetch the members' files, apply the jobs in one transaction, answer in the background."""
        await attachments.fetch_for_members(self.app, CHANNEL, [j.msg for j in jobs if not j.skip])
        await self._context_settled(jobs)
        try:
            await asyncio.to_thread(self._handle_batch, jobs, take)
        finally:
            attachments.release(j.msg for j in jobs)  # stored (or refused): the bytes are not needed
        await self._answer_later(jobs)

    async def _job(self, job: _Job) -> _Job:
        try:
            if job.update is None:
                job.update = Update.de_json(job.payload, self.bot)
            elif job.payload is None:
                job.payload = job.update.to_dict()
            job.msg = await self._incoming(job.update)
        except Exception as exc:  # a bug must not stall the queue; the row keeps the error
            log.exception("update %s unreadable", job.key or job.row_id)
            job.error = f"{type(exc).__name__}: {exc}"[:500]
            job.payload = job.payload if job.payload is not None else {}
        return job

    async def process_pending(self, limit: int = 200) -> int:
        """Process updates stored but not yet applied (webhook mode, or left by an older
        version): one transaction for the batch, then the answers."""
        rows = await asyncio.to_thread(inbox.pending, self.app, CHANNEL, limit)
        if not rows:
            return 0
        jobs = [await self._job(_Job(row.id, payload=row.payload)) for row in rows]
        # The database down or locked: this raises, the rows stay pending (bot.liveness).
        for part in self._slices(jobs):
            await self._apply(part, False)
        self.on_change()
        return len(rows)

    def _handle_batch(self, jobs: list[_Job], take: bool) -> None:
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
                inbox.store_failed(self.app, CHANNEL, job.key, job.payload or {}, job.error)
            else:
                inbox.finish(self.app, job.row_id, error=job.error)

    def _handle_together(self, jobs: list[_Job], take: bool) -> None:
        now = self.app.now()
        with self.app.batch() as store:
            if take:  # rows of this transaction, written done: no claim needed (bot.inbox.take)
                ids = inbox.take(store.s, CHANNEL, [(j.key, j.payload) for j in jobs], now, done=True)
                for job in jobs:
                    job.skip = job.key not in ids  # seen before: applied the first time
                    job.row_id = ids.get(job.key, 0)
            store.prefetch_senders(CHANNEL, [j.msg.user_id for j in jobs if j.msg is not None and not j.skip])
            unchanged, staged = [], []
            for job in jobs:
                if job.skip:
                    continue
                if job.error is not None:
                    inbox.mark_failed(store.s, job.row_id, job.error, now)
                    continue
                claim = None if take else inbox.InboundClaim(job.row_id)
                token = inbox.current_claim.set(claim)
                try:
                    job.replies = self.router.handle(job.msg) if job.msg is not None else []
                finally:
                    inbox.current_claim.reset(token)
                if job.msg is not None and job.msg.chat_type == "private" and (
                        str(job.msg.chat_id) not in self._menu_checked or job.msg.text.startswith("/start ")):
                    self._menu_checked.add(str(job.msg.chat_id))  # a contact is looked up once
                    job.staff_joined = bool(self._staff_chats(job.msg.chat_id))
                if claim is not None and not claim.consumed:  # read-only, refused, not for us: done too
                    unchanged.append(job.row_id)
                staged += self._stage(job)
            inbox.mark_done(store.s, unchanged, now)
            answers.stage(store.s, CHANNEL, staged, now)

    @staticmethod
    def _stage(job: _Job) -> list[tuple[str, str, Reply]]:
        """The answers to write down with the batch (the ones that are not edits or files)."""
        msg, out = job.msg, []
        if msg is None:
            return out
        is_button = job.update.callback_query is not None
        for k, reply in enumerate(job.replies):
            if is_button and reply.edit and job.update.callback_query.message is not None:
                continue
            if not is_button and msg.message_id:
                reply.reply_to = msg.message_id
            if answers.durable(reply):
                job.keys[k] = answers.key_for(CHANNEL, job.row_id, k)
                out.append((job.keys[k], msg.chat_id, reply))
        return out

    async def _context_settled(self, jobs: list[_Job], timeout: float = 10.0) -> None:
        """A free-text reply or a photo is read against the task message it answers (or the
        chat's last one), remembered only once that message's batch is settled. When such a
        message comes from a chat whose answers are still in flight, wait for them first:
        a quick "xong" must not be asked "which task?". Commands and buttons name their task
        and never wait."""
        chats = {j.msg.chat_id for j in jobs if j.msg is not None and j.msg.callback is None
                 and not j.skip and (j.msg.attachment is not None or not j.msg.text.startswith("/"))}
        if not await self._in_flight.wait_clear(chats, timeout):  # a stuck settle must not stall the inbox
            log.warning("answers to %d chats still unsettled; reading replies without them", len(chats))

    async def _answer_later(self, jobs: list[_Job]) -> None:
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

    async def _answer_after(self, previous: asyncio.Task | None, jobs: list[_Job], chats: list[str]) -> None:
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

    async def _answer(self, jobs: list[_Job]) -> asyncio.Future:
        by_chat: dict[object, list[_Job]] = {}
        for job in jobs:
            if job.update is not None and not job.skip:
                by_chat.setdefault(job.msg.chat_id if job.msg else None, []).append(job)
        settling: list[asyncio.Future] = []
        # Members' chats first: answers to the people doing the work never wait behind strangers.
        chats = sorted(by_chat.values(), key=lambda js: not any(j.msg is not None and j.msg.sender_known for j in js))

        async def one_chat(chat_jobs: list[_Job]) -> None:
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
                settling.append(self._settler.add(out))

        await asyncio.gather(*(one_chat(j) for j in chats))
        return asyncio.gather(*settling)

    async def _answer_one(self, job: _Job, out: answers.Outcome) -> None:
        query, msg = job.update.callback_query, job.msg
        if query is not None:  # every button press gets an answer, even when handling failed
            toast = next((r.toast for r in job.replies if r.toast), None)
            await query.answer(toast[:190] if toast else None)
        if msg is None:
            return
        if job.staff_joined:
            await set_menus(self.bot, [msg.chat_id], default=False)  # staff who joined or first wrote
        for k, reply in enumerate(job.replies):
            if query is not None and reply.edit and query.message is not None:
                await tg_send.edit(self.bot, query.message.chat_id, query.message.message_id, reply)
                continue
            key = job.keys.get(k)
            hold = self.pacer.held(str(msg.chat_id), time.monotonic()) if self.pacer is not None else 0.0
            if hold > 0 and key is not None:  # Telegram said wait: the outbox sends it after the wait
                out.failed.append((key, ChannelError("held by a flood limit", retry_after=hold)))
                continue
            if self.pacer is not None and await self._wait_turn(msg.chat_id, reply, key, out):
                continue
            if self.pacer is not None:
                # Answers count against the overall rate like every other send (over ~30/s
                # Telegram holds back the whole bot, not one chat); they take the next slot
                # and, when the outbox has used the budget, wait their turn for it.
                wait = self.pacer.take_turn(str(msg.chat_id), time.monotonic())
                if wait > 0:
                    await asyncio.sleep(wait)
            try:
                message_id = await self.send(msg.chat_id, reply)
            except ChannelError as exc:
                if exc.retry_after and self.pacer is not None:
                    self.pacer.retry_after(str(msg.chat_id), exc.retry_after, time.monotonic())
                if key is not None:
                    out.failed.append((key, exc))
                elif exc.permanent or exc.blocked:
                    log.warning("reply to telegram:%s refused: %s", msg.chat_id, exc)
                else:  # a file that could not go now: through the outbox after the wait
                    await asyncio.to_thread(queue_reply, self.app, CHANNEL, msg.chat_id, reply, exc.retry_after)
                continue
            if key is not None:
                out.sent.append((key, msg.chat_id, message_id, reply))
            elif reply.task_id is not None and message_id:
                out.memo.append((msg.chat_id, message_id, reply.task_id, reply.kind))

    async def _wait_turn(self, chat_id: str, reply: Reply, key: str | None, out: answers.Outcome) -> bool:
        """Paced per chat like every send (about one message a second): an answer that would
        come too soon after the last one, or behind answers already waiting, is left to the
        delivery worker, which sends it in its turn (the waiting texts together, as one
        message). True when it was left to it."""
        chat, now = str(chat_id), time.monotonic()
        wait = self.pacer.chat_delay(chat, now)
        if reply.edit or (wait <= 0 and not self.pacer.queued(chat, now)):
            return False
        self.pacer.queue(chat, 1, now)
        if key is not None:
            out.deferred.append(key)
        else:  # a file: its row carries it (bot.delivery.queue_reply)
            await asyncio.to_thread(queue_reply, self.app, CHANNEL, chat, reply, max(wait, 0.01))
            self.on_change()
        return True

    def _reached_staff_chats(self) -> list[str]:
        chats = self._staff_chats()
        with self.app.read() as store:
            reached = store.chats_reached(CHANNEL, chats)
        return [c for c in chats if c in reached]

    def _staff_chats(self, chat_id: str | None = None) -> list[str]:
        with self.app.read() as store:
            staff = {u.id for u in store.users_with_role("admin", "coordinator", "observer")}
            return [i.chat_id for uid in staff for i in store.identities_of(uid)
                    if i.channel == CHANNEL and (chat_id is None or i.chat_id == chat_id)]

    async def _incoming(self, update: Update) -> IncomingMessage | None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None or (user.is_bot and user.id not in SHARED_IDS):
            return None
        user_id = "shared" if user.id in SHARED_IDS or update.effective_message and \
            update.effective_message.sender_chat else str(user.id)
        base = dict(channel=CHANNEL, user_id=user_id, chat_id=str(chat.id), chat_type=chat.type,
                    display_name=user.full_name, language_code=user.language_code)
        if update.callback_query is not None:
            q = update.callback_query
            return IncomingMessage(**base, callback=q.data or "", callback_id=q.id,
                                   message_id=str(q.message.message_id) if q.message else None)
        m = update.message
        if m is None:
            return None
        reply_to = str(m.reply_to_message.message_id) if m.reply_to_message else None
        att = None
        if m.photo:
            att = self._attachment("photo", m.photo[-1].file_id, m.photo[-1].file_size or 0, "photo.jpg",
                                         "image/jpeg")
        elif m.document:
            d = m.document
            att = self._attachment("document", d.file_id, d.file_size or 0, d.file_name or "file",
                                         d.mime_type or "")
        return IncomingMessage(**base, text=m.text or m.caption or "", message_id=str(m.message_id),
                               reply_to=reply_to, attachment=att)

    def _attachment(self, kind: str, file_id: str, size: int, name: str, mime: str) -> Attachment:
        """Described only: fetched later, and only for a member (bot.attachments)."""
        return Attachment(kind=kind, file_ref=file_id, size=size, filename=name, mime=mime,
                          fetch=lambda limit: self._download(file_id, limit))

    async def _download(self, file_id: str, limit: int) -> bytes | None:
        f = await self.bot.get_file(file_id)
        if (f.file_size or 0) > limit or not f.file_path:
            return None
        return await self.bot.request.fetch_capped(f.file_path, limit)

    # -- outbound ------------------------------------------------------------------------
    async def send(self, chat_id: str, reply: Reply) -> str:
        return await tg_send.send(self.bot, chat_id, reply)
