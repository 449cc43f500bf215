"""Benchmark: concurrent writers on one SQLite database (WAL, BEGIN IMMEDIATE, busy timeout).

    .venv/bin/python bench/locks.py [--writers 8] [--updates 1000] [--tasks 20] [--db-url URL]

Each writer is its own process (as with several workers, or the CLI next to the bot) acting
as an agency contact: it sends --updates "/tiendo CODE N" status updates through the real
Router (the whole command: lock the task, check the move, write the task, its audit row and
the coordinators' outbox row, answer), spread over --tasks shared duties so writers collide.
Figures: "database is locked" errors (target 0), other errors, and exact final counts: status
audit rows, the coordinator's news ITEMS (news waiting for a chat is grouped into one outbox row,
so rows are fewer: items are counted inside them) and the sum of task versions must each equal
writers × updates; and the longest time any process held SQLite's write lock (BEGIN IMMEDIATE to
COMMIT), which is what every other writer may have to wait.
--pass-tasks N (report it with N = 10000) adds a second launched event of N duties that one more
process plans with the real reminder pass while the writers run (as right after a launch): the
same figures show what the pass's transactions do to the writers (their latency, the longest
write-lock hold). `ok`: no lock errors, no other errors, exact counts, and (with --pass-tasks)
every duty of the launched event planned.
Friendlier than production: the Router is called directly (no Telegram, no inbox, no sending);
the writers only write; one coordinator. Prints a table and, as its LAST line, one JSON object.
Timing figures may be disturbed by other work on the 2-core machine (the load average is printed).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import re
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, WriteLockClock, emit, machine_note, migrated, sqlite_url, table  # noqa: E402

sys.path.insert(0, str(ROOT))

FIRST_UID = 300_001
COORDINATOR = 399_999


def _app(url: str):
    from bot.config import load_settings
    from bot.context import App
    from storage.db import Database

    return App(load_settings(None, storage={"url": url}), Database(url))


def seed(url: str, writers: int, tasks: int, pass_tasks: int = 0) -> None:
    from storage.models import Agency, Event, Identity, Task, User

    app = _app(url)
    now = datetime.now(timezone.utc)
    with app.db.write() as s:
        s.add(Agency(code="CA", name="Công an tỉnh"))
        if pass_tasks:  # created first: the contacts' own event stays the current one (latest launched)
            s.add(Agency(code="SYT", name="Sở Y tế"))
            other = Event(
                name="Vừa triển khai",
                template_id="bench",
                template_path="",
                start=now + timedelta(days=60),
                launched_at=now,
                created_at=now,
            )
            s.add(other)
            s.flush()
            s.add_all(
                [
                    Task(
                        event_id=other.id,
                        number=i + 1,
                        code=f"SYT-{i + 1:05d}",
                        title=f"Việc {i + 1}",
                        phase="CB",
                        lead="SYT",
                        deadline=now + timedelta(days=5 + i % 50),
                        original_deadline=now + timedelta(days=5 + i % 50),
                        updated_at=now,
                        next_reminder_at=now,
                    )
                    for i in range(pass_tasks)
                ]
            )
        event = Event(
            name="Khóa ghi",
            template_id="bench",
            template_path="",
            start=now + timedelta(days=30),
            launched_at=now,
            created_at=now,
        )
        s.add(event)
        s.flush()
        deadline = now + timedelta(days=10)
        s.add_all(
            [
                Task(
                    event_id=event.id,
                    number=i + 1,
                    code=f"CA-{i + 1:02d}",
                    title=f"Nhiệm vụ {i + 1}",
                    phase="CB",
                    lead="CA",
                    deadline=deadline,
                    original_deadline=deadline,
                    updated_at=now,
                )
                for i in range(tasks)
            ]
        )
        people = [(FIRST_UID + w, "contact", "CA") for w in range(writers)] + [(COORDINATOR, "coordinator", None)]
        for uid, role, agency in people:
            user = User(name=f"U{uid}", role=role, agency_code=agency, created_at=now)
            s.add(user)
            s.flush()
            s.add(Identity(user_id=user.id, channel="telegram", external_id=str(uid), chat_id=str(uid), created_at=now))
    app.db.dispose()


def planner(url: str, ready, start, results) -> None:
    """The reminder pass of the scheduler, run until every newly launched duty is planned."""
    from bot.scheduler import reminder_pass

    app = _app(url)
    held = WriteLockClock(app.db)
    ready.put(-1)
    start.wait()
    began, passes, longest = time.perf_counter(), 0, 0.0
    while True:
        t = time.perf_counter()
        result = reminder_pass(app)
        longest = max(longest, time.perf_counter() - t)
        if result.tasks_seen == 0:
            break
        passes += 1
    results.put(
        {
            "index": "pass",
            "seconds": time.perf_counter() - began,
            "passes": passes,
            "longest": longest,
            **held.figures(),
        }
    )
    app.db.dispose()


def writer(url: str, index: int, updates: int, tasks: int, ready, start, results) -> None:
    """One process: `updates` status updates through the Router, counting what went wrong."""
    from sqlalchemy.exc import OperationalError

    from bot.channels.base import IncomingMessage
    from bot.router import Router

    app = _app(url)
    router = Router(app)
    held = WriteLockClock(app.db)
    uid = FIRST_UID + index
    locked = other = refused = 0
    latencies = []
    ready.put(index)  # imported and connected: the clock starts when every writer is
    start.wait()
    began = time.perf_counter()
    for i in range(updates):
        code = f"CA-{(i * 7 + index) % tasks + 1:02d}"
        percent = 1 + (i * 13 + index) % 98
        msg = IncomingMessage(
            channel="telegram",
            user_id=str(uid),
            chat_id=str(uid),
            text=f"/tiendo {code} {percent}",
            message_id=str(i + 1),
        )
        t = time.perf_counter()
        try:
            replies = router.handle(msg)
            if not replies or replies[0].task_id is None:  # an error answer, not "updated"
                refused += 1
        except OperationalError as exc:
            if "locked" in str(exc).lower():
                locked += 1
            else:
                other += 1
        except Exception:  # noqa: BLE001 - counted, the run goes on
            other += 1
        latencies.append(time.perf_counter() - t)
    results.put(
        {
            "index": index,
            "seconds": time.perf_counter() - began,
            "locked": locked,
            "other": other,
            "refused": refused,
            "latencies": latencies,
            **held.figures(),
        }
    )
    app.db.dispose()


NEWS_ITEM_SEP = "\x1e"  # bot.notify.GROUP_SEP: news waiting for a chat is grouped into one row
CA_CODE = re.compile(r"\bCA-\d{2}\b")


def counts(url: str) -> dict:
    from sqlalchemy import func
    from sqlmodel import select

    from storage.models import AuditEntry, Outbox, Task

    app = _app(url)
    with app.db.read() as s:
        out = {
            "audit_status_rows": s.exec(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "status")
            ).one(),
            "outbox_rows": s.exec(select(func.count()).select_from(Outbox)).one(),
            "version_sum": s.exec(select(func.coalesce(func.sum(Task.version), 0)).where(Task.lead == "CA")).one(),
        }
        news = s.exec(select(Outbox.text).where(Outbox.kind == "news")).all()
        # The launched event's duties a pass has not planned yet (their first moment is still "now").
        out["pass_unplanned"] = s.exec(
            select(func.count())
            .select_from(Task)
            .where(Task.lead == "SYT", Task.next_reminder_at <= datetime.now(timezone.utc))
        ).one()
    app.db.dispose()
    # One news item per update for the coordinator, whether it got a row of its own or joined one.
    out["news_items"] = sum(1 for text in news for item in text.split(NEWS_ITEM_SEP) if CA_CODE.search(item))
    out["news_rows"] = len(news)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--updates", type=int, default=1000, help="status updates per writer")
    parser.add_argument("--tasks", type=int, default=20, help="shared duties the writers update")
    parser.add_argument(
        "--pass-tasks",
        type=int,
        default=0,
        help="also plan a just-launched event of this many duties while the writers run",
    )
    parser.add_argument("--db-url", default=None, help="an empty database (default: SQLite in a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dutybot-locks-") as tmp:
        url = migrated(args.db_url or sqlite_url(tmp))
        seed(url, args.writers, args.tasks, args.pass_tasks)
        ctx = mp.get_context("spawn")
        ready, start, results = ctx.Queue(), ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(target=writer, args=(url, w, args.updates, args.tasks, ready, start, results))
            for w in range(args.writers)
        ]
        if args.pass_tasks:
            procs.append(ctx.Process(target=planner, args=(url, ready, start, results)))
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=300)
        began = time.perf_counter()
        start.set()
        got = [results.get(timeout=1800) for _ in procs]
        wall = time.perf_counter() - began
        planned = next((r for r in got if r["index"] == "pass"), None)
        got = [r for r in got if r["index"] != "pass"]
        for p in procs:
            p.join()
        final = counts(url)
    expected = args.writers * args.updates
    lat = sorted(x for r in got for x in r["latencies"])
    figures = {
        "bench": "locks",
        "backend": url.split(":", 1)[0].split("+")[0],
        "writers": args.writers,
        "updates_per_writer": args.updates,
        "tasks": args.tasks,
        "expected": expected,
        "database_is_locked": sum(r["locked"] for r in got),
        "other_errors": sum(r["other"] for r in got),
        "refused_replies": sum(r["refused"] for r in got),
        **final,
        "exact": all(final[k] == expected for k in ("audit_status_rows", "news_items", "version_sum")),
        "longest_write_lock_s": round(max(r["longest_write_lock_s"] for r in got), 4),
        "seconds": round(wall, 2),
        "updates_per_s": round(expected / wall, 1),
        "latency_ms_p50": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
        "latency_ms_p99": round(lat[int(len(lat) * 0.99)] * 1000, 1) if lat else None,
        "latency_ms_max": round(lat[-1] * 1000, 1) if lat else None,
    }
    if planned is not None:
        figures["pass_tasks"] = args.pass_tasks
        figures["pass"] = {
            "passes": planned["passes"],
            "seconds": round(planned["seconds"], 2),
            "longest_pass_s": round(planned["longest"], 3),
            "longest_write_lock_s": planned["longest_write_lock_s"],
            "write_transactions": planned["write_transactions"],
        }
        figures["longest_write_lock_s"] = max(figures["longest_write_lock_s"], planned["longest_write_lock_s"])
    figures["ok"] = (
        figures["database_is_locked"] == 0
        and figures["other_errors"] == 0
        and figures["exact"]
        and final["pass_unplanned"] == 0
    )
    table(
        ["writer", "seconds", "locked", "other errors", "refused", "longest write lock (ms)"],
        [
            (
                r["index"],
                round(r["seconds"], 2),
                r["locked"],
                r["other"],
                r["refused"],
                round(r["longest_write_lock_s"] * 1000, 1),
            )
            for r in sorted(got, key=lambda r: r["index"])
        ]
        + (
            [
                (
                    "reminder pass",
                    round(planned["seconds"], 2),
                    "-",
                    "-",
                    "-",
                    round(planned["longest_write_lock_s"] * 1000, 1),
                )
            ]
            if planned
            else []
        ),
        title=f"{args.writers} writers × {args.updates} status updates on {figures['backend']}",
    )
    table(
        ["what", "value"],
        [
            ("expected updates", expected),
            ('"database is locked"', figures["database_is_locked"]),
            ("other errors", figures["other_errors"]),
            ("audit rows", figures["audit_status_rows"]),
            ("news items for the coordinator", figures["news_items"]),
            ("  in outbox rows (news is grouped)", figures["news_rows"]),
            ("sum of task versions", figures["version_sum"]),
            ("launched duties left unplanned", figures["pass_unplanned"]),
            ("exact counts", figures["exact"]),
            ("updates/s", figures["updates_per_s"]),
            (
                "latency p50 / p99 / max (ms)",
                f"{figures['latency_ms_p50']} / {figures['latency_ms_p99']} / {figures['latency_ms_max']}",
            ),
            ("longest write-lock hold, any process (ms)", round(figures["longest_write_lock_s"] * 1000, 1)),
        ]
        + (
            [
                (
                    "reminder passes alongside (longest pass, s)",
                    f"{figures['pass']['passes']} ({figures['pass']['longest_pass_s']})",
                )
            ]
            if planned
            else []
        )
        + [("met", figures["ok"])],
    )
    figures["machine"] = machine_note()
    emit(figures)


if __name__ == "__main__":
    main()
