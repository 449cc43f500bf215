"""Benchmark: the reminder schedule of a huge event, against plain APScheduler, in the same run.

    .venv/bin/python bench/scale.py [--tasks 100000] [--sizes 1000,10000] [--due 100] [--db-url URL]

An event of --tasks duties (5,000 agencies × 20 duties at 100k, one contact each) is generated
straight into a database, each duty planned by the policy (`next_reminder_at`), as a launched
event looks after its first passes. Then, each in a fresh process with the same modules
already imported:
  * dutybot: open the app and start its scheduler until the first wake-up has run and the next
    one is planned (its schedule is the database's `next_reminder_at` index and one job);
  * APScheduler: one in-memory job per reminder (MemoryJobStore), read from the database and
    added BEFORE `start()` (the cheapest way: no wake-up per job), as a scheduler that keeps
    reminders in memory must do at every start.
Figures: memory (RSS growth) for the schedule, target ≤ 0.25× APScheduler's, and start-up to
ready, target ≤ 0.5×. Then the cost of one reminder pass with --due duties due at once, in
events of each size (--sizes plus --tasks): it should follow the due slots, not the tasks; and
the planning pass a launch needs, at the smaller sizes. Prints tables and, as its LAST line,
one JSON object (`ok`: all three targets met; `checks`: each). Timing figures are disturbed by
other work on the 2-core machine (the load average is printed).
Friendlier than production: SQLite on a local disk, one process, the pass timed without the
delivery worker or incoming updates competing for the database; the event is generated straight
into the tables (no launch through the bot).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, machine_note, migrated, sqlite_url, table  # noqa: E402

sys.path.insert(0, str(ROOT))
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PER_AGENCY = 20
PRELOAD = (
    "bot.app",
    "bot.scheduler",
    "bot.config",
    "storage.migrate",
    "storage.models",
    "alembic.command",
    "apscheduler.schedulers.asyncio",
    "apscheduler.triggers.date",
    "sqlalchemy",
    "sqlmodel",
)


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _settings(url: str):
    from bot.config import load_settings

    return load_settings(None, storage={"url": url})


def _app(url: str):
    from bot.context import App
    from storage.db import Database

    return App(_settings(url), Database(url))


# ---- the event ------------------------------------------------------------------------------
def generate(url: str, n_tasks: int, now: datetime) -> dict:
    """Agencies, contacts, one launched event of n_tasks duties with next_reminder_at planned."""
    from sqlalchemy import insert

    from bot.scheduler import base_policy
    from storage.models import Agency, Event, Identity, Task, User
    from workflows.reminders import TaskState, next_due

    app = _app(url)
    policy = base_policy(app)
    rnd = random.Random(n_tasks)
    launched = now - timedelta(hours=1)
    n_agencies = max(1, n_tasks // PER_AGENCY)
    codes = [f"DV{a:05d}" for a in range(n_agencies)]
    t = time.perf_counter()
    tasks, reminders = [], 0
    for i in range(n_tasks):
        day = (now + timedelta(days=1 + rnd.randrange(60))).astimezone(TZ).date()
        deadline = datetime.combine(day, clock_time(17, 0), tzinfo=TZ).astimezone(timezone.utc)
        acked = i % 2 == 0
        state = TaskState(
            id=i + 1,
            code=f"NV-{i + 1:06d}",
            lead=codes[i // PER_AGENCY % n_agencies],
            status="acknowledged" if acked else "todo",
            deadline=deadline,
            is_cue=False,
            launched_at=launched,
            acknowledged_at=launched if acked else None,
            last_report_at=None,
            policy=policy,
        )
        nxt = next_due(state, now, frozenset(), TZ)
        reminders += nxt is not None
        tasks.append(
            {
                "event_id": 1,
                "number": i + 1,
                "code": state.code,
                "title": f"Nhiệm vụ số {i + 1}",
                "title_en": "",
                "phase": "CB",
                "lead": state.lead,
                "supporting": [],
                "depends_on": [],
                "evidence_kinds": ["none"],
                "offset": "",
                "deadline": deadline,
                "original_deadline": deadline,
                "deadline_manual": False,
                "is_cue": False,
                "reminders": None,
                "note": "",
                "status": state.status,
                "percent": 0,
                "acknowledged_at": state.acknowledged_at,
                "updated_at": launched,
                "version": 0,
                "next_reminder_at": nxt,
            }
        )
    plan_s = time.perf_counter() - t
    t = time.perf_counter()
    with app.db.write() as s:
        conn = s.connection()
        conn.execute(insert(Agency.__table__), [{"code": c, "name": f"Đơn vị {c}", "name_en": ""} for c in codes])
        conn.execute(
            insert(Event.__table__),
            [
                {
                    "id": 1,
                    "name": "Sự kiện lớn",
                    "template_id": "bench",
                    "template_path": "",
                    "timezone": "Asia/Ho_Chi_Minh",
                    "start": now + timedelta(days=70),
                    "launched_at": launched,
                    "created_at": launched,
                    "default_due_time": "17:00",
                }
            ],
        )
        for k in range(0, n_tasks, 10_000):
            conn.execute(insert(Task.__table__), tasks[k : k + 10_000])
        conn.execute(
            insert(User.__table__),
            [
                {
                    "id": a + 1,
                    "name": f"Liên lạc {c}",
                    "role": "contact",
                    "agency_code": c,
                    "is_deputy": False,
                    "unreachable": False,
                    "active": True,
                    "digest": True,
                    "created_at": launched,
                }
                for a, c in enumerate(codes)
            ],
        )
        conn.execute(
            insert(Identity.__table__),
            [
                {
                    "user_id": a + 1,
                    "channel": "telegram",
                    "external_id": str(500_001 + a),
                    "chat_id": str(500_001 + a),
                    "display_name": "",
                    "created_at": launched,
                }
                for a in range(n_agencies)
            ],
        )
    insert_s = time.perf_counter() - t
    app.db.dispose()
    return {
        "tasks": n_tasks,
        "agencies": n_agencies,
        "with_reminder": reminders,
        "plan_s": round(plan_s, 2),
        "insert_s": round(insert_s, 2),
    }


# ---- the two schedulers, each in a fresh process ---------------------------------------------
def child_dutybot(url: str) -> dict:
    import asyncio
    import gc

    from bot.app import open_app
    from bot.scheduler import Scheduler, next_moment

    class Measured(Scheduler):
        ready: asyncio.Event

        async def wake(self) -> None:
            await super().wake()
            self.ready.set()

    async def run() -> dict:
        gc.collect()
        before = rss_mib()
        t = time.perf_counter()
        app = open_app(_settings(url))
        sched = Measured(app)
        sched.ready = asyncio.Event()
        sched.start()
        await sched.ready.wait()
        ready_s = time.perf_counter() - t
        gc.collect()
        after = rss_mib()
        jobs = len(sched.sched.get_jobs())
        moment = next_moment(app)
        sched.shutdown()
        return {
            "startup_s": round(ready_s, 3),
            "rss_before_mib": round(before, 1),
            "rss_after_mib": round(after, 1),
            "schedule_mib": round(after - before, 2),
            "jobs": jobs,
            "next_moment": moment.isoformat() if moment else None,
        }

    return asyncio.run(run())


def child_apscheduler(url: str) -> dict:
    import asyncio
    import gc

    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.date import DateTrigger
    from sqlalchemy import select

    from storage.db import Database
    from storage.models import Task

    async def run() -> dict:
        gc.collect()
        before = rss_mib()
        t = time.perf_counter()
        db = Database(url)
        with db.read() as s:  # what a restart must reload into memory
            rows = s.exec(select(Task.id, Task.next_reminder_at).where(Task.next_reminder_at.is_not(None))).all()
        read_s = time.perf_counter() - t
        sched = AsyncIOScheduler(timezone=timezone.utc, job_defaults={"misfire_grace_time": None, "coalesce": True})
        # The jobs are added BEFORE start(), as a restart would (added to a running scheduler each
        # add_job wakes it and re-sorts: slower than the baseline needs to be). start() then moves
        # the pending jobs into the memory store; ready when it returns.
        t2 = time.perf_counter()
        for task_id, when in rows:
            sched.add_job(remind, DateTrigger(run_date=when), args=(task_id,), id=f"r{task_id}")
        add_s = time.perf_counter() - t2
        t3 = time.perf_counter()
        sched.start()
        start_s = time.perf_counter() - t3
        ready_s = time.perf_counter() - t
        n = len(rows)
        del rows
        db.dispose()
        gc.collect()
        after = rss_mib()
        jobs = len(sched.get_jobs())
        sched.shutdown(wait=False)
        return {
            "startup_s": round(ready_s, 3),
            "read_s": round(read_s, 3),
            "add_s": round(add_s, 3),
            "start_s": round(start_s, 3),
            "rss_before_mib": round(before, 1),
            "rss_after_mib": round(after, 1),
            "schedule_mib": round(after - before, 2),
            "jobs": jobs,
            "reminders": n,
        }

    return asyncio.run(run())


def remind(task_id: int) -> None:  # the baseline's job function
    pass


def in_child(kind: str, url: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--db-url", url],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=str(ROOT),
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- pass cost ------------------------------------------------------------------------------
_USED: dict[str, set[int]] = {}


def make_due(url: str, k: int, now: datetime, rnd: random.Random) -> None:
    """k acknowledged duties now have their "2h before" reminder due (as if their deadline moved)."""
    from sqlalchemy import func, select, update

    from storage.models import Task

    app = _app(url)
    with app.db.write() as s:
        n = s.execute(select(func.count()).select_from(Task)).scalar_one()
        used = _USED.setdefault(url, set())  # a duty made due twice within a second would keep its slot key
        ids = rnd.sample(sorted(set(range(1, n + 1)) - used), k)
        used.update(ids)
        deadline = now + timedelta(hours=2) - timedelta(minutes=1)
        s.execute(
            update(Task)
            .where(Task.id.in_(ids))
            .values(
                status="acknowledged", acknowledged_at=now - timedelta(hours=1), deadline=deadline, next_reminder_at=now
            )
        )
    app.db.dispose()


def time_pass(url: str) -> dict:
    from bot.scheduler import reminder_pass
    from storage.repositories import SqlStore

    app = _app(url)
    t = time.perf_counter()
    result = reminder_pass(app)
    seconds = time.perf_counter() - t
    with app.db.read() as s:  # one part of the pass that reads the whole event
        t = time.perf_counter()
        SqlStore(s).task_statuses(1)
        statuses_s = time.perf_counter() - t
    app.db.dispose()
    return {
        "seconds": seconds,
        "tasks_seen": result.tasks_seen,
        "slots": result.slots,
        "notices": len(result.notices),
        "task_statuses_s": statuses_s,
    }


def pass_costs(url: str, n_tasks: int, due: int, reps: int, rnd: random.Random) -> dict:
    runs = []
    for _ in range(reps):
        now = datetime.now(timezone.utc)
        make_due(url, due, now, rnd)
        runs.append(time_pass(url))
    return {
        "tasks": n_tasks,
        "due": due,
        "pass_s": round(statistics.median(r["seconds"] for r in runs), 3),
        "pass_s_all": [round(r["seconds"], 3) for r in runs],
        "slots": runs[-1]["slots"],
        "tasks_seen": runs[-1]["tasks_seen"],
        "task_statuses_s": round(statistics.median(r["task_statuses_s"] for r in runs), 3),
    }


def launch_planning(url: str) -> dict:
    """Every duty looked at once, as right after a launch (limit 5,000 per pass)."""
    from sqlalchemy import update

    from bot.scheduler import reminder_pass
    from storage.models import Task

    app = _app(url)
    now = app.now()
    with app.db.write() as s:
        s.execute(update(Task).values(next_reminder_at=now))
    t = time.perf_counter()
    passes = seen = 0
    longest = 0.0
    while True:
        t1 = time.perf_counter()
        r = reminder_pass(app)
        longest = max(longest, time.perf_counter() - t1)
        if r.tasks_seen == 0:
            break
        passes += 1
        seen += r.tasks_seen
    total = time.perf_counter() - t
    app.db.dispose()
    return {
        "seconds": round(total, 2),
        "passes": passes,
        "tasks_seen": seen,
        "longest_pass_s": round(longest, 2),
        "ms_per_task": round(total / max(seen, 1) * 1000, 2),
    }


# ---- main -----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--sizes", default="1000,10000", help="smaller events for the pass cost")
    parser.add_argument("--due", type=int, default=100, help="duties due in each measured pass")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-launch", action="store_true", help="skip the launch planning at the smaller sizes")
    parser.add_argument("--db-url", default=None, help="(with --child) the database to use")
    parser.add_argument("--child", choices=("dutybot", "apscheduler"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        for name in PRELOAD:
            __import__(name)
        out = child_dutybot(args.db_url) if args.child == "dutybot" else child_apscheduler(args.db_url)
        print(json.dumps(out))
        return
    rnd = random.Random(3)
    figures: dict = {"bench": "scale"}
    sizes = sorted({int(x) for x in args.sizes.split(",") if x.strip()} | {args.tasks})
    with tempfile.TemporaryDirectory(prefix="dutybot-scale-") as tmp:
        urls = {}
        gen = {}
        for n in sizes:
            (Path(tmp) / str(n)).mkdir()
            urls[n] = migrated(sqlite_url(Path(tmp) / str(n)))
            gen[n] = generate(urls[n], n, datetime.now(timezone.utc))
        big = urls[args.tasks]
        ours = in_child("dutybot", big)
        theirs = in_child("apscheduler", big)
        mem_ratio = ours["schedule_mib"] / theirs["schedule_mib"] if theirs["schedule_mib"] > 0 else None
        time_ratio = ours["startup_s"] / theirs["startup_s"] if theirs["startup_s"] > 0 else None
        figures["event"] = gen[args.tasks]
        figures["dutybot"] = ours
        figures["apscheduler"] = theirs
        figures["memory_ratio"] = round(mem_ratio, 4) if mem_ratio is not None else None
        figures["startup_ratio"] = round(time_ratio, 4) if time_ratio is not None else None
        table(
            ["", "dutybot", "APScheduler (memory store)"],
            [
                ("reminders scheduled", gen[args.tasks]["with_reminder"], theirs["jobs"]),
                ("jobs in memory", ours["jobs"], theirs["jobs"]),
                ("memory for the schedule (MiB)", ours["schedule_mib"], theirs["schedule_mib"]),
                ("start-up to ready (s)", ours["startup_s"], theirs["startup_s"]),
                (
                    "  of which: read / add jobs / start() (s)",
                    "-",
                    f"{theirs['read_s']} / {theirs['add_s']} / {theirs['start_s']}",
                ),
            ],
            title=f"{args.tasks:,} duties ({gen[args.tasks]['agencies']:,} agencies × {PER_AGENCY})",
        )
        table(
            ["what", "value", "target"],
            [
                ("memory ratio", figures["memory_ratio"], "≤ 0.25"),
                ("start-up ratio", figures["startup_ratio"], "≤ 0.5"),
            ],
        )
        costs = [pass_costs(urls[n], n, args.due, args.reps, rnd) for n in sizes]
        more_due = pass_costs(big, args.tasks, args.due * 10, 1, rnd)
        figures["pass"] = costs + [more_due]
        table(
            ["tasks in the event", "due in the pass", "pass (s)", "per due duty (ms)", "of which task_statuses (s)"],
            [
                (c["tasks"], c["due"], c["pass_s"], round(c["pass_s"] / c["due"] * 1000, 2), c["task_statuses_s"])
                for c in costs + [more_due]
            ],
            title="One reminder pass (median of --reps)",
        )
        small, large = costs[0], costs[-1]
        figures["pass_growth_small_to_large"] = round(large["pass_s"] / small["pass_s"], 3)
        if not args.no_launch:
            figures["launch_planning"] = {str(n): launch_planning(urls[n]) for n in sizes if n < args.tasks}
            table(
                ["tasks", "passes", "seconds", "ms per task", "longest pass (s)"],
                [
                    (int(n), v["passes"], v["seconds"], v["ms_per_task"], v["longest_pass_s"])
                    for n, v in figures["launch_planning"].items()
                ],
                title="Planning every duty (as at launch)",
            )
    figures["checks"] = {
        "memory": mem_ratio is not None and mem_ratio <= 0.25,
        "startup": time_ratio is not None and time_ratio <= 0.5,
        # "follows the due slots": 100× the tasks with the same due count costs at most 1.5× as much
        "pass_follows_due": figures["pass_growth_small_to_large"] <= 1.5,
    }
    figures["ok"] = all(figures["checks"].values())
    figures["machine"] = machine_note()
    emit(figures)


if __name__ == "__main__":
    main()
