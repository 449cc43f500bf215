"""TelegramDouble on its own event loop in a background thread, for synchronous code."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from typing import Any


class TelegramDoubleThread:
    """Runs a TelegramDouble on its own event loop in a background thread, for synchronous
    code (benchmarks driving dutybot as a separate process).  Coroutine methods of the double
    become blocking calls; other methods run on the double's loop; attributes read through.
    """

    def __init__(self, token: str = "123:TEST", **kwargs: Any) -> None:
        self._args = (token, kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.double: Any = None

    def start(self, timeout: float = 10.0) -> TelegramDoubleThread:
        ready, failure = threading.Event(), []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                from .telegram_api import TelegramDouble

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

    def __enter__(self) -> TelegramDoubleThread:
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
