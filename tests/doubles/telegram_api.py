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
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
from aiohttp import web

from ._tg_http import read_params, shared_ssl_context
from ._tg_limits import FaultInjector, FloodControl, FloodLimits
from ._tg_methods import MethodsMixin
from ._tg_objects import (
    ANONYMOUS_ADMIN,
    ANONYMOUS_ADMIN_ID,
    TELEGRAM_SERVICE,
    TELEGRAM_SERVICE_ID,
    FileStore,
    SentRecord,
)
from ._tg_spec import ApiError, UploadedFile, load_spec
from ._tg_thread import TelegramDoubleThread
from ._tg_updates import SECRET_HEADER, UpdatesMixin
from ._tg_users import UsersMixin

__all__ = [
    "ANONYMOUS_ADMIN",
    "ANONYMOUS_ADMIN_ID",
    "ApiError",
    "FloodLimits",
    "SECRET_HEADER",
    "SentRecord",
    "TELEGRAM_SERVICE",
    "TELEGRAM_SERVICE_ID",
    "TelegramDouble",
    "TelegramDoubleThread",
]

log = logging.getLogger("tests.doubles.telegram")
_DEFAULT_LIMITS = FloodLimits()
_JSON_HEADERS = {"Content-Type": "application/json"}


def _not_found() -> web.Response:
    return web.Response(
        status=404, body=b'{"ok":false,"error_code":404,"description":"Not Found"}', headers=_JSON_HEADERS
    )


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
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.bot_user_full = {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not group_privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
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
            "text",
            "icon_custom_emoji_id",
            "style",
        }
        self._counted = frozenset(
            name
            for name, m in self.spec.methods.items()
            if (name.startswith("send") and name not in ("sendchataction", "sendmessagedraft"))
            or name in ("forwardmessage", "forwardmessages", "copymessage", "copymessages")
        )
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            name[3:]: getattr(self, name) for name in dir(type(self)) if name.startswith("_m_")
        }
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
        # Called on the double's loop right after it accepts a message (an edit, a deletion),
        # before the answer goes back to the bot: bench/crash kills the bot from here, the moment
        # when a send has happened but the bot cannot have recorded it.
        self.on_accepted: Callable[[SentRecord], None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> TelegramDouble:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        sock.setblocking(False)
        await web.SockSite(self._runner, sock, backlog=1024).start()
        self.port: int = sock.getsockname()[1]
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

    async def __aenter__(self) -> TelegramDouble:
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

    # -- python-telegram-bot clients ----------------------------------------------------------
    def ptb_request(self, **kwargs: Any) -> Any:
        """A PTB ``HTTPXRequest`` sharing one TLS context: httpx builds a new one for every
        client (~70 ms, twice per ``Bot``), which dominates short tests."""
        from telegram.request import HTTPXRequest

        kwargs.setdefault("httpx_kwargs", {}).setdefault("verify", shared_ssl_context())
        return HTTPXRequest(**kwargs)

    def bot(self, **kwargs: Any) -> Any:
        """A ``telegram.Bot`` wired to this double (use ``async with``)."""
        from telegram import Bot

        return Bot(
            self.token,
            base_url=self.base_url,
            base_file_url=self.base_file_url,
            request=self.ptb_request(),
            get_updates_request=self.ptb_request(connection_pool_size=1),
            **kwargs,
        )

    def application_builder(self) -> Any:
        """``Application.builder()`` with token, base URLs and request objects set."""
        from telegram.ext import Application

        return (
            Application.builder()
            .token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
            .request(self.ptb_request())
            .get_updates_request(self.ptb_request(connection_pool_size=1))
        )

    # -- configuration ------------------------------------------------------------------------
    def set_limits(self, limits: FloodLimits | None) -> None:
        self._flood = FloodControl(limits)

    def fail_next(
        self, n: int = 1, status: int = 502, *, retry_after: int | None = None, methods: Iterable[str] | None = None
    ) -> None:
        """The next ``n`` calls (of ``methods``; default all but getUpdates) fail with ``status``."""
        self._faults.fail_next(n, status, retry_after, methods)

    def set_failure_rate(
        self,
        p: float,
        status: int = 429,
        retry_after: tuple[int, int] = (1, 5),
        *,
        methods: Iterable[str] | None = None,
        seed: int | None = None,
    ) -> None:
        """Each call (default all but getUpdates) fails with probability ``p``."""
        self._faults.set_failure_rate(p, status, retry_after, methods, seed)

    def reset_stats(self) -> None:
        self.stats.clear()
        self.stats.update(
            {
                "requests": 0,
                "by_method": Counter(),
                "by_status": Counter(),
                "429": 0,
                "flood_429": 0,
                "sent_inside_retry_after": 0,
                "injected_failures": 0,
                "violations": 0,
                "downloads": 0,
            }
        )

    # -- HTTP ---------------------------------------------------------------------------------
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
            raw = await read_params(request)
            params = self.spec.validate(method, raw)
            # The window first: a send inside a retry_after window is counted (and refused) even when a
            # fault would have been drawn for it, so a storm of injected faults cannot hide one.
            self._check_window(method.name, params)
            fault = self._faults.pick(method.name)
            if fault is not None:
                stats["injected_failures"] += 1
                raise fault
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
        chat_id = _chat_key(params.get("chat_id"))
        left = self._flood.window_remaining(chat_id, time.monotonic(), counted=method.lower() in self._counted)
        if left > 0:
            self.stats["sent_inside_retry_after"] += 1
            n = math.ceil(left)
            raise ApiError(429, f"Too Many Requests: retry after {n}", retry_after=n)

    def _error(self, err: ApiError, method: str, raw: dict[str, Any], params: dict | None) -> web.Response:
        self.stats["by_status"][err.code] += 1
        if err.code == 429:
            self.stats["429"] += 1
            chat_id = _chat_key((params or {}).get("chat_id"))
            if chat_id is not None and err.retry_after:
                self._flood.open_window(chat_id, err.retry_after, time.monotonic())
        entry = {
            "method": method,
            "status": err.code,
            "description": err.description,
            "params": {
                k: (f"<file {v.filename!r}, {len(v.data)} bytes>" if isinstance(v, UploadedFile) else v)
                for k, v in raw.items()
            },
            "time": time.time(),
        }
        self.errors.append(entry)
        if err.violation:
            self.stats["violations"] += 1
            self.validation_errors.append(entry)
            log.warning("Bot API violation: %s %s -> %s", method, entry["params"], err.description)
        body = json.dumps(err.payload(), ensure_ascii=False).encode()
        return web.Response(status=err.code, body=body, headers=_JSON_HEADERS)

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        self.stats["requests"] += 1
        self.stats["by_status"][404] += 1
        return _not_found()

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _not_found()
        entry = self._files.by_path(request.match_info["path"])
        if entry is None:
            return _not_found()
        self.stats["downloads"] += 1
        return web.Response(body=entry.data, content_type="application/octet-stream")

    # -- recording and waiting ----------------------------------------------------------------
    def _record(self, record: SentRecord) -> None:
        self.sent.append(record)
        self._notify_sent()
        if self.on_accepted is not None:
            self.on_accepted(record)

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
            except TimeoutError:
                pass

    async def wait_for(
        self, predicate: Callable[[SentRecord], bool], timeout: float = 5.0, *, since: int = 0
    ) -> SentRecord:
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
            check, timeout, lambda: f"{n} messages to {chat}, got {[r.text for r in self.messages_to(chat)]}"
        )

    async def wait_for_answer(self, query_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Waits until the callback query is answered; returns its record."""
        return await self._wait_until(
            lambda: self._callbacks[query_id]["answered"] and self._callbacks[query_id],
            timeout,
            lambda: f"answerCallbackQuery({query_id})",
        )

    async def wait_until_delivered(self, timeout: float = 5.0) -> None:
        """Waits until no update is pending (confirmed by getUpdates or accepted by the webhook)."""
        await self._wait_until(
            lambda: not self._pending or None, timeout, lambda: f"{len(self._pending)} pending updates to be delivered"
        )

    def assert_no_violations(self) -> None:
        assert not self.validation_errors, f"Bot API violations: {self.validation_errors}"


def _chat_key(chat_id: Any) -> int | None:
    """A numeric chat id, whether the bot sent it as a number or as a string ("9101" is chat 9101)."""
    if type(chat_id) is int:
        return chat_id
    if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
        return int(chat_id)
    return None
