"""Zalo through the Zalo Bot Platform, whose Bot API is shaped like Telegram's, over httpx.

Inbound, as on Telegram: an update is committed to `inboundupdate` before it is confirmed (the
webhook answers 200 only after the commit) and applied once, in batches, by bot.pipeline.
There is no update_id: the key is the message_id, so a redelivered or replayed update is
applied once. getUpdates (development only) confirms on fetch, one update per call.
Outbound: no buttons, edits, files or reply threads, and 2000 characters at most. Buttons
become numbered choices remembered for the chat (the router maps "2" to the second one),
files a summary naming the Telegram/CLI route; text is split on line boundaries. Zalo
publishes no limits: sends are paced, and a 429 pauses every send, 5 s doubling.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from bot import answers
from bot.channels.base import Reply
from bot.channels.inbox_loop import InboxLoop
from bot.channels.zalo_inbound import SECRET_HEADER, ZaloInbound
from bot.channels.zalo_media import MediaPolicy
from bot.channels.zalo_text import ZaloError, render, split_message
from bot.context import App
from bot.i18n import Texts
from bot.liveness import Pulse
from bot.pipeline import Job, Pipeline
from bot.ratelimit import Limits, Pacer
from bot.router import Router
from storage import outbox as rows_of
from storage.repositories import SqlStore

__all__ = ["SECRET_HEADER", "ZaloChannel"]  # the webhook's header lives in bot.channels.zalo_inbound
log = logging.getLogger(__name__)
CHANNEL = "zalo"


class ZaloChannel(ZaloInbound, InboxLoop):
    name = CHANNEL
    edits = False  # a numbered choice's answer comes as a new message (remembered like one)
    quota_backoff = 5.0  # first pause after a 429, doubled while 429s continue
    max_quota_backoff = 600.0

    def __init__(
        self,
        app: App,
        router: Router,
        *,
        on_change: Callable[[], None] = lambda: None,
        poll_timeout: int = 20,
        pacer: Pacer | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        cfg = app.settings.zalo
        if not cfg.token:
            raise ValueError("zalo.token is not set")
        self.app, self.router, self.on_change, self.poll_timeout = app, router, on_change, poll_timeout
        self._token = cfg.token.get_secret_value()
        self._api = f"{cfg.base_url}{self._token}/"
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=True)
        self.media = MediaPolicy(cfg.media_hosts, cfg.base_url)
        self.pacer = pacer or Pacer(Limits(per_second=cfg.max_per_second, private_interval=cfg.chat_interval))
        self.me: dict = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._strikes = 0  # consecutive 429s
        self._progress: dict[tuple[str, int], tuple[int, str]] = {}  # parts of a split text already sent
        self.poll_pulse = Pulse(f"{CHANNEL}-poll", expect=poll_timeout + 10.0)
        self._fetching: asyncio.Task | None = None  # the long poll, cancelled at stop
        self.pipeline = Pipeline(app, router, self, pacer=self.pacer, on_change=on_change)

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self.me = await self.call("getMe") or {}
        name = self.me.get("account_name") or self.me.get("name")
        if name:
            self.app.bot_usernames[CHANNEL] = str(name)
        await asyncio.to_thread(answers.release_orphans, self.app, CHANNEL)

    def interrupt(self) -> None:
        """Stop taking work now: a long poll in progress is cut short."""
        self._stopping = True
        self._wake.set()
        if self._fetching is not None:
            self._fetching.cancel()

    async def stop(self) -> None:
        self.interrupt()
        await self.pipeline.drain(timeout=10)  # committed batches: answered and marked sent
        await self.http.aclose()

    def webhook_secret(self) -> str:
        cfg = self.app.settings.zalo
        secret = cfg.webhook_secret.get_secret_value() if cfg.webhook_secret else ""
        if not 8 <= len(secret) <= 256:
            raise SystemExit("config error: zalo.webhook_secret: required in webhook mode, 8 to 256 characters")
        return secret

    async def set_webhook(self, url: str, secret: str | None = None) -> dict:
        return await self.call("setWebhook", {"url": url, "secret_token": secret or self.webhook_secret()})

    async def delete_webhook(self) -> None:
        await self.call("deleteWebhook")

    # -- the Bot API ---------------------------------------------------------------------
    async def call(self, method: str, params: dict | None = None, *, timeout: float | None = None):
        """One Bot API call; returns `result` or raises ZaloError (already a ChannelError)."""
        kw = {"timeout": timeout} if timeout else {}
        try:
            r = await self.http.post(self._api + method, json=params or {}, **kw)
        except httpx.HTTPError as exc:
            raise ZaloError(0, f"network: {type(exc).__name__} {exc}".replace(self._token, "***")) from None
        try:
            body = r.json() if r.content else {}
        except ValueError:  # a proxy's HTML error page
            body = {}
        body = body if isinstance(body, dict) else {}
        if r.status_code == 200 and body.get("ok"):
            return body.get("result")
        code = int(body.get("error_code") or r.status_code or 0)
        raise self._error(code, str(body.get("description") or r.reason_phrase or "error"))

    def _error(self, code: int, description: str) -> ZaloError:
        if code == 429:  # bot-wide quota: every send pauses, longer while it lasts
            self._strikes += 1
            wait = min(self.quota_backoff * 2 ** (self._strikes - 1), self.max_quota_backoff)
            self.pacer.retry_after("*", wait, time.monotonic(), everyone=True)
            return ZaloError(code, description, retry_after=wait)
        if code == 403 or "block" in description.lower():
            return ZaloError(code, description, blocked=True)
        if code in (400, 404):
            return ZaloError(code, description, permanent=True)
        return ZaloError(code, description)  # 401, 408, 5xx, network: retried with backoff

    async def process_pending(self, limit: int = 100) -> int:
        return await self.pipeline.process_pending(limit)

    # -- the pipeline's hooks (bot.pipeline.BatchChannel) ------------------------------------
    def handled(self, job: Job) -> None:
        pass

    async def acknowledge(self, job: Job, toast: str | None) -> None:
        pass  # no buttons: a numbered choice is a message like any other

    async def before_answers(self, job: Job) -> None:
        pass

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> None:
        await self.send(chat_id, reply)  # no edits on Zalo (the pipeline does not ask: `edits`)

    # -- outbound ------------------------------------------------------------------------
    async def send(self, chat_id: str, reply: Reply) -> str:
        texts = await asyncio.to_thread(self._prepare, chat_id, reply)
        text = render(reply, texts)
        parts = split_message(text) if text.strip() else []
        if not parts:
            return ""
        key = (chat_id, hash(text))
        done, message_id = self._progress.pop(key, (0, ""))
        for i in range(done, len(parts)):
            try:
                result = await self.call("sendMessage", {"chat_id": chat_id, "text": parts[i]})
            except ZaloError:
                if i > 0:  # a retry goes on from the part that failed
                    if len(self._progress) > 1000:
                        self._progress.clear()
                    self._progress[key] = (i, message_id)
                raise
            message_id = str((result or {}).get("message_id") or "")
        self._strikes = 0
        return message_id

    def _prepare(self, chat_id: str, reply: Reply) -> Texts:
        """The chat's language; numbered choices are remembered before they can be answered."""
        choices = [b.data for row in reply.buttons for b in row]
        with self.app.db.write() if choices else self.app.db.read() as s:
            if choices:
                SqlStore(s).remember_choices(CHANNEL, chat_id, choices)
            return self._chat(s, chat_id)[1]

    def _texts_for(self, chat_id: str) -> Texts:
        with self.app.db.read() as s:
            return self._chat(s, chat_id)[1]

    def _chat(self, s, chat_id: str) -> tuple:
        ident, user = rows_of.chat_owner(s, CHANNEL, chat_id)
        return ident, Texts((user.language if user else None) or self.app.settings.general.language, self.app.tz)
