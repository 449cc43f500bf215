"""A running dutybot: channels (poll or webhook), inbox processing, delivery and the scheduler.

Roles split the work across processes: `web` receives updates (polling or webhooks) and
processes them; `worker` drains the outbox and runs the scheduler (only the lease holder
plans reminders); `all` does both. Several instances may run against one PostgreSQL
database; on SQLite, a second instance on the same file refuses to start.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import logging
import signal

from aiohttp import web

from bot import inbox
from bot.channels import webhook_input
from bot.context import App
from bot.delivery import Delivery
from bot.floodgate import SenderGate
from bot.health import health_report
from bot.instance import lock_sqlite
from bot.liveness import Liveness
from bot.ratelimit import Limits, Pacer
from bot.router import Router
from bot.scheduler import Scheduler
from storage import retry

log = logging.getLogger(__name__)
ROLES = ("all", "web", "worker")


class Runtime:
    def __init__(
        self,
        app: App,
        *,
        role: str = "all",
        scheduler: bool = True,
        limits: Limits | None = None,
        poll_timeout: int = 20,
    ) -> None:
        if role not in ROLES:
            raise ValueError(role)
        self.app, self.role = app, role
        self.router = Router(app, SenderGate.from_settings(app.settings.limits))
        self.channels: dict = {}
        self.tasks: list[asyncio.Task] = []
        self.web_runner: web.AppRunner | None = None
        self._lock = None
        self._web_routes: list[tuple[str, object]] = []
        tg_cfg = app.settings.telegram
        pacers = {
            "telegram": Pacer(
                limits
                or Limits(
                    per_second=tg_cfg.max_per_second,
                    private_interval=tg_cfg.chat_interval,
                    group_per_minute=tg_cfg.group_per_minute,
                )
            )
        }
        if app.settings.telegram.token:
            from bot.channels.telegram import TelegramChannel

            self.channels["telegram"] = TelegramChannel(
                app, self.router, on_change=self.changed, poll_timeout=poll_timeout, pacer=pacers["telegram"]
            )
        if app.settings.zalo.token:
            from bot.channels.zalo import ZaloChannel

            self.channels["zalo"] = ZaloChannel(
                app,
                self.router,
                on_change=self.changed,
                poll_timeout=poll_timeout,
                pacer=Pacer(limits) if limits else None,
            )
            pacers["zalo"] = self.channels["zalo"].pacer  # one object: a 429 pauses every Zalo send
        self.delivery = Delivery(app, self.channels, pacers)
        self.liveness = Liveness()  # every loop's pulse, for /health
        self.scheduler = (
            Scheduler(app, on_queued=self.delivery.wake, digest=self._digest)
            if scheduler and role in ("all", "worker")
            else None
        )

    @property
    def receives(self) -> bool:
        return self.role in ("all", "web")

    @property
    def serves_board(self) -> bool:
        """The web board (bot/web/) on the same server, when `[web] enabled = true`."""
        return self.receives and bool(self.app.settings.web.enabled)

    def changed(self) -> None:
        """An update was processed: its notices are queued; its task may need re-planning."""
        self.delivery.wake()
        if self.scheduler is not None:
            self.scheduler.poke()

    def _digest(self) -> int:
        from bot.event_ending import end_finished_events
        from bot.morning_digest import queue_digests

        return end_finished_events(self.app) + queue_digests(self.app)

    async def start(self) -> None:
        self._lock = lock_sqlite(self.app.db.url)
        await asyncio.to_thread(self.delivery.restore_holds)  # before anything is sent
        for channel in self.channels.values():
            await channel.start()
        tg = self.channels.get("telegram")
        if tg is not None and self.receives:
            if self.app.settings.telegram.mode == "webhook":
                self._web_routes.append(("/telegram", self._telegram_webhook(tg)))
            else:
                await tg.bot.delete_webhook()
                self._loop(tg.poll_pulse, tg.poll_forever(), "tg-poll")
            self._loop(tg.process_pulse, tg.process_forever(), "tg-process")
            self.liveness.add(tg.pipeline.settler.pulse)
        zl = self.channels.get("zalo")
        if zl is not None and self.receives:
            if self.app.settings.zalo.mode == "webhook":
                self._web_routes.append(("/zalo", zl.webhook_handler()))
            else:
                await zl.delete_webhook()
                self._loop(zl.poll_pulse, zl.poll_forever(), "zalo-poll")
            self._loop(zl.process_pulse, zl.process_forever(), "zalo-process")
            self.liveness.add(zl.pipeline.settler.pulse)
        if self._web_routes or self.app.settings.server.health or self.serves_board:
            await self._start_web()
        if (
            zl is not None
            and self.receives
            and self.app.settings.zalo.mode == "webhook"
            and self.app.settings.zalo.webhook_url
        ):
            await zl.set_webhook(self.app.settings.zalo.webhook_url)
        if tg is not None and self.receives and self.app.settings.telegram.mode == "webhook":
            await self._register_telegram_webhook(tg)
        if self.role in ("all", "worker"):
            self._loop(self.delivery.pulse, self.delivery.run_forever(), "delivery")
        if self.scheduler is not None:
            self.scheduler.start()
            self.liveness.add(self.scheduler.pulse)
        # Everything loaded so far (modules, templates, the ORM's mappers) lives as long as the
        # process: keep it out of the collector's full passes, which otherwise walk it all and
        # show up as the slowest answers (p99) under a steady stream of updates.
        gc.freeze()

    def _loop(self, pulse, coro, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self.tasks.append(task)
        self.liveness.add(pulse, task)

    async def stop(self) -> None:
        """Graceful: stop taking work, let the in-flight send finish, then close the channels."""
        self.liveness.stopping = True
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.delivery.stop()
        for ch in self.channels.values():
            ch.interrupt()  # a long poll is cut short: a stop takes a moment, not poll_timeout
        if self.tasks:
            _done, pending = await asyncio.wait(self.tasks, timeout=10)
            for t in pending:
                t.cancel()
        if self.web_runner is not None:
            await self.web_runner.cleanup()
        for channel in self.channels.values():
            await channel.stop()
        if self._lock is not None:
            self._lock.close()

    async def run_until_signalled(self) -> None:
        await self.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("dutybot running (role %s, channels %s)", self.role, ", ".join(self.channels) or "none")
        await stop.wait()
        await self.stop()

    # -- HTTP: webhooks and health ---------------------------------------------------------
    async def _start_web(self) -> None:
        cfg = self.app.settings.server
        web_app = web.Application(client_max_size=2 * 1024 * 1024)
        for path, handler in self._web_routes:
            web_app.router.add_post(path, handler)
        web_app.router.add_get("/health", self._health)
        if self.serves_board:
            from bot.web.server import mount

            mount(web_app, self.app, self.changed)
        self.web_runner = web.AppRunner(web_app, access_log=None)
        await self.web_runner.setup()
        await web.TCPSite(self.web_runner, cfg.listen, cfg.port).start()

    async def _health(self, request: web.Request) -> web.Response:
        report = await asyncio.to_thread(health_report, self.app, self)
        return web.Response(
            text=json.dumps(report), content_type="application/json", status=200 if report["healthy"] else 503
        )

    async def _register_telegram_webhook(self, tg) -> None:
        cfg = self.app.settings.telegram
        if cfg.webhook_url:
            await tg.bot.set_webhook(
                cfg.webhook_url, secret_token=self._secret(), allowed_updates=["message", "callback_query"]
            )

    def _secret(self) -> str:
        cfg = self.app.settings.telegram
        secret = cfg.webhook_secret.get_secret_value() if cfg.webhook_secret else ""
        if len(secret) < 8:
            raise SystemExit("config error: telegram.webhook_secret: 8 or more characters required in webhook mode")
        return secret

    def _telegram_webhook(self, tg):
        secret = self._secret().encode()

        async def handle(request: web.Request) -> web.Response:
            got = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode()
            if not hmac.compare_digest(got, secret):
                return web.Response(status=403)
            try:
                payload = webhook_input.parse_object(await request.read())
                key = webhook_input.telegram_update_key(payload)
            except webhook_input.BadInput:
                return web.Response(status=400)
            # 200 only after the update is committed: Telegram retries anything else.
            await asyncio.to_thread(retry.transaction, inbox.store_updates, self.app, "telegram", [(key, payload)])
            tg.wake()
            return web.Response(status=200)

        return handle
