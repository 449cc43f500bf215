"""Operations: backups, one instance per SQLite file, leadership, outbox claims, health."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import select

from bot.delivery import Delivery
from bot.health import health_report
from bot.instance import AlreadyRunning, lock_sqlite
from storage import leases
from storage.models import Outbox
from tests.helpers import FakeChannel, add_user, seed_event

ROOT = Path(__file__).resolve().parents[1]


def test_backup_and_restore_round_trip(app, tmp_path, monkeypatch):
    if not app.db.is_sqlite and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    from storage.backup import backup, restore

    seed_event(app)
    out = tmp_path / "backup.bin"
    backup(app.db.url, out)
    seed_event(app, datetime(2027, 6, 11, tzinfo=timezone.utc))
    with app.read() as store:
        assert len(store.list_events()) == 2
    app.db.dispose()
    restore(app.db.url, out)
    with app.read() as store:
        assert [e.id for e in store.list_events()] == [1]
        assert len(store.tasks(1)) == 58


def test_a_second_instance_on_one_sqlite_file_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    first = lock_sqlite(url)
    with pytest.raises(AlreadyRunning) as err:
        lock_sqlite(url)
    assert "already running" in str(err.value) and "PostgreSQL" in str(err.value)
    # Through the command line, as an operator would meet it: a clear line, exit 1.
    env = {**os.environ, "DUTYBOT_STORAGE__URL": url}
    env.pop("DUTYBOT_TELEGRAM__TOKEN", None)
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--no-demo"],
        input="/quit\n",
        text=True,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 1 and "already running" in out.stderr
    first.close()
    lock_sqlite(url).close()  # free again once the first one is gone


def test_exactly_one_leader_and_takeover_when_it_expires(app):
    now = datetime.now(timezone.utc)
    ttl = timedelta(seconds=25)
    assert leases.acquire(app.db, "scheduler", "a", ttl, now)
    assert not leases.acquire(app.db, "scheduler", "b", ttl, now + timedelta(seconds=5))
    assert leases.acquire(app.db, "scheduler", "a", ttl, now + timedelta(seconds=10))  # renewal
    # "a" dies: no renewal; "b" takes over once the lease has expired.
    assert not leases.acquire(app.db, "scheduler", "b", ttl, now + timedelta(seconds=30))
    assert leases.acquire(app.db, "scheduler", "b", ttl, now + timedelta(seconds=36))
    assert leases.holder(app.db, "scheduler", now + timedelta(seconds=40)) == "b"


async def test_two_workers_claim_disjoint_rows_and_take_over_dead_claims(app, clock):
    add_user(app, "c1", "coordinator")
    with app.write() as store:
        for i in range(40):
            store.add(
                Outbox(
                    channel="fake",
                    chat_id=f"c{i}",
                    kind="news",
                    text=f"m{i}",
                    created_at=clock.now,
                    next_attempt_at=clock.now,
                )
            )
    w1, w2 = Delivery(app, {"fake": FakeChannel()}), Delivery(app, {"fake": FakeChannel()})
    w1.worker, w2.worker = "w1", "w2"
    a, b = w1._due(25), w2._due(25)
    assert len(a) == 25 and len(b) == 15 and not {r.id for r in a} & {r.id for r in b}
    # w1 dies holding its claims; after they expire, w2 takes them over.
    clock.advance(seconds=61)
    taken = w2._due(100)
    assert {r.id for r in a} <= {r.id for r in taken}
    sent = await w2.drain_once(100)
    assert sent == 40
    with app.read() as store:
        assert all(r.status == "sent" for r in store.s.exec(select(Outbox)))


def test_health_reports_database_backlog_and_leader(app):
    with app.write() as store:
        store.add(
            Outbox(
                channel="fake",
                chat_id="x",
                kind="news",
                text="t",
                created_at=app.now(),
                next_attempt_at=app.now(),
                last_error="boom",
            )
        )
    report = health_report(app)
    assert report["database"] == "ok" and report["outbox_backlog"] == 1
    assert report["last_delivery_error"] == "boom" and report["scheduler_leader"] is None


async def test_backlog_and_evidence_limits_warn_the_coordinators(sqlite_url, clock):
    from bot.channels.base import Attachment
    from tests.conftest import make_app
    from tests.helpers import Chat, seed_world

    app = make_app(sqlite_url, clock, limits={"outbox_per_contact": 3, "evidence_total_bytes": 1000})
    seed_world(app)
    chat = Chat(app)
    for _ in range(5):
        chat.say("coord", "/nhac CA")
    with app.read() as store:
        ca = store.identity("fake", "ca").user_id
        assert store.pending_for_user(ca) == 3  # bounded
    chat.send("stc", "/nv CB-05")  # the task message a photo can answer
    big = Attachment(kind="photo", file_ref="x", size=5000, data=b"x" * 5000)
    assert "đầy" in chat.say("stc", "", attachment=big)
    with app.read() as store:
        assert store.evidence_bytes() == 0
    await chat.deliver()
    warnings = chat.channel.texts("coord")
    assert any("chưa gửi được" in t for t in warnings) and any("giới hạn" in t for t in warnings)
    assert sum("chưa gửi được" in t for t in warnings) == 1  # told once


def test_migrations_go_down_to_empty_and_back_up(db_url):
    from alembic import command

    from storage.db import Database
    from storage.migrate import alembic_config, current, head, upgrade

    db = Database(db_url)
    cfg = alembic_config(db_url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert current(db) is None
    upgrade(db)
    assert current(db) == head()
    db.dispose()
