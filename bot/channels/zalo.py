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
import hmac
import logging
import time
from collections.abc import Callable

import httpx
from aiohttp import web

from bot import answers, inbox
from bot.channels import webhook_input
from bot.channels.base import Attachment, IncomingMessage, Reply
from bot.channels.inbox_loop import InboxLoop
from bot.channels.zalo_media import MediaPolicy
from bot.channels.zalo_text import ZaloError, render, split_message, unwrap, update_key
from bot.context import App
from bot.i18n import Texts
from bot.liveness import Pulse
from bot.pipeline import Job, Pipeline
from bot.ratelimit import Limits, Pacer
from bot.router import Router
from storage import outbox as rows_of
from storage import retry
from storage.repositories import SqlStore

log = logging.getLogger(__name__)
CHANNEL = "zalo"
SECRET_HEADER = "X-Bot-Api-Secret-Token"


class ZaloChannel(InboxLoop):
    name = CHANNEL
    quota_backoff = 5.0       # first pause after a 429, doubled while 429s continue
    max_quota_backoff = 600.0

    def __init__(self, app: App, router: Router, *, on_change: Callable[[], None] = lambda: None,
                 poll_timeout: int = 20, pacer: Pacer | None = None, http: httpx.AsyncClient | None = None) -> None:
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

    # -- inbound: (poll | webhook) -> store -> confirm -> process once ---------------------
    def webhook_handler(self, secret: str | None = None):
        """The aiohttp handler for POST /zalo: 403 unless the secret matches; 200 after the commit."""
        expected = (secret or self.webhook_secret()).encode()

        async def handle(request: web.Request) -> web.Response:
            got = request.headers.get(SECRET_HEADER, "").encode()
            if not hmac.compare_digest(got, expected):
                return web.Response(status=403)
            try:
                body = webhook_input.parse_object(await request.read())
            except webhook_input.BadInput:
                return web.Response(status=400)
            update = unwrap(body)
            key = update_key(update) if update is not None else None
            if key is None:
                return web.json_response({"ok": True})  # not a message: nothing to keep
            try:
                await asyncio.to_thread(retry.transaction, inbox.store_updates, self.app, CHANNEL, [(key, update)])
            except Exception as exc:
                if not inbox.is_duplicate(exc):
                    raise  # (a duplicate: the same update, stored meanwhile by a concurrent retry)
            self.wake()
            return web.json_response({"ok": True})

        return handle

    async def poll_forever(self) -> None:
        while not self._stopping:
            try:
                await self._poll_once()
            except Exception as exc:  # Zalo or the database unreachable: try again, never give up
                if self._stopping:
                    break
                wait = getattr(exc, "retry_after", None)
                if wait:  # the bot-wide quota: wait as long as it says
                    self.poll_pulse.failed(exc)
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=wait)
                    except TimeoutError:
                        pass
                else:
                    await self.poll_pulse.pause(exc, self._wake)
                continue
            self.poll_pulse.ok()

    async def _poll_once(self) -> None:
        self._fetching = asyncio.ensure_future(
            self.call("getUpdates", {"timeout": self.poll_timeout}, timeout=self.poll_timeout + 10))
        try:
            result = await self._fetching
        except ZaloError as exc:
            if exc.code == 408:  # an empty long poll
                return
            raise
        except asyncio.CancelledError:
            if self._stopping:  # stop() cut the long poll short
                return
            raise
        finally:
            self._fetching = None
        updates = [u for u in map(unwrap, result if isinstance(result, list) else [result]) if u]
        items = [(k, u) for u in updates if (k := update_key(u))]
        if items:
            await self._store(items)
            self._wake.set()

    async def _store(self, items: list[tuple[str, dict]]) -> int:
        while True:  # getUpdates confirmed these on fetch: keep trying rather than lose them
            try:
                return await asyncio.to_thread(inbox.store_updates, self.app, CHANNEL, items)
            except Exception as exc:  # logged once per outage (bot.liveness)
                await self.poll_pulse.pause(exc)

    async def process_pending(self, limit: int = 100) -> int:
        return await self.pipeline.process_pending(limit)

    # -- the pipeline's hooks (bot.pipeline.BatchChannel) ------------------------------------
    async def parse(self, job: Job) -> None:
        job.raw = update = job.payload or {}
        m, event = update.get("message") or {}, update.get("event_name", "")
        sender, chat = m.get("from") or {}, m.get("chat") or {}
        if sender.get("is_bot") or not sender.get("id") or not chat.get("id"):
            return
        if str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE":
            return  # private chats only, for now
        chat_id = str(chat["id"])
        base = dict(channel=CHANNEL, user_id=str(sender["id"]), chat_id=chat_id,
                    display_name=str(sender.get("display_name") or sender.get("name") or ""),
                    message_id=str(m.get("message_id") or "") or None)
        if event == "message.text.received":
            job.msg = IncomingMessage(**base, text=str(m.get("text") or ""))
        elif event == "message.image.received":
            url = m.get("photo_url") or m.get("photo") or m.get("url")
            url = url.get("url") if isinstance(url, dict) else url
            att = self._photo(str(url)) if url else None
            job.msg = IncomingMessage(**base, text=str(m.get("caption") or ""), attachment=att)
        elif event != "message.sticker.received":  # voice, unsupported, anything new: say what we read
            texts = await asyncio.to_thread(self._texts_for, chat_id)
            job.msg, job.canned = IncomingMessage(**base), [Reply(texts("zalo.unsupported"))]

    def handled(self, job: Job) -> None:
        pass

    async def acknowledge(self, job: Job, toast: str | None) -> None:
        pass  # no buttons: a numbered choice is a message like any other

    async def before_answers(self, job: Job) -> None:
        pass

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> None:
        await self.send(chat_id, reply)  # no edits on Zalo: the new text comes as a message

    def _photo(self, url: str) -> Attachment:
        """Described only: fetched later, only for a member and only from Zalo's media hosts."""
        att = Attachment(kind="photo", file_ref=url[:500], filename="photo.jpg", mime="image/jpeg")

        async def fetch(limit: int) -> bytes | None:
            data, mime = await self.media.fetch(self.http, url, limit)
            att.mime = mime or att.mime
            return data

        att.fetch = fetch
        return att

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
