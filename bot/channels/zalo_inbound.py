"""Zalo inbound: the webhook and the (development) long poll store each update before it is
confirmed; `parse` reads a stored update as an IncomingMessage for bot.pipeline. A mixin of
bot.channels.zalo.ZaloChannel (needs app, call, wake, webhook_secret, _wake, _stopping,
_fetching, poll_pulse, poll_timeout, media, http, _texts_for)."""

from __future__ import annotations

import asyncio
import hmac

from aiohttp import web

from bot import inbox
from bot.channels import webhook_input
from bot.channels.base import Attachment, IncomingMessage, Reply
from bot.channels.zalo_text import ZaloError, unwrap, update_key
from bot.pipeline import Job
from storage import retry

CHANNEL = "zalo"
SECRET_HEADER = "X-Bot-Api-Secret-Token"


class ZaloInbound:
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
            self.call("getUpdates", {"timeout": self.poll_timeout}, timeout=self.poll_timeout + 10)
        )
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

    async def parse(self, job: Job) -> None:
        job.raw = update = job.payload or {}
        m, event = update.get("message") or {}, update.get("event_name", "")
        sender, chat = m.get("from") or {}, m.get("chat") or {}
        if sender.get("is_bot") or not sender.get("id") or not chat.get("id"):
            return
        if str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE":
            return  # private chats only, for now
        chat_id = str(chat["id"])
        base = dict(
            channel=CHANNEL,
            user_id=str(sender["id"]),
            chat_id=chat_id,
            display_name=str(sender.get("display_name") or sender.get("name") or ""),
            message_id=str(m.get("message_id") or "") or None,
        )
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

    def _photo(self, url: str) -> Attachment:
        """Described only: fetched later, only for a member and only from Zalo's media hosts."""
        att = Attachment(kind="photo", file_ref=url[:500], filename="photo.jpg", mime="image/jpeg")

        async def fetch(limit: int) -> bytes | None:
            data, mime = await self.media.fetch(self.http, url, limit)
            att.mime = mime or att.mime
            return data

        att.fetch = fetch
        return att
