"""The one place where everything is wired: config -> database -> engine -> channels."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from bot.actors import SystemActor
from bot.config import Settings
from bot.context import App
from storage.accounts import add_person
from storage.db import Database
from storage.migrate import upgrade
from workflows import people
from workflows.ports import Ctx, UserRecord

log = logging.getLogger(__name__)
__all__ = ["SystemActor", "add_admin", "ensure_config_admins", "open_app", "run", "run_console"]


def open_app(
    settings: Settings, *, clock: Callable[[], datetime] | None = None, migrate: bool = True, sync_admins: bool = True
) -> App:
    """The one place an App is built: every CLI verb, `run`, the local chat and the tests
    (tests/conftest.make_app) come through here.

    `migrate`: bring the database to the current schema first (off in tests: their fixtures
    migrate once per database). `sync_admins`: apply `[access] admins` (see ensure_config_admins;
    off where a test sets up its own people, and after a restore, which only migrates)."""
    db = Database(
        settings.storage.url, busy_timeout_ms=settings.storage.busy_timeout_ms, pool_size=settings.storage.pool_size
    )
    if migrate:
        upgrade(db)
    app = App(settings, db, clock) if clock else App(settings, db)
    if sync_admins:
        ensure_config_admins(app)
    return app


def config_admin_identities(settings: Settings) -> set[str]:
    """`[access] admins` as a set of "channel:id"."""
    return {entry.strip() for entry in settings.access.admins}


def ensure_config_admins(app: App) -> None:
    """Re-sync the admins of `[access] admins` at every start: those listed are admins; an admin
    who was made one by the config and is no longer listed is removed (logged, audited).
    Admins made with the CLI (`user add-admin`, `user set-role`) stay; so do admins from before
    this was tracked (admin_source NULL) until the config lists them once."""
    listed = config_admin_identities(app.settings)
    for entry in sorted(listed):
        channel, external_id = entry.split(":", 1)
        add_admin(app, channel, external_id, source="config")
    with app.write() as store:
        ctx = Ctx(actor=SystemActor(name="config"), channel="config", now=app.now())
        for user in store.users_with_role("admin"):
            ids = {f"{i.channel}:{i.external_id}" for i in store.identities_of(user.id)}
            if user.admin_source != "config" or ids & listed:
                continue
            people.deactivate(store, ctx, user, reason="not in [access] admins")
            log.warning(
                "admin #%s %s (%s) is no longer in [access] admins: removed (history kept); "
                "`dutybot user set-role` or an invite brings them back",
                user.id,
                user.name,
                ", ".join(sorted(ids)) or "no identity",
            )


def add_admin(
    app: App, channel: str, external_id: str, name: str | None = None, *, source: str = "cli"
) -> tuple[UserRecord, bool]:
    """Make (or promote) the user behind channel:id an admin; returns (user, created).

    `source` says why ("config" or "cli"): an admin made by the CLI stays one when the config
    later lists and unlists them; a removed person named here is brought back."""
    with app.write() as store:
        ident = store.identity(channel, external_id)
        if ident is not None:
            user = store.user(ident.user_id)
            was_admin = user.active and user.role == "admin"
            user.role, user.agency_code, user.is_deputy, user.active = "admin", None, False, True
            if source == "cli" or not was_admin or user.admin_source is None:
                user.admin_source = source
            return user, False
        user = add_person(
            store,
            name=name or f"admin {channel}:{external_id}",
            role="admin",
            channel=channel,
            external_id=external_id,
            now=app.now(),
            admin_source=source,
        )
        return user, True


def has_chat_token(settings: Settings) -> bool:
    return bool(settings.telegram.token or settings.zalo.token)


async def run(app: App, *, stream: TextIO = sys.stdin, out: TextIO = sys.stdout, role: str = "all") -> None:
    """`dutybot run`: the configured channels, or the local chat on the demo when no token is set."""
    if has_chat_token(app.settings):
        from bot.runtime import Runtime

        await Runtime(app, role=role).run_until_signalled()
        return
    await run_console(app, stream=stream, out=out, seed_demo=True)


async def run_console(
    app: App,
    *,
    stream: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    seed_demo: bool = True,
    as_user: str | None = None,
) -> None:
    from bot.channels.console import ConsoleChannel
    from bot.demo import ensure_demo, intro
    from bot.instance import lock_sqlite
    from bot.router import Router
    from bot.scheduler import Scheduler

    lock = lock_sqlite(app.db.url)  # one instance per SQLite file
    created = ensure_demo(app) if seed_demo else False
    console = ConsoleChannel(app, Router(app), out=out)
    out.write(intro(app, created) + "\n")
    if as_user:
        console.switch(as_user)
    # Reminders run here too; what they queue shows up when its recipient is at the keyboard.
    scheduler = Scheduler(app)
    scheduler.start()
    board = await start_local_board(app, out)
    try:
        await console.run(stream)
    finally:
        if board is not None:
            await board.cleanup()
        scheduler.shutdown()
        if lock is not None:
            lock.close()


async def start_local_board(app: App, out: TextIO):
    """The web board next to the local chat (on unless `[web] enabled = false`), so /web works."""
    from bot.web.auth import board_enabled

    if not board_enabled(app.settings, local_chat=True):
        return None
    from aiohttp import web

    from bot.i18n import Texts, strip_html
    from bot.web.server import mount

    texts = Texts(app.settings.general.language, app.tz)  # the terminal's own lines
    web_app = web.Application()
    mount(web_app, app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    cfg = app.settings.server
    try:
        await web.TCPSite(runner, cfg.listen, cfg.port).start()
    except OSError as exc:  # the port is taken: the chat still works, only the board is missing
        out.write(
            strip_html(texts("console.web_board_off", where=f"{cfg.listen}:{cfg.port}", error=exc.strerror or exc))
            + "\n"
        )
        await runner.cleanup()
        return None
    from bot.web.auth import base_url

    out.write(strip_html(texts("console.web_board", url=f"{base_url(app)}/web/")) + "\n")
    return runner
