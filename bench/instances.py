"""Delivery with 1, 2 and 3 dutybot worker processes, and the per-message database cost.

The Telegram test double runs with its flood limits off and each worker's pacing raised, so
the figure is the engine's own ceiling (claims, sends, bookkeeping), not Telegram's 30/s.
Needs PostgreSQL (DUTYBOT_TEST_POSTGRES_URL or --pg URL); the database cost is also measured
on SQLite. Runs: 1, 2 and 3 workers, then 3 workers of which one is SIGKILLed when half the
rows are sent (its claimed rows are sent by the others once the claim expires). Each run is
counted only after waiting past the claim expiry (the claim + 5 s after the last send and the
kill) with the survivors still running: duplicates, rows never delivered, and rows not marked
sent in the database. `ok`: none lost, none unsent, no duplicate (at most one for the kill: the
row in flight), and counted past the claim expiry.
Friendlier than production: flood limits off, every chat opened, all rows due at once, the
double on loopback; the throughput is the engine's ceiling, not what Telegram allows.

    python bench/instances.py [--messages 3000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--settle S]   # smoke runs only: count S seconds after the last send (weaker; ok false if ≤ claim)
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
from datetime import datetime, timedelta, timezone

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
    seed_event(app, datetime.now(timezone.utc) + timedelta(days=30))  # the helper's default start is the tests' past
    users = []
    for i in range(n_users):
        uid = 800000 + i
        tg.make_user(uid, f"u{i}")
        tg.user_sends(uid, "hi")
        users.append(add_user(app, str(uid), "contact", "DVTK", channel="telegram"))
    now = datetime.now(timezone.utc)
    with app.write() as store:
        for n in range(n_messages):
            store.add(
                Outbox(
                    user_id=users[n % n_users].id,
                    channel="telegram",
                    chat_id=str(800000 + n % n_users),
                    kind="news",
                    text=f"bench {n}",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    return app


def run_workers(url: str, tg, workers: int, n_messages: int, settle: float, kill: bool = False) -> dict:
    """`workers` processes deliver `n_messages` rows; with `kill`, one of them is SIGKILLed when
    half are sent (its claimed rows wait for their claim to expire; the others send them).
    Counting waits `settle` seconds more (past the claim expiry) with the survivors running, so a
    row sent twice after an expired claim, or one left behind, shows."""
    from storage.models import Outbox

    app = setup(url, tg, n_messages)
    env = {
        **os.environ,
        "DUTYBOT_STORAGE__URL": url,
        "DUTYBOT_TELEGRAM__TOKEN": TOKEN,
        "DUTYBOT_TELEGRAM__BASE_URL": tg.base_url,
        "DUTYBOT_TELEGRAM__BASE_FILE_URL": tg.base_file_url,
        "DUTYBOT_TELEGRAM__MAX_PER_SECOND": "100000",
        "DUTYBOT_TELEGRAM__CHAT_INTERVAL": "0",
    }
    tg.double.sent.clear()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--role", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    first = done = killed_at = None
    try:
        deadline = time.monotonic() + 300 + settle
        while time.monotonic() < deadline:
            sent = len({r.text for r in list(tg.double.sent) if (r.text or "").startswith("bench ")})
            now = time.monotonic()
            if sent and first is None:
                first = now
            if kill and killed_at is None and sent >= n_messages // 2:
                procs[0].kill()  # SIGKILL, mid-run: whatever it claimed or was sending is left as it was
                procs[0].wait()
                killed_at = now
            if sent >= n_messages and done is None:
                done = now
            if done is not None and now - max(done, killed_at or done) >= settle:
                break
            time.sleep(0.05)
        elapsed = (done or time.monotonic()) - (first or time.monotonic())
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(20)
    texts = [r.text for r in tg.double.sent if (r.text or "").startswith("bench ")]
    with app.read() as store:
        unsent = len(store.s.exec(select(Outbox.id).where(Outbox.status != "sent")).all())
    app.db.dispose()
    return {
        "workers": workers,
        "killed": 1 if killed_at is not None else 0,
        "messages": n_messages,
        "seconds": round(elapsed, 2),
        "per_second": round(n_messages / elapsed, 1) if elapsed else None,
        "settle_s": settle,
        "duplicates": len(texts) - len(set(texts)),
        "lost": n_messages - len(set(texts)),
        "unsent_rows": unsent,
    }


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
            store.add(
                Outbox(
                    user_id=user.id,
                    channel="fake",
                    chat_id="cost",
                    kind="news",
                    text=f"c{i}",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    delivery = Delivery(app, {"fake": FakeChannel()})
    t0 = time.perf_counter()
    sent = 0
    while sent < n:
        sent += asyncio.run(delivery.drain_once(200))
    ms = (time.perf_counter() - t0) * 1000 / n
    db.dispose()
    return {"backend": db.engine.dialect.name, "messages": n, "ms_per_message": round(ms, 3)}


def main() -> None:
    try:
        from bot.delivery import CLAIM  # how long a worker's claim on a row lasts

        claim_s = CLAIM.total_seconds()
    except ImportError:  # moved: pass --claim-s
        claim_s = None
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--pg", default=os.environ.get("DUTYBOT_TEST_POSTGRES_URL"))
    ap.add_argument("--claim-s", type=float, default=claim_s, help="the delivery worker's claim duration")
    ap.add_argument(
        "--settle",
        type=float,
        default=None,
        help="seconds to wait after the last send (and the kill) before counting; default the claim "
        "+ 5 s (shorter makes the check weaker: for smoke runs only)",
    )
    args = ap.parse_args()
    if not args.pg:
        sys.exit("needs PostgreSQL: set DUTYBOT_TEST_POSTGRES_URL or pass --pg URL")
    if args.claim_s is None and args.settle is None:
        sys.exit("bot.delivery.CLAIM not found: pass --claim-s")
    settle = args.settle if args.settle is not None else args.claim_s + 5
    from tests.doubles.telegram_api import TelegramDoubleThread

    rows = []
    with TelegramDoubleThread(token=TOKEN, limits=None) as tg:
        for workers, kill in ((1, False), (2, False), (3, False), (3, True)):
            url = fresh_pg(args.pg)
            try:
                rows.append(run_workers(url, tg, workers, args.messages, settle, kill))
            finally:
                drop_pg(args.pg, url)
    table(
        ["workers", "killed mid-run", "messages", "seconds", "msg/s", "duplicates", "lost", "unsent rows"],
        [
            [
                r["workers"],
                r["killed"],
                r["messages"],
                r["seconds"],
                r["per_second"],
                r["duplicates"],
                r["lost"],
                r["unsent_rows"],
            ]
            for r in rows
        ],
        title=f"Delivery through the Telegram double (limits off), PostgreSQL; counted {settle:g} s after the "
        "last send (and the kill)",
    )
    costs = []
    with tempfile.TemporaryDirectory() as tmp:
        costs.append(db_cost(f"sqlite:///{tmp}/cost.db"))
    url = fresh_pg(args.pg)
    try:
        costs.append(db_cost(url))
    finally:
        drop_pg(args.pg, url)
    table(
        ["backend", "messages", "ms/message"],
        [[c["backend"], c["messages"], c["ms_per_message"]] for c in costs],
        title="Database cost per delivered message (claim + mark sent)",
    )
    # A kill may cost one duplicate: the send in flight (a worker sends one row at a time).
    ok = all(r["lost"] == 0 and r["unsent_rows"] == 0 and r["duplicates"] <= r["killed"] for r in rows)
    ok = ok and (args.settle is None or args.claim_s is not None and args.settle > args.claim_s)
    emit(
        {
            "bench": "instances",
            "delivery": rows,
            "db_cost": costs,
            "claim_s": args.claim_s,
            "settle_s": settle,
            "ok": ok,
            "machine": machine_note(),
        }
    )


if __name__ == "__main__":
    main()
