"""A running dutybot: channels (poll or webhook), inbox processing, delivery and the scheduler."""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal

from aiohttp import web

from bot import inbox
from bot.context import App
from bot.delivery import Delivery
from bot.ratelimit import Limits, Pacer
from bot.router import Router
from bot.scheduler import Scheduler

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, app: App, *, scheduler: bool = True, limits: Limits | None = None,
                 poll_timeout: int = 20) -> None:
        self.app = app
        self.router = Router(app)
        self.channels: dict = {}
        self.tasks: list[asyncio.Task] = []
        self.web_runner: web.AppRunner | None = None
        if app.settings.telegram.token:
            from bot.channels.telegram import TelegramChannel

            self.channels["telegram"] = TelegramChannel(app, self.router, on_change=self.changed,
                                                        poll_timeout=poll_timeout)
        pacers = {"telegram": Pacer(limits or Limits())}
        self.delivery = Delivery(app, self.channels, pacers)
        self.scheduler = Scheduler(app, on_queued=self.delivery.wake, digest=self._digest) if scheduler else None

    def changed(self) -> None:
        """An update was processed: its notices are queued; its task may need re-planning."""
        self.delivery.wake()
        if self.scheduler is not None:
            self.scheduler.poke()

    def _digest(self) -> int:
        from bot.digest import queue_digests

        return queue_digests(self.app)

    async def start(self) -> None:
        for channel in self.channels.values():
            await channel.start()
        tg = self.channels.get("telegram")
        if tg is not None:
            if self.app.settings.telegram.mode == "webhook":
                await self._start_webhook(tg)
            else:
                await tg.bot.delete_webhook()
                self.tasks.append(asyncio.create_task(tg.poll_forever(), name="tg-poll"))
            self.tasks.append(asyncio.create_task(tg.process_forever(), name="tg-process"))
        self.tasks.append(asyncio.create_task(self.delivery.run_forever(), name="delivery"))
        if self.scheduler is not None:
            self.scheduler.start()

    async def stop(self) -> None:
        """Graceful: stop taking work, let the in-flight send finish, then close the channels."""
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.delivery.stop()
        for ch in self.channels.values():
            ch._stopping = True
            ch.wake()
        done, pending = await asyncio.wait(self.tasks, timeout=10) if self.tasks else (set(), set())
        for t in pending:
            t.cancel()
        if self.web_runner is not None:
            await self.web_runner.cleanup()
        for channel in self.channels.values():
            await channel.stop()

    async def run_until_signalled(self) -> None:
        await self.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await self.stop()

    # -- webhook -------------------------------------------------------------------------
    async def _start_webhook(self, tg) -> None:
        cfg = self.app.settings.telegram
        secret = cfg.webhook_secret.get_secret_value() if cfg.webhook_secret else ""
        if not secret:
            raise SystemExit("config error: telegram.webhook_secret: required in webhook mode")
        web_app = web.Application()
        web_app.router.add_post("/telegram", self._telegram_webhook(secret, tg))
        self.web_runner = web.AppRunner(web_app)
        await self.web_runner.setup()
        await web.TCPSite(self.web_runner, cfg.listen, cfg.port).start()
        if cfg.webhook_url:
            await tg.bot.set_webhook(cfg.webhook_url, secret_token=secret, allowed_updates=["message", "callback_query"])

    def _telegram_webhook(self, secret: str, tg):
        async def handle(request: web.Request) -> web.Response:
            got = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(got.encode(), secret.encode()):
                return web.Response(status=403)
            try:
                payload = await request.json()
                key = str(int(payload["update_id"]))
            except (ValueError, KeyError, TypeError):
                return web.Response(status=400)
            # 200 only after the update is committed: Telegram retries anything else.
            await asyncio.to_thread(inbox.store_updates, self.app, "telegram", [(key, payload)])
            tg.wake()
            return web.Response(status=200)

        return handle
