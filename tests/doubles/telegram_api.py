"""A strict, in-repo test double of the Telegram Bot API: a real local HTTP server.

Point python-telegram-bot at it::

    async with TelegramDouble(token="123:TEST") as tg:
        app = (Application.builder().token(tg.token)
               .base_url(f"{tg.url}/bot").base_file_url(f"{tg.url}/file/bot").build())

PTB appends the token to ``base_url`` (unless it contains ``{token}``) and then
``/<method>``, so requests arrive at ``/bot<token>/<method>``; files are fetched from
``/file/bot<token>/<file_path>``.  Every call is validated against the official spec
(``api.min.json``) and Telegram's rules; violations are answered like Telegram (400/404) and
recorded in ``validation_errors``.  See the mixins for the pieces:
``_tg_methods`` (methods), ``_tg_updates`` (getUpdates/webhook), ``_tg_users`` (acting as
users), ``_tg_limits`` (flood limits, fault injection), ``_tg_text`` (HTML, lengths).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
import socket
import threading
import time
from collections import Counter
from typing import Any, Callable, Iterable

import aiohttp
from aiohttp import web

from ._tg_limits import FaultInjector, FloodControl, FloodLimits
from ._tg_methods import MethodsMixin
from ._tg_objects import (
    ANONYMOUS_ADMIN, ANONYMOUS_ADMIN_ID, MESSAGE_METHODS, TELEGRAM_SERVICE, TELEGRAM_SERVICE_ID,
    FileStore, SentRecord,
)
from ._tg_spec import ApiError, UploadedFile, bad_request, load_spec
from ._tg_updates import SECRET_HEADER, UpdatesMixin
from ._tg_users import UsersMixin

__all__ = [
    "ANONYMOUS_ADMIN", "ANONYMOUS_ADMIN_ID", "ApiError", "FloodLimits", "SECRET_HEADER", "SentRecord",
    "TELEGRAM_SERVICE", "TELEGRAM_SERVICE_ID", "TelegramDouble", "TelegramDoubleThread",
]

log = logging.getLogger("tests.doubles.telegram")
_DEFAULT_LIMITS = FloodLimits()
_JSON_HEADERS = {"Content-Type": "application/json"}
_NOT_FOUND = web.Response(status=404, body=b'{"ok":false,"error_code":404,"description":"Not Found"}',
                          headers=_JSON_HEADERS)


class TelegramDouble(MethodsMixin, UpdatesMixin, UsersMixin):
    """The Bot API double.  Use ``async with`` (or ``start()``/``stop()``) on a running loop."""

    def __init__(
        self,
        token: str = "123:TEST",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: FloodLimits | None = _DEFAULT_LIMITS,
        bot_username: str = "dutybot_test_bot",
        bot_first_name: str = "DutyBot",
        group_privacy: bool = True,
        strict_html_ampersand: bool = True,
        callback_timeout: float | None = 15.0,
        webhook_retry_delay: float = 0.05,
        webhook_max_retry_delay: float = 2.0,
        webhook_timeout: float = 10.0,
        first_update_id: int = 1,
        spec_path: str | None = None,
    ) -> None:
        self.token = token
        self.host, self._port = host, port
        self.spec = load_spec(spec_path)
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123
        self.bot_user: dict[str, Any] = {"id": bot_id, "is_bot": True, "first_name": bot_first_name,
                                         "username": bot_username}
        self.bot_user_full = {**self.bot_user, "can_join_groups": True,
                              "can_read_all_group_messages": not group_privacy,
                              "supports_inline_queries": False, "can_connect_to_business": False,
                              "has_main_web_app": False}
        self.group_privacy = group_privacy
        self.strict_html_ampersand = strict_html_ampersand
        self.callback_timeout = callback_timeout
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_max_retry_delay = webhook_max_retry_delay
        self.webhook_timeout = webhook_timeout
        # state
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._blocked: set[int] = set()
        self._kicked_from: set[int] = set()
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._last_message_id: dict[int, int] = {}
        self._files = FileStore()
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._callback_seq = 0
        self._commands: dict[tuple[Any, ...], list[dict[str, str]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._flood = FloodControl(limits)
        self._faults = FaultInjector()
        self._button_actions = frozenset(self.spec.type_fields("InlineKeyboardButton")) - {
            "text", "icon_custom_emoji_id", "style"}
        self._counted = frozenset(
            name for name, m in self.spec.methods.items()
            if (name.startswith("send") and name not in ("sendchataction", "sendmessagedraft"))
            or name in ("forwardmessage", "forwardmessages", "copymessage", "copymessages"))
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            name[3:]: getattr(self, name) for name in dir(type(self)) if name.startswith("_m_")}
        self._init_updates(self.spec.type_fields("Update")[1:], first_update_id)
        self._sent_event = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        # what tests inspect
        self.sent: list[SentRecord] = []
        self.validation_errors: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []  # every error answer, violations or not
        self.chat_actions: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.other_calls: list[dict[str, Any]] = []
        self.stats: dict[str, Any] = {}
        self.reset_stats()

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> "TelegramDouble":
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        sock.setblocking(False)
        await web.SockSite(self._runner, sock, backlog=1024).start()
        self.port: int = sock.getsockname()[1]
        self._session = aiohttp.ClientSession()
        self._closing = False
        return self

    async def stop(self) -> None:
        self._closing = True
        self._notify_updates()
        await self._stop_webhook()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "TelegramDouble":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` / ``Bot(base_url=...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # -- configuration ------------------------------------------------------------------------
    def set_limits(self, limits: FloodLimits | None) -> None:
        self._flood = FloodControl(limits)

    def fail_next(self, n: int = 1, status: int = 502, *, retry_after: int | None = None,
                  methods: Iterable[str] | None = None) -> None:
        """The next ``n`` calls (of ``methods``; default all but getUpdates) fail with ``status``."""
        self._faults.fail_next(n, status, retry_after, methods)

    def set_failure_rate(self, p: float, status: int = 429, retry_after: tuple[int, int] = (1, 5), *,
                         methods: Iterable[str] | None = None, seed: int | None = None) -> None:
        """Each call (default all but getUpdates) fails with probability ``p``."""
        self._faults.set_failure_rate(p, status, retry_after, methods, seed)

    def reset_stats(self) -> None:
        self.stats.clear()
        self.stats.update({
            "requests": 0, "by_method": Counter(), "by_status": Counter(), "429": 0, "flood_429": 0,
            "sent_inside_retry_after": 0, "injected_failures": 0, "violations": 0,
        })

    # -- HTTP ---------------------------------------------------------------------------------
    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query) if request.query_string else {}
        if not request.body_exists:
            return raw
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.read()
            if body.strip():
                try:
                    data = json.loads(body)
                except ValueError:
                    raise bad_request("can't parse JSON object") from None
                if not isinstance(data, dict):
                    raise bad_request("request body must be a JSON object")
                raw.update(data)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            files: dict[str, UploadedFile] = {}
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(value.filename, value.content_type, value.file.read())
                else:
                    raw[key] = value
            if files:
                self._attach(raw, files)
        return raw

    @staticmethod
    def _attach(raw: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        for key, value in list(raw.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                name = value[len("attach://"):]
                if name not in files:
                    raise bad_request(f'file "{name}" must be uploaded in the request')
                raw[key] = files.pop(name)
        referenced = " ".join(v for v in raw.values() if isinstance(v, str))
        for name, upload in files.items():  # parts named after the parameter they fill
            if f"attach://{name}" not in referenced:
                raw[name] = upload

    async def _handle_api(self, request: web.Request) -> web.Response:
        stats = self.stats
        stats["requests"] += 1
        name = request.match_info["method"]
        method, raw, params = None, {}, None
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            method = self.spec.method(name)
            if method is None:
                raise ApiError(404, "Not Found: method not found", violation=True)
            stats["by_method"][method.name] += 1
            raw = await self._read_params(request)
            params = self.spec.validate(method, raw)
            fault = self._faults.pick(method.name)
            if fault is not None:
                stats["injected_failures"] += 1
                raise fault
            self._check_window(method.name, params)
            handler = self._handlers.get(method.name)
            result = handler(params) if handler else self._generic(method.name, params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as err:
            return self._error(err, method.name if method else name, raw, params)
        stats["by_status"][200] += 1
        body = json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()
        return web.Response(body=body, headers=_JSON_HEADERS)

    def _check_window(self, method: str, params: dict[str, Any]) -> None:
        chat_id = params.get("chat_id")
        if type(chat_id) is not int:
            chat_id = None
        left = self._flood.window_remaining(chat_id, time.monotonic(), counted=method.lower() in self._counted)
        if left > 0:
            self.stats["sent_inside_retry_after"] += 1
            n = math.ceil(left)
            raise ApiError(429, f"Too Many Requests: retry after {n}", retry_after=n)

    def _error(self, err: ApiError, method: str, raw: dict[str, Any], params: dict | None) -> web.Response:
        self.stats["by_status"][err.code] += 1
        if err.code == 429:
            self.stats["429"] += 1
            chat_id = (params or {}).get("chat_id")
            if type(chat_id) is int and err.retry_after:
                self._flood.open_window(chat_id, err.retry_after, time.monotonic())
        entry = {"method": method, "status": err.code, "description": err.description,
                 "params": {k: (f"<file {v.filename!r}, {len(v.data)} bytes>" if isinstance(v, UploadedFile)
                                else v) for k, v in raw.items()},
                 "time": time.time()}
        self.errors.append(entry)
        if err.violation:
            self.stats["violations"] += 1
            self.validation_errors.append(entry)
            log.warning("Bot API violation: %s %s -> %s", method, entry["params"], err.description)
        body = json.dumps(err.payload(), ensure_ascii=False).encode()
        return web.Response(status=err.code, body=body, headers=_JSON_HEADERS)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _NOT_FOUND
        entry = self._files.by_path(request.match_info["path"])
        if entry is None:
            return _NOT_FOUND
        return web.Response(body=entry.data, content_type="application/octet-stream")

    # -- recording and waiting ----------------------------------------------------------------
    def _record(self, record: SentRecord) -> None:
        self.sent.append(record)
        self._notify_sent()

    def _notify_sent(self) -> None:
        event, self._sent_event = self._sent_event, asyncio.Event()
        event.set()

    async def _wait_until(self, check: Callable[[], Any], timeout: float, what: Callable[[], str]) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = check()
            if found:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what()}")
            try:
                await asyncio.wait_for(self._sent_event.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def wait_for(self, predicate: Callable[[SentRecord], bool], timeout: float = 5.0, *,
                       since: int = 0) -> SentRecord:
        """The first record in ``sent[since:]`` matching ``predicate`` (waits for it)."""
        def check() -> SentRecord | None:
            return next((r for r in self.sent[since:] if predicate(r)), None)

        return await self._wait_until(check, timeout, lambda: f"a matching record; last sent: {self.sent[-3:]}")

    async def wait_for_messages(self, chat: Any, n: int, timeout: float = 5.0) -> list[SentRecord]:
        """Waits until the bot has sent at least ``n`` messages to ``chat``; returns them all."""
        def check() -> list[SentRecord] | None:
            found = self.messages_to(chat)
            return found if len(found) >= n else None

        return await self._wait_until(
            check, timeout, lambda: f"{n} messages to {chat}, got {[r.text for r in self.messages_to(chat)]}")

    async def wait_for_answer(self, query_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Waits until the callback query is answered; returns its record."""
        return await self._wait_until(lambda: self._callbacks[query_id]["answered"] and self._callbacks[query_id],
                                      timeout, lambda: f"answerCallbackQuery({query_id})")

    async def wait_until_delivered(self, timeout: float = 5.0) -> None:
        """Waits until no update is pending (confirmed by getUpdates or accepted by the webhook)."""
        await self._wait_until(lambda: not self._pending or None, timeout,
                               lambda: f"{len(self._pending)} pending updates to be delivered")

    def assert_no_violations(self) -> None:
        assert not self.validation_errors, f"Bot API violations: {self.validation_errors}"


class TelegramDoubleThread:
    """Runs a TelegramDouble on its own event loop in a background thread, for synchronous
    code (benchmarks driving dutybot as a separate process).  Coroutine methods of the double
    become blocking calls; other methods run on the double's loop; attributes read through.
    """

    def __init__(self, token: str = "123:TEST", **kwargs: Any) -> None:
        self._args = (token, kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.double: TelegramDouble | None = None

    def start(self, timeout: float = 10.0) -> "TelegramDoubleThread":
        ready, failure = threading.Event(), []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                self.double = TelegramDouble(self._args[0], **self._args[1])
                loop.run_until_complete(self.double.start())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.double.stop())
                loop.close()

        self._thread = threading.Thread(target=run, name="telegram-double", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("the Telegram double did not start")
        if failure:
            raise failure[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)

    def __enter__(self) -> "TelegramDoubleThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run(self, coro: Any, timeout: float | None = 30.0) -> Any:
        """Runs a coroutine on the double's loop and returns its result."""
        assert self._loop is not None, "start() first"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Runs a plain function on the double's loop (state is only touched there)."""
        async def invoke() -> Any:
            return fn(*args, **kwargs)

        return self.run(invoke())

    def __getattr__(self, name: str) -> Any:
        double = self.__dict__.get("double")
        if double is None:
            raise AttributeError(name)
        attr = getattr(double, name)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **kw: self.run(attr(*a, **kw))
        if inspect.ismethod(attr):
            return lambda *a, **kw: self.call(attr, *a, **kw)
        return attr
