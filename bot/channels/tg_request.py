"""python-telegram-bot's networking on aiohttp (PTB's documented `BaseRequest` extension point).

Why: every update costs one request (its answer) plus a share of getUpdates, and with PTB's
default httpx backend that HTTP layer alone (connection-pool bookkeeping, async-library
detection, stream wrappers per request) cost about as much CPU as a bare echo bot spends on
a whole update. aiohttp, already here for the webhook server, does the same request for
markedly less (bench/telegram_updates.py). PTB still builds every call, validates and parses
every answer and raises its own errors; only the bytes on the wire go through aiohttp.
"""

from __future__ import annotations

import json

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        *,
        connections: int = 8,
        read_timeout: float | None = 5.0,
        connect_timeout: float = 5.0,
        media_timeout: float = 60.0,
        keep_updates: bool = False,
    ) -> None:
        self._connections = connections
        # getUpdates' request: keep each update's JSON as received (update_id -> dict), to be
        # stored in the inbox as is; rebuilding it with Update.to_dict() cost ~0.4 ms an update.
        self.keep_updates, self.updates_json = keep_updates, {}
        self._read_timeout, self._connect_timeout, self._media_timeout = read_timeout, connect_timeout, media_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=300),
                headers={"User-Agent": self.USER_AGENT},
                auto_decompress=True,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def parse_json_payload(self, payload: bytes) -> dict:
        """PTB's parsing (its documented override point), less the quoted message: a message we
        send comes back with the whole message it answers, which dutybot never reads (it keeps
        only the new message's id) and which costs as much again to turn into objects.
        getUpdates' list of updates, where the replied-to message matters, is left whole."""
        data = super().parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, dict):
            result.pop("reply_to_message", None)
        elif self.keep_updates and isinstance(result, list):
            # A second decode in C (cheap), untouched by PTB's de_json of the first.
            self.updates_json = {
                u.get("update_id"): u for u in json.loads(payload).get("result", []) if isinstance(u, dict)
            }
        return data

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout=BaseRequest.DEFAULT_NONE,
        write_timeout=BaseRequest.DEFAULT_NONE,
        connect_timeout=BaseRequest.DEFAULT_NONE,
        pool_timeout=BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        body: object = fields
        if files:  # a photo or a document: multipart, like PTB's own backend
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                data = content.read() if hasattr(content, "read") else content
                form.add_field(name, data, filename=filename, content_type=mime)
            body = form
        read = self._read_timeout if isinstance(read_timeout, type(BaseRequest.DEFAULT_NONE)) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, type(BaseRequest.DEFAULT_NONE)) else connect_timeout
        )
        if files and read is not None:
            read = max(read, self._media_timeout)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as resp:
                return resp.status, await resp.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # The class name only: the URL (and so the token) stays out of the message.
            raise NetworkError(f"aiohttp.{type(err).__name__}") from err

    async def fetch_capped(self, url: str, limit: int) -> bytes | None:
        """GET a file and read at most `limit` bytes of it, so a file that says it is small and
        is not (or says nothing) never costs more memory than the limit: None when larger."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout, sock_read=self._media_timeout)
        try:
            async with self._session.get(url, timeout=timeout) as resp:
                if resp.status != 200:
                    raise NetworkError(f"file download: HTTP {resp.status}")
                if (resp.content_length or 0) > limit:
                    return None
                data = bytearray()
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > limit:
                        return None
                return bytes(data)
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}") from err
