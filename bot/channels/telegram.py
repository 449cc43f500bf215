"""Telegram through a real python-telegram-bot 22 Application, started by hand.

Built with `.updater(None)` and `.job_queue(None)`: we fetch updates ourselves so that each
one is committed to the database before its offset is confirmed (PTB's own polling confirms
on fetch and loses what it held when killed), and reminders belong to the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from bot import answers, inbox
from bot.channels import tg_send
from bot.channels.base import Reply
from bot.channels.inbox_loop import InboxLoop
from bot.channels.tg_incoming import incoming
from bot.channels.tg_menu import set_menus
from bot.channels.tg_request import AiohttpRequest
from bot.context import App
from bot.liveness import Pulse
from bot.pipeline import Job, Pipeline
from bot.ratelimit import Pacer
from bot.router import Router

log = logging.getLogger(__name__)
CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]


def build_application(
    token: str, base_url: str, base_file_url: str | None = None, polling: AiohttpRequest | None = None
) -> Application:
    builder = ApplicationBuilder().token(token).base_url(base_url).updater(None).job_queue(None)
    builder = builder.base_file_url(base_file_url or base_url.replace("/bot", "/file/bot"))
    polling = polling or AiohttpRequest(connections=1)
    return builder.request(AiohttpRequest(connections=16)).get_updates_request(polling).build()


class TelegramChannel(InboxLoop):
    name = CHANNEL
    edits = True  # a button's answer may replace the message it was under

    def __init__(
        self,
        app: App,
        router: Router,
        *,
        on_change: Callable[[], None] = lambda: None,
        poll_timeout: int = 20,
        pacer: Pacer | None = None,
    ) -> None:
        cfg = app.settings.telegram
        self.pacer = pacer  # shared with the delivery worker: answers honour retry_after too
        self.app, self.router, self.on_change, self.poll_timeout = app, router, on_change, poll_timeout
        self._polling = AiohttpRequest(connections=1, keep_updates=True)  # it keeps the updates' JSON
        self.application = build_application(
            cfg.token.get_secret_value(), cfg.base_url, cfg.base_file_url or None, self._polling
        )
        self.bot = self.application.bot
        self._wake = asyncio.Event()
        self._stopping = False
        self.pipeline = Pipeline(app, router, self, pacer=pacer, on_change=on_change)
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
        await self.pipeline.drain(timeout=10)  # committed batches: answered and marked sent
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
        self._fetching = asyncio.ensure_future(
            self.bot.get_updates(offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES)
        )
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
        received = self._polling.updates_json  # stored as received: no Update.to_dict() (parse)
        jobs = [
            await self.pipeline.job(Job(0, raw=u, key=str(u.update_id), payload=received.get(u.update_id)))
            for u in updates
        ]
        for part in self.pipeline.slices(jobs):
            await self.pipeline.apply(part, True)
        self.on_change()
        return max(u.update_id for u in updates) + 1  # confirmed by the next call, after the commit

    async def process_pending(self, limit: int = 200) -> int:
        """Updates stored but not yet applied (webhook mode, or left by an older version)."""
        return await self.pipeline.process_pending(limit)

    # -- the pipeline's hooks (bot.pipeline.BatchChannel) ------------------------------------
    async def parse(self, job: Job) -> None:
        if job.raw is None:
            job.raw = Update.de_json(job.payload, self.bot)
        elif job.payload is None:
            job.payload = job.raw.to_dict()
        job.msg = incoming(self.bot, job.raw)

    def handled(self, job: Job) -> None:
        """Inside the batch: a staff member's private chat gets their menu at its first message
        (or once they joined with /start CODE); a contact is looked up once."""
        msg = job.msg
        if (
            msg is not None
            and msg.chat_type == "private"
            and (str(msg.chat_id) not in self._menu_checked or msg.text.startswith("/start "))
        ):
            self._menu_checked.add(str(msg.chat_id))
            job.staff_joined = bool(self._staff_chats(msg.chat_id, job.uow))  # read through the batch

    async def before_answers(self, job: Job) -> None:
        if job.staff_joined and job.msg is not None:
            await set_menus(self.bot, [job.msg.chat_id], default=False)  # staff who joined or first wrote

    async def acknowledge(self, job: Job, toast: str | None) -> None:
        query = job.raw.callback_query if job.raw is not None else None
        if query is not None:
            await query.answer(toast[:190] if toast else None)

    def _reached_staff_chats(self) -> list[str]:
        chats = self._staff_chats()
        with self.app.read() as store:
            reached = store.chats_reached(CHANNEL, chats)
        return [c for c in chats if c in reached]

    def _staff_chats(self, chat_id: str | None = None, uow=None) -> list[str]:
        with (uow or self.app.unit_of_work()).read() as store:
            staff = {u.id for u in store.users_with_role("admin", "coordinator", "observer")}
            return [
                i.chat_id
                for uid in staff
                for i in store.identities_of(uid)
                if i.channel == CHANNEL and (chat_id is None or i.chat_id == chat_id)
            ]

    # -- outbound ------------------------------------------------------------------------
    async def send(self, chat_id: str, reply: Reply) -> str:
        return await tg_send.send(self.bot, chat_id, reply)

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> None:
        await tg_send.edit(self.bot, chat_id, int(message_id), reply)
