"""Shared fixtures: databases (real SQLite and real PostgreSQL), an App with a settable clock."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text

from bot.config import load_settings
from bot.context import App
from storage.db import Database
from storage.migrate import upgrade

PG_URL = os.environ.get("DUTYBOT_TEST_POSTGRES_URL")
PG_SKIP = (
    "PostgreSQL tests need DUTYBOT_TEST_POSTGRES_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); .ci/run sets it"
)


class Clock:
    """A clock tests move by hand; the engine only ever reads `now` through it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        from datetime import timedelta

        self.now += timedelta(**kw)


@pytest.fixture(scope="session")
def pg_database_url():
    """A fresh PostgreSQL database for this test session, migrated once, dropped at the end."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    name = f"dutybot_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = PG_URL.rpartition("/")
    url = f"{base}/{name}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'")
            )
        ]
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A migrated, empty database URL: every storage test runs on both backends."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dutybot.db'}"
        db = Database(url)
        upgrade(db)
        db.dispose()
        return url
    url = request.getfixturevalue("pg_database_url")
    _truncate_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'dutybot.db'}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    return url


@pytest.fixture
def clock():
    return Clock(datetime(2026, 5, 1, 2, 0, tzinfo=timezone.utc))


def make_app(url: str, clock: Clock, **overrides) -> App:
    """The App the way `dutybot` builds it (bot.app.open_app), on a database a fixture migrated."""
    from bot.app import open_app

    settings = load_settings(None, storage={"url": url}, **overrides)
    return open_app(settings, clock=clock, migrate=False, sync_admins=False)


@pytest.fixture
def app(db_url, clock):
    a = make_app(db_url, clock)
    yield a
    a.db.dispose()


@pytest.fixture
def sqlite_app(sqlite_url, clock):
    a = make_app(sqlite_url, clock)
    yield a
    a.db.dispose()


def pytest_collection_modifyitems(config, items):
    """Tests that need the Telegram API spec (../shared/data/telegram-bot-api) skip, saying why, without it."""
    from tests.doubles._tg_spec import spec_path

    if spec_path().is_file():
        return
    skip = pytest.mark.skip(
        reason=f"the Telegram Bot API spec is not at {spec_path()} (it lives in ../shared; "
        "set DUTYBOT_TG_API_SPEC to point elsewhere)"
    )
    for item in items:
        module = getattr(item, "module", None)
        uses_double = module is not None and any(n in vars(module) for n in ("TelegramDouble", "TelegramDoubleThread"))
        if uses_double or item.get_closest_marker("telegram_double") is not None:  # the marker: imported inside
            item.add_marker(skip)


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """Runs the `dutybot` CLI in this process on a fresh SQLite file: (exit code, stdout, stderr)."""
    from bot.cli import main

    monkeypatch.setenv("DUTYBOT_STORAGE__URL", f"sqlite:///{tmp_path / 'cli.db'}")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
