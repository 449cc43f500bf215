"""Delivery with 1, 2 and 3 dutybot worker processes, and the per-message database cost.

The Telegram test double runs with its flood limits off and each worker's pacing raised, so
the figure is the engine's own ceiling (claims, sends, bookkeeping), not Telegram's 30/s.
Needs PostgreSQL (DUTYBOT_TEST_POSTGRES_URL or --pg URL); the database cost is also measured
on SQLite.

    python bench/instances.py [--messages 3000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone

from _common import ROOT, emit, machine_note, table
from sqlalchemy import create_engine, text
from sqlmodel import select

TOKEN = "123:TEST"


def fresh_pg(base_url: str) -> str:
    name = f"dutybot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base_url.rpartition('/')[0]}/{name}"


def drop_pg(base_url: str, url: str) -> None:
    admin = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)'))
    admin.dispose()


def setup(url: str, tg, n_messages: int, n_users: int = 200):
    from bot.config import load_settings
    from bot.context import App
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Outbox
    from tests.helpers import add_user, seed_event

    db = Database(url)
    upgrade(db)
    app = App(load_settings(None, storage={"url": url}), db)
    seed_event(app)
    users = []
    for i in range(n_users):
        uid = 800000 + i
        tg.make_user(uid, f"u{i}")
        tg.user_sends(uid, "hi")
        users.append(add_user(app, str(uid), "contact", "DVTK", channel="telegram"))
    now = datetime.now(timezone.utc)
    with app.write() as store:
        for n in range(n_messages):
            store.add(Outbox(user_id=users[n % n_users].id, channel="telegram", chat_id=str(800000 + n % n_users),
                             kind="news", text=f"bench {n}", created_at=now, next_attempt_at=now))
    return app


def run_workers(url: str, tg, workers: int, n_messages: int) -> dict:
    from storage.models import Outbox

    app = setup(url, tg, n_messages)
    env = {**os.environ, "DUTYBOT_STORAGE__URL": url, "DUTYBOT_TELEGRAM__TOKEN": TOKEN,
           "DUTYBOT_TELEGRAM__BASE_URL": tg.base_url, "DUTYBOT_TELEGRAM__BASE_FILE_URL": tg.base_file_url,
           "DUTYBOT_TELEGRAM__MAX_PER_SECOND": "100000", "DUTYBOT_TELEGRAM__CHAT_INTERVAL": "0"}
    tg.double.sent.clear()
    procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--role", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    first = None
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            sent = sum(1 for r in list(tg.double.sent) if (r.text or "").startswith("bench "))
            if sent and first is None:
                first = time.monotonic()
            if sent >= n_messages:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - (first or time.monotonic())
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(20)
    texts = [r.text for r in tg.double.sent if (r.text or "").startswith("bench ")]
    with app.read() as store:
        unsent = len(store.s.exec(select(Outbox.id).where(Outbox.status != "sent")).all())
    app.db.dispose()
    return {"workers": workers, "messages": n_messages, "seconds": round(elapsed, 2),
            "per_second": round(n_messages / elapsed, 1) if elapsed else None,
            "duplicates": len(texts) - len(set(texts)), "lost": n_messages - len(set(texts)), "unsent_rows": unsent}


def db_cost(url: str, n: int = 1000) -> dict:
    """Milliseconds of database work per delivered message: claim + mark sent (no network)."""
    import asyncio

    from bot.config import load_settings
    from bot.context import App
    from bot.delivery import Delivery
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Outbox
    from tests.helpers import FakeChannel, add_user

    db = Database(url)
    upgrade(db)
    app = App(load_settings(None, storage={"url": url}), db)
    user = add_user(app, "cost", "coordinator")
    now = datetime.now(timezone.utc)
    with app.write() as store:
        for i in range(n):
            store.add(Outbox(user_id=user.id, channel="fake", chat_id="cost", kind="news", text=f"c{i}",
                             created_at=now, next_attempt_at=now))
    delivery = Delivery(app, {"fake": FakeChannel()})
    t0 = time.perf_counter()
    sent = 0
    while sent < n:
        sent += asyncio.run(delivery.drain_once(200))
    ms = (time.perf_counter() - t0) * 1000 / n
    db.dispose()
    return {"backend": db.engine.dialect.name, "messages": n, "ms_per_message": round(ms, 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--pg", default=os.environ.get("DUTYBOT_TEST_POSTGRES_URL"))
    args = ap.parse_args()
    if not args.pg:
        sys.exit("needs PostgreSQL: set DUTYBOT_TEST_POSTGRES_URL or pass --pg URL")
    from tests.doubles.telegram_api import TelegramDoubleThread

    rows = []
    with TelegramDoubleThread(token=TOKEN, limits=None) as tg:
        for workers in (1, 2, 3):
            url = fresh_pg(args.pg)
            try:
                rows.append(run_workers(url, tg, workers, args.messages))
            finally:
                drop_pg(args.pg, url)
    table(["workers", "messages", "seconds", "msg/s", "duplicates", "lost"],
          [[r["workers"], r["messages"], r["seconds"], r["per_second"], r["duplicates"], r["lost"]] for r in rows],
          title="Delivery through the Telegram double (limits off), PostgreSQL")
    costs = []
    with tempfile.TemporaryDirectory() as tmp:
        costs.append(db_cost(f"sqlite:///{tmp}/cost.db"))
    url = fresh_pg(args.pg)
    try:
        costs.append(db_cost(url))
    finally:
        drop_pg(args.pg, url)
    table(["backend", "messages", "ms/message"], [[c["backend"], c["messages"], c["ms_per_message"]] for c in costs],
          title="Database cost per delivered message (claim + mark sent)")
    emit({"delivery": rows, "db_cost": costs, **machine_note()})


if __name__ == "__main__":
    main()
