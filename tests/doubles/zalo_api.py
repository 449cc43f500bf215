"""A strict, in-repo test double of the Zalo Bot API (Zalo Bot Platform): a real local HTTP server.

    async with ZaloDouble(token="zalo-test-token") as zd:
        settings: [zalo] token = zd.token, base_url = zd.base_url   # calls reach /bot<token>/<method>

The shapes follow the platform's public docs: every answer is `{ok, result}` or
`{ok: false, error_code, description}`; ids are strings, dates in milliseconds, there is no
update_id. getUpdates answers ONE update per call (the fetch confirms it) and 408 after
`timeout` seconds without one; it refuses while a webhook is set. setWebhook takes `url` and a
`secret_token` of 8-256 characters; from then on each update is POSTed to the URL with the
`X-Bot-Api-Secret-Token` header, wrapped `{ok, result: update}` or bare (`webhook_shape`),
and retried until answered 2xx. (The real platform wants a public HTTPS URL; the double
accepts a local http one.) Strict: an unknown method (404), an unknown parameter, an empty
text or one over 2000 characters, an unknown chat (400) are answered like the platform and
recorded in `validation_errors`. `set_quota_exceeded(n)` answers the next n sends 429.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import socket
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_TEXT = 2000
METHODS: dict[str, set[str]] = {
    "getMe": set(),
    "getUpdates": {"timeout"},
    "setWebhook": {"url", "secret_token"},
    "deleteWebhook": set(),
    "getWebhookInfo": set(),
    "sendMessage": {"chat_id", "text", "parse_mode"},
    "sendPhoto": {"chat_id", "photo", "caption"},
    "sendSticker": {"chat_id", "sticker"},
    "sendChatAction": {"chat_id", "action"},
}
SENDS = ("sendMessage", "sendPhoto", "sendSticker")


class ApiError(Exception):
    def __init__(self, code: int, description: str, *, violation: bool = False) -> None:
        super().__init__(description)
        self.code, self.description, self.violation = code, description, violation


@dataclass(frozen=True)
class ZaloUser:
    id: str
    display_name: str


@dataclass
class SentRecord:
    method: str
    chat_id: str
    text: str
    message_id: str
    params: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


def units(text: str) -> int:
    """Length as a UTF-16 platform counts it (an emoji counts two): the strict reading."""
    return len(text.encode("utf-16-le")) // 2


def _hex_id() -> str:
    return secrets.token_hex(10)


class ZaloDouble:
    def __init__(
        self,
        token: str = "zalo-test-token",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_shape: str = "wrapped",
        webhook_retry_delay: float = 0.05,
    ) -> None:
        self.token, self.host, self._port = token, host, port
        self.webhook_shape, self.webhook_retry_delay = webhook_shape, webhook_retry_delay
        self.bot = {
            "id": "1459232241454765289",
            "account_name": "bot.dutybot",
            "account_type": "BASIC",
            "can_join_groups": False,
        }
        self.webhook_url, self.webhook_secret, self.webhook_updated = "", "", 0
        self._users: dict[str, ZaloUser] = {}
        self._blocked: set[str] = set()
        self._files: dict[str, bytes] = {}
        self._queue: deque[dict] = deque()
        self._new_update = asyncio.Event()
        self._sent_event = asyncio.Event()
        self._quota = 0
        self._pusher: asyncio.Task | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._seq = itertools.count(1)
        # what tests inspect
        self.sent: list[SentRecord] = []
        self.validation_errors: list[dict] = []
        self.errors: list[dict] = []
        self.calls: Counter = Counter()
        self.delivered: list[dict] = []  # updates handed over (polled or POSTed 2xx)
        self.webhook_posts: list[tuple[int, dict]] = []  # (status, update) for every POST attempt

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> ZaloDouble:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/files/{name}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        sock.setblocking(False)
        await web.SockSite(self._runner, sock).start()
        self.port: int = sock.getsockname()[1]
        return self

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()
        await self._stop_pusher()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ZaloDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    # -- HTTP -----------------------------------------------------------------------------
    async def _handle_api(self, request: web.Request) -> web.Response:
        name, params = request.match_info["method"], {}
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            allowed = METHODS.get(name)
            if allowed is None:  # names are case-sensitive on the platform
                raise ApiError(404, f"Not Found: no method {name}", violation=True)
            params = await self._params(request)
            unknown = sorted(set(params) - allowed)
            if unknown:
                raise ApiError(400, f"Bad request: unknown parameter(s) {unknown}", violation=True)
            self.calls[name] += 1
            if name in SENDS and self._quota > 0:
                self._quota -= 1
                raise ApiError(429, "Quota exceeded")
            result = await getattr(self, f"_m_{name}")(params)
        except ApiError as err:
            entry = {
                "method": name,
                "status": err.code,
                "description": err.description,
                "params": params,
                "at": time.monotonic(),
            }
            self.errors.append(entry)
            if err.violation:
                self.validation_errors.append(entry)
            body = {"ok": False, "error_code": err.code, "description": err.description}
            return web.json_response(body, status=err.code, dumps=lambda o: json.dumps(o, ensure_ascii=False))
        return web.json_response({"ok": True, "result": result}, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def _params(self, request: web.Request) -> dict:
        params: dict[str, Any] = dict(request.query)
        if request.body_exists:
            if request.content_type == "application/json":
                try:
                    data = json.loads(await request.read() or b"{}")
                except ValueError:
                    raise ApiError(400, "Bad request: invalid JSON", violation=True) from None
                if not isinstance(data, dict):
                    raise ApiError(400, "Bad request: body must be a JSON object", violation=True)
                params.update(data)
            else:
                params.update(await request.post())
        return params

    async def _handle_file(self, request: web.Request) -> web.Response:
        data = self._files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/jpeg")

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    # -- methods --------------------------------------------------------------------------
    async def _m_getMe(self, params: dict) -> dict:
        return dict(self.bot)

    async def _m_getUpdates(self, params: dict) -> dict:
        if self.webhook_url:
            raise ApiError(400, "Bad request: a webhook is set; call deleteWebhook to use getUpdates", violation=True)
        try:
            timeout = float(params.get("timeout", 30))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad request: timeout must be a number", violation=True) from None
        deadline = time.monotonic() + timeout
        while not self._queue:
            self._new_update.clear()
            left = deadline - time.monotonic()
            if left <= 0 or self._closing:
                raise ApiError(408, "Request timeout")
            try:
                await asyncio.wait_for(self._new_update.wait(), left)
            except TimeoutError:
                pass
        update = self._queue.popleft()  # fetching confirms it: there is no offset
        self.delivered.append(update)
        return update

    async def _m_setWebhook(self, params: dict) -> dict:
        url, secret = params.get("url"), params.get("secret_token")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad request: url must be an http(s) URL", violation=True)
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise ApiError(400, "Bad request: secret_token must have 8 to 256 characters", violation=True)
        await self._stop_pusher()
        self.webhook_url, self.webhook_secret = url, secret
        self.webhook_updated = int(time.time() * 1000)
        self._pusher = asyncio.create_task(self._push_forever(), name="zalo-double-webhook")
        return {"url": url, "updated_at": self.webhook_updated}

    async def _m_deleteWebhook(self, params: dict) -> dict:
        await self._stop_pusher()
        self.webhook_url, self.webhook_secret = "", ""
        self.webhook_updated = int(time.time() * 1000)
        return {"url": "", "updated_at": self.webhook_updated}

    async def _m_getWebhookInfo(self, params: dict) -> dict:
        return {"url": self.webhook_url, "updated_at": self.webhook_updated}

    def _chat(self, params: dict) -> str:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or chat_id not in self._users:
            raise ApiError(400, f"Bad request: chat {chat_id!r} not found", violation=True)
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: the user has blocked the bot")
        return chat_id

    @staticmethod
    def _text(value: Any, what: str) -> str:
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"Bad request: {what} must have 1 to {MAX_TEXT} characters", violation=True)
        if units(value) > MAX_TEXT:
            raise ApiError(400, f"Bad request: {what} is too long ({units(value)} > {MAX_TEXT})", violation=True)
        return value

    async def _m_sendMessage(self, params: dict) -> dict:
        chat_id = self._chat(params)
        return self._record("sendMessage", chat_id, self._text(params.get("text"), "text"), params)

    async def _m_sendPhoto(self, params: dict) -> dict:
        chat_id = self._chat(params)
        if not isinstance(params.get("photo"), str) or not params["photo"].startswith(("http://", "https://")):
            raise ApiError(400, "Bad request: photo must be an image URL", violation=True)
        caption = self._text(params["caption"], "caption") if "caption" in params else ""
        return self._record("sendPhoto", chat_id, caption, params)

    async def _m_sendSticker(self, params: dict) -> dict:
        return self._record("sendSticker", self._chat(params), "", params)

    async def _m_sendChatAction(self, params: dict) -> None:
        self._chat(params)
        if params.get("action") not in ("typing", "upload_photo"):
            raise ApiError(400, "Bad request: unknown action", violation=True)

    def _record(self, method: str, chat_id: str, text: str, params: dict) -> dict:
        message_id = _hex_id()
        self.sent.append(SentRecord(method, chat_id, text, message_id, dict(params)))
        self._sent_event.set()
        self._sent_event = asyncio.Event()
        return {"message_id": message_id, "date": int(time.time() * 1000)}

    # -- webhook pushing ------------------------------------------------------------------
    async def _push_forever(self) -> None:
        delay = self.webhook_retry_delay
        async with aiohttp.ClientSession() as session:
            while not self._closing:
                if not self._queue:
                    self._new_update.clear()
                    await self._new_update.wait()
                    continue
                update = self._queue[0]
                body = {"ok": True, "result": update} if self.webhook_shape == "wrapped" else update
                try:
                    async with session.post(
                        self.webhook_url, json=body, headers={SECRET_HEADER: self.webhook_secret}
                    ) as r:
                        status = r.status
                except aiohttp.ClientError:
                    status = 0
                self.webhook_posts.append((status, update))
                if 200 <= status < 300:
                    self._queue.popleft()
                    self.delivered.append(update)
                    delay = self.webhook_retry_delay
                else:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)

    async def _stop_pusher(self) -> None:
        if self._pusher is not None:
            self._pusher.cancel()
            try:
                await self._pusher
            except asyncio.CancelledError:
                pass
            self._pusher = None

    # -- acting as users ------------------------------------------------------------------
    def make_user(self, id: str, display_name: str = "") -> ZaloUser:
        user = ZaloUser(str(id), display_name or f"User {id}")
        self._users[user.id] = user
        return user

    def block_user(self, user: ZaloUser) -> None:
        self._blocked.add(user.id)

    def _message(self, user: ZaloUser, **content: Any) -> dict:
        return {
            "from": {"id": user.id, "display_name": user.display_name, "is_bot": False},
            "chat": {"id": user.id, "chat_type": "PRIVATE"},
            **content,
            "message_id": _hex_id(),
            "date": int(time.time() * 1000) + next(self._seq),
        }

    def _enqueue(self, update: dict) -> None:
        self._queue.append(update)
        self._new_update.set()

    async def user_sends_event(self, user: ZaloUser, event_name: str, **content: Any) -> dict:
        """Any update from the user (e.g. "message.unsupported.received"); returns it, queued."""
        update = {"event_name": event_name, "message": self._message(user, **content)}
        self._enqueue(update)
        return update

    async def user_sends(self, user: ZaloUser, text: str) -> dict:
        """The user writes `text`; returns the update (queued for getUpdates or the webhook)."""
        return await self.user_sends_event(user, "message.text.received", text=text)

    async def user_sends_photo(
        self, user: ZaloUser, caption: str | None = None, size: int = 50_000, field_name: str = "photo_url"
    ) -> dict:
        """The user sends a photo (served by the double itself at `photo_url`)."""
        name = f"{_hex_id()}.jpg"
        self._files[name] = b"\xff\xd8\xff\xe0" + bytes(max(size - 4, 0))
        content: dict[str, Any] = {field_name: f"{self.url}/files/{name}"}
        if caption is not None:
            content["caption"] = caption
        return await self.user_sends_event(user, "message.image.received", **content)

    async def user_sends_sticker(self, user: ZaloUser) -> dict:
        return await self.user_sends_event(user, "message.sticker.received", sticker="0e078a2fb66a5f34067b")

    def redeliver(self, update: dict) -> None:
        """The platform hands the same update over again (a retry, a replay)."""
        self._enqueue(json.loads(json.dumps(update)))

    def set_quota_exceeded(self, n: int) -> None:
        """The next `n` sends are answered 429 Quota exceeded."""
        self._quota = n

    # -- inspecting -----------------------------------------------------------------------
    def messages_to(self, chat_id: str | ZaloUser) -> list[SentRecord]:
        chat_id = chat_id.id if isinstance(chat_id, ZaloUser) else chat_id
        return [r for r in self.sent if r.chat_id == chat_id]

    @property
    def pending_updates(self) -> int:
        return len(self._queue)

    async def wait_for(
        self, predicate: Callable[[SentRecord], bool], timeout: float = 5.0, *, since: int = 0
    ) -> SentRecord:
        """The first record in `sent[since:]` matching `predicate` (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((r for r in self.sent[since:] if predicate(r)), None)
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"timed out after {timeout}s; last sent: {[r.text[:80] for r in self.sent[-4:]]}")
            try:
                await asyncio.wait_for(self._sent_event.wait(), left)
            except TimeoutError:
                pass

    async def wait_for_messages(self, chat: str | ZaloUser, n: int, timeout: float = 5.0) -> list[SentRecord]:
        chat_id = chat.id if isinstance(chat, ZaloUser) else chat
        await self.wait_for(lambda r: len(self.messages_to(chat_id)) >= n, timeout)
        return self.messages_to(chat_id)

    async def wait_until_delivered(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self._queue:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self._queue)} updates still pending")
            await asyncio.sleep(0.02)
