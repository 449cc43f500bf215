"""Update delivery of the Telegram double: getUpdates long polling and webhooks (a mixin).

getUpdates: updates stay pending until confirmed by a later call with ``offset`` greater
than their update_id (a negative offset keeps the last ``-offset``); a call with ``timeout``
waits until an update arrives; a newer getUpdates call terminates an older waiting one
with 409 Conflict, like Telegram.  Webhook: pending updates are POSTed as JSON to the URL
with ``X-Telegram-Bot-Api-Secret-Token``, retried with backoff until a 2xx answer, in
order per chat and with at most ``max_connections`` requests in flight.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ._tg_spec import ApiError, bad_request

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class UpdatesMixin:
    def _init_updates(self, update_kinds: list[str], first_update_id: int) -> None:
        self._update_kinds = frozenset(update_kinds)
        self._allowed = self._update_kinds - DEFAULT_EXCLUDED
        self._allowed_explicit: list[str] | None = None
        self._last_update_id = first_update_id - 1
        self._pending: dict[int, dict[str, Any]] = {}
        self._updates_event = asyncio.Event()
        self._poll_gen = 0
        self._webhook: dict[str, Any] = {"url": ""}
        self._wh_gen = 0
        self._wh_sem = asyncio.Semaphore(40)
        self._wh_inflight: dict[int, asyncio.Task] = {}
        self._wh_chains: dict[Any, asyncio.Task] = {}
        self._wh_last_error: tuple[int, str] | None = None
        self.updates: list[dict[str, Any]] = []  # every update created, delivered or not
        self.webhook_deliveries: list[dict[str, Any]] = []

    # -- producing ----------------------------------------------------------------------------
    def _emit_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if kind not in self._allowed:
            return None
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, kind: payload}
        self.updates.append(update)
        self._pending[self._last_update_id] = update
        self._notify_updates()
        if self._webhook["url"]:
            self._schedule_delivery(update)
        return update

    def _notify_updates(self) -> None:
        event, self._updates_event = self._updates_event, asyncio.Event()
        event.set()

    def _set_allowed(self, allowed: list[str]) -> None:
        unknown = [k for k in allowed if k not in self._update_kinds]
        if unknown:
            raise bad_request(f"unknown update type {unknown[0]!r} in allowed_updates")
        self._allowed_explicit = list(allowed) or None
        self._allowed = frozenset(allowed) if allowed else self._update_kinds - DEFAULT_EXCLUDED

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self._pending.values())

    # -- getUpdates ---------------------------------------------------------------------------
    def _confirm(self, offset: int) -> None:
        pending = self._pending
        if offset < 0:
            for key in list(pending)[: max(len(pending) + offset, 0)]:
                del pending[key]
            return
        while pending:
            first = next(iter(pending))
            if first >= offset:
                break
            del pending[first]

    async def _m_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        limit = p.get("limit", 100)
        if not 1 <= limit <= 100:
            limit = 100
        if "allowed_updates" in p:
            self._set_allowed(p["allowed_updates"])
        if p.get("offset"):
            self._confirm(p["offset"])
        self._poll_gen += 1
        generation = self._poll_gen
        self._notify_updates()  # wakes an older poller, which then reports the conflict
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(p.get("timeout", 0), 0)
        while not self._pending and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._updates_event.wait(), remaining)
            except TimeoutError:
                break
            if generation != self._poll_gen:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
        return list(islice(self._pending.values(), limit))

    # -- webhook ------------------------------------------------------------------------------
    def _m_setWebhook(self, p: dict[str, Any]) -> bool:
        url = p["url"]
        if not url:
            return self._m_deleteWebhook(p)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: Invalid URL")
        if parts.scheme != "https" and parts.hostname not in _LOOPBACK:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters or is too long")
        max_connections = p.get("max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if "allowed_updates" in p:
            self._set_allowed(p["allowed_updates"])
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self._wh_gen += 1
        self._webhook = {"url": url, "secret_token": secret, "max_connections": max_connections}
        self._wh_sem = asyncio.Semaphore(max_connections)
        self._wh_last_error = None
        self._notify_updates()  # a waiting getUpdates ends
        for update in list(self._pending.values()):
            self._schedule_delivery(update)
        return True

    def _m_deleteWebhook(self, p: dict[str, Any]) -> bool:
        self._wh_gen += 1
        self._webhook = {"url": ""}
        self._wh_last_error = None
        if p.get("drop_pending_updates"):
            self._pending.clear()
        return True

    def _m_getWebhookInfo(self, p: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook["url"]:
            info["ip_address"] = "127.0.0.1"
            info["max_connections"] = self._webhook["max_connections"]
            if self._allowed_explicit:
                info["allowed_updates"] = self._allowed_explicit
        if self._wh_last_error:
            info["last_error_date"], info["last_error_message"] = self._wh_last_error
        return info

    @staticmethod
    def _update_key(update: dict[str, Any]) -> Any:
        for value in update.values():
            if isinstance(value, dict):
                chat = value.get("chat") or (value.get("message") or {}).get("chat")
                if chat:
                    return chat["id"]
                if "from" in value:
                    return value["from"]["id"]
        return None

    def _schedule_delivery(self, update: dict[str, Any]) -> None:
        uid = update["update_id"]
        if uid in self._wh_inflight:
            return
        key = self._update_key(update)
        previous = self._wh_chains.get(key)
        task = asyncio.get_running_loop().create_task(self._deliver(update, previous, self._wh_gen))
        self._wh_inflight[uid] = task
        self._wh_chains[key] = task

        def done(t: asyncio.Task, uid: int = uid, key: Any = key) -> None:
            self._wh_inflight.pop(uid, None)
            if self._wh_chains.get(key) is t:
                del self._wh_chains[key]

        task.add_done_callback(done)

    async def _deliver(self, update: dict[str, Any], previous: asyncio.Task | None, generation: int) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        uid = update["update_id"]
        body = json.dumps(update, ensure_ascii=False).encode()
        attempt = 0
        while generation == self._wh_gen and not self._closing and uid in self._pending:
            attempt += 1
            hook = self._webhook
            headers = {"Content-Type": "application/json"}
            if hook.get("secret_token"):
                headers[SECRET_HEADER] = hook["secret_token"]
            status, error = None, None
            if self._session is None:  # created lazily: building its TLS context is slow
                self._session = aiohttp.ClientSession()
            async with self._wh_sem:
                try:
                    async with self._session.post(
                        hook["url"],
                        data=body,
                        headers=headers,
                        timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                    ) as resp:
                        status = resp.status
                        await resp.read()
                        if not 200 <= status < 300:
                            error = f"Wrong response from the webhook: {status} {resp.reason}"
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    error = f"Connection failed: {exc.__class__.__name__}: {exc}"
            self.webhook_deliveries.append(
                {"update_id": uid, "attempt": attempt, "status": status, "error": error, "time": time.time()}
            )
            if error is None:
                self._pending.pop(uid, None)
                self._notify_sent()
                return
            self._wh_last_error = (int(time.time()), error)
            await asyncio.sleep(min(self.webhook_retry_delay * 2 ** (attempt - 1), self.webhook_max_retry_delay))

    async def _stop_webhook(self) -> None:
        tasks = list(self._wh_inflight.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
