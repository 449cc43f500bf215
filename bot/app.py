"""The one place where everything is wired: config -> database -> engine -> channels."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import TextIO

from bot.config import Settings
from bot.context import App
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Identity, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SystemActor:
    """Who acts when the command line or the engine itself changes something."""

    name: str = "cli"
    role: str = "admin"
    id: int | None = None
    agency_code: str | None = None
    is_deputy: bool = False


def open_app(settings: Settings, *, migrate: bool = True, clock=None) -> App:
    """Open the database (migrating it to the current schema) and build the App."""
    db = Database(settings.storage.url, busy_timeout_ms=settings.storage.busy_timeout_ms,
                  pool_size=settings.storage.pool_size)
    if migrate:
        upgrade(db)
    app = App(settings, db, clock) if clock else App(settings, db)
    ensure_config_admins(app)
    return app


def ensure_config_admins(app: App) -> None:
    """Admins named in `[access] admins` exist as users with the admin role."""
    for entry in app.settings.access.admins:
        channel, external_id = entry.split(":", 1)
        add_admin(app, channel, external_id)


def add_admin(app: App, channel: str, external_id: str, name: str | None = None) -> tuple[User, bool]:
    """Make (or promote) the user behind channel:id an admin; returns (user, created)."""
    with app.write() as store:
        ident = store.identity(channel, external_id)
        if ident is not None:
            user = store.user(ident.user_id)
            user.role, user.agency_code = "admin", None
            return user, False
        user = store.add(User(name=name or f"admin {channel}:{external_id}", role="admin", created_at=app.now()))
        store.add(Identity(user_id=user.id, channel=channel, external_id=external_id, chat_id=external_id,
                           created_at=app.now()))
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


async def run_console(app: App, *, stream: TextIO = sys.stdin, out: TextIO = sys.stdout, seed_demo: bool = True,
                      as_user: str | None = None) -> None:
    from bot.channels.console import ConsoleChannel
    from bot.demo import ensure_demo, intro
    from bot.router import Router

    from bot.instance import lock_sqlite
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
    try:
        await console.run(stream)
    finally:
        scheduler.shutdown()
        if lock is not None:
            lock.close()
