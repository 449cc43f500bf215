"""Benchmark: the web board and the run-of-show for an event of 5,000 tasks / 500 agencies.

    .venv/bin/python bench/web.py [--tasks 5000] [--agencies 500] [--requests 40] [--url DB_URL | --postgres [URL]]

Builds the event in a fresh SQLite file (or the database at --url, which must be empty; or, with
--postgres, in a fresh database created on that PostgreSQL server (default: $DUTYBOT_TEST_POSTGRES_URL)
and dropped at the end: production runs on PostgreSQL), with a deterministic mix of statuses (done on
time / late, in progress, blocked with a reason and its audit entry, overdue, waiting), 8 % ceremony-day
cues with check-ins asked and escalated, and 100 extension requests waiting. Serves the board on a
loopback port with aiohttp, signs a coordinator in with a real link, and requests each page --requests
times. Server time (wall, and the process's CPU time) is measured inside the server (from the request
reaching the handler to the response being ready), p50/p95/max per page; page weight is the HTML's
size (raw, and gzip as served to browsers that accept it). "board" and "run_of_show" change a task
before every request (each page is computed afresh: the cost after every status update); "_unchanged"
repeat the page with nothing changed (the page cache answers); "timeline" and "agency" (one agency's
page) are measured after a change too. Target (the board and the run-of-show): p95 <= 200 ms. Prints
a table, then one JSON object as its LAST line.
A benchmark, not a test: nothing here fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, CookieJar, web  # noqa: E402
from sqlalchemy import create_engine, text, update  # noqa: E402

from bench._common import emit, machine_note, table  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.context import App  # noqa: E402
from bot.web.auth import make_link  # noqa: E402
from bot.web.server import mount  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Agency, AuditEntry, Event, ExtensionRequest, ReminderSlot, Task, User  # noqa: E402

NOW = datetime(2026, 6, 4, 1, 0, tzinfo=timezone.utc)
START = datetime(2026, 6, 11, 0, 0, tzinfo=timezone.utc)
PHASES = ("CB", "CC", "NL", "SL")
REASONS = ("chờ kinh phí bổ sung", "nhà in giao chậm", "chưa có danh sách đại biểu", "thiếu xe chuyên dụng")


def build(app: App, n_tasks: int, n_agencies: int) -> tuple[int, int]:
    """The event and its people; returns (event id, coordinator id)."""
    rnd = random.Random(17)
    with app.db.write() as s:
        for i in range(n_agencies):
            s.add(Agency(code=f"A{i:03d}", name=f"Đơn vị số {i}", name_en=f"Agency {i}"))
        s.flush()
        event = Event(
            name="Lễ kỷ niệm (bench)",
            template_id="ceremony",
            template_path="ceremony",
            start=START,
            launched_at=NOW - timedelta(days=30),
            created_at=NOW - timedelta(days=31),
        )
        s.add(event)
        coord = User(name="Điều phối", role="coordinator", created_at=NOW)
        s.add(coord)
        s.flush()
        tasks = []
        for n in range(1, n_tasks + 1):
            phase = PHASES[min(3, n * 4 // n_tasks)]
            cue = phase == "NL" and rnd.random() < 0.35
            deadline = (
                START + timedelta(hours=rnd.randint(0, 10))
                if cue
                else START + timedelta(days=rnd.randint(-40, 7), hours=rnd.randint(0, 10))
            )
            roll = rnd.random()
            status = "todo"
            if deadline < NOW:
                status = (
                    "done" if roll < 0.75 else "blocked" if roll < 0.82 else "in_progress" if roll < 0.9 else "todo"
                )
            elif roll < 0.3:
                status = "in_progress"
            elif roll < 0.35:
                status = "blocked"
            t = Task(
                event_id=event.id,
                number=n,
                code=f"T-{n}",
                title=f"Nhiệm vụ số {n} của sự kiện",
                title_en=f"Task {n}",
                phase=phase,
                lead=f"A{rnd.randrange(n_agencies):03d}",
                supporting=[f"A{rnd.randrange(n_agencies):03d}"],
                depends_on=[f"T-{n - 1}"] if n % 7 == 0 else [],
                deadline=deadline,
                original_deadline=deadline,
                is_cue=cue,
                status=status,
                percent=100 if status == "done" else rnd.choice((0, 20, 50, 80)),
                blocked_reason=rnd.choice(REASONS) if status == "blocked" else None,
                completed_at=deadline + timedelta(hours=rnd.randint(-48, 24)) if status == "done" else None,
                updated_at=NOW,
                version=1,
            )
            tasks.append(t)
        s.add_all(tasks)
        s.flush()
        for t in tasks:
            if t.status != "todo":
                s.add(
                    AuditEntry(
                        event_id=event.id,
                        task_id=t.id,
                        at=NOW - timedelta(days=rnd.randint(0, 20)),
                        actor="bench",
                        channel="telegram",
                        action="status",
                        detail={"from": "todo", "to": t.status},
                    )
                )
            if t.is_cue and t.deadline <= NOW + timedelta(days=8) and rnd.random() < 0.5:
                s.add(
                    ReminderSlot(
                        task_id=t.id,
                        key=f"checkin@{t.deadline.isoformat()}",
                        kind="checkin",
                        at=t.deadline,
                        created_at=NOW,
                    )
                )
        for t in rnd.sample([t for t in tasks if t.status not in ("done",)], 100):
            s.add(
                ExtensionRequest(
                    task_id=t.id,
                    requested_deadline=t.deadline + timedelta(days=3),
                    previous_deadline=t.deadline,
                    reason="xin thêm thời gian",
                    created_at=NOW,
                )
            )
        return event.id, coord.id


def touch(app: App, event_id: int, i: int) -> None:
    """What a status update does to the figures' inputs: a task's version moves, an audit row is added."""
    with app.db.write() as s:
        s.execute(
            update(Task).where(Task.event_id == event_id, Task.number == 1 + i % 50).values(version=Task.version + 1)
        )


async def measure(app: App, event_id: int, coord_id: int, requests: int) -> dict:
    timings: dict[str, list[float]] = {}

    @web.middleware
    async def clock(request, handler):
        t0, c0 = time.perf_counter(), time.process_time()
        resp = await handler(request)
        # CPU time too: on a shared, loaded machine the wall time mostly measures the others.
        timings.setdefault(request.path, []).append(
            ((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000)
        )
        return resp

    web_app = web.Application(middlewares=[clock])
    mount(web_app, app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    link = make_link(app, coord_id).replace(app.settings.web.public_url or "http://127.0.0.1:8080", base)
    out = {}
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:  # cookies for 127.0.0.1
        async with http.post(link, allow_redirects=False) as r:
            assert r.status == 303, r.status
        pages = (
            ("board", f"/web/?event={event_id}", True),
            ("board_unchanged", f"/web/?event={event_id}", False),
            ("run_of_show", f"/web/show?event={event_id}", True),
            ("run_of_show_unchanged", f"/web/show?event={event_id}", False),
            ("timeline", f"/web/timeline?event={event_id}", True),
            ("agency", f"/web/agency/A007?event={event_id}", True),
            ("live", f"/web/live?event={event_id}", False),
        )
        for name, path, change in pages:
            size = 0
            for i in range(requests + 2):
                if change:  # a contact reported meanwhile: the page's data is computed afresh
                    await asyncio.to_thread(touch, app, event_id, i)
                async with http.get(base + path) as r:
                    body = await r.read()
                    assert r.status == 200, (path, r.status)
                    size = len(body)
            got = timings.pop(path.split("?")[0])[2:]  # the first two warm caches up
            raw, cpu = sorted(w for w, _ in got), sorted(c for _, c in got)
            out[name] = {
                "p50_ms": round(statistics.median(raw), 1),
                "p95_ms": round(raw[max(0, int(len(raw) * 0.95) - 1)], 1),
                "max_ms": round(raw[-1], 1),
                "cpu_p50_ms": round(statistics.median(cpu), 1),
                "cpu_p95_ms": round(cpu[max(0, int(len(cpu) * 0.95) - 1)], 1),
                "bytes": size,
                "gzip_bytes": len(gzip.compress(body)),
                "requests": len(raw),
            }
    await runner.cleanup()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--agencies", type=int, default=500)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--url", help="an empty database (default: a fresh SQLite file)")
    ap.add_argument(
        "--postgres",
        nargs="?",
        const=os.environ.get("DUTYBOT_TEST_POSTGRES_URL", ""),
        help="a PostgreSQL server URL: the bench creates a fresh database there and drops it after",
    )
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{Path(tmp.name) / 'web.db'}"
    if args.postgres is not None:
        if not args.postgres:
            sys.exit("--postgres needs a server URL (or DUTYBOT_TEST_POSTGRES_URL set)")
        url = fresh_postgres(args.postgres)
    try:
        run(args, url)
    finally:
        if args.postgres:
            drop_postgres(args.postgres, url)


def _admin(server_url: str):
    return create_engine(server_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


def fresh_postgres(server_url: str) -> str:
    name = f"dutybot_bench_{uuid.uuid4().hex[:10]}"
    admin = _admin(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server_url.rpartition('/')[0]}/{name}"


def drop_postgres(server_url: str, url: str) -> None:
    admin = _admin(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)'))
    admin.dispose()


def run(args, url: str) -> None:
    db = Database(url)
    upgrade(db)
    settings = load_settings(None, storage={"url": url}, web={"enabled": True})
    app = App(settings, db, lambda: NOW)
    t0 = time.perf_counter()
    event_id, coord_id = build(app, args.tasks, args.agencies)
    if db.engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load: the planner's figures
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    built = time.perf_counter() - t0
    res = asyncio.run(measure(app, event_id, coord_id, args.requests))
    table(
        ("page", "requests", "p50 ms", "p95 ms", "max ms", "CPU p50", "CPU p95", "KB", "KB gzip"),
        [
            (
                k,
                v["requests"],
                v["p50_ms"],
                v["p95_ms"],
                v["max_ms"],
                v["cpu_p50_ms"],
                v["cpu_p95_ms"],
                round(v["bytes"] / 1024, 1),
                round(v["gzip_bytes"] / 1024, 1),
            )
            for k, v in res.items()
        ],
        title=f"web board, {args.tasks:,} tasks / {args.agencies} agencies on {db.engine.dialect.name} "
        f"(built in {built:.1f} s); target p95 <= 200 ms",
    )
    db.dispose()
    emit(
        {
            "tasks": args.tasks,
            "agencies": args.agencies,
            "database": db.engine.dialect.name,
            **res,
            "target_p95_ms": 200,
            "meets_target": all(v["p95_ms"] <= 200 for k, v in res.items() if k.startswith(("board", "run_of_show"))),
            **machine_note(),
        }
    )


if __name__ == "__main__":
    main()
