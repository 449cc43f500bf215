"""Benchmark: fan-out of reminders through the Telegram double enforcing Telegram's flood limits.

    .venv/bin/python bench/fanout.py [--n 3000] [--group 60] [--db-url URL] [--skip-group]

Phase 1: N agencies with one contact and one duty each, whose "2h before" reminder falls due at
one instant --lead seconds after start-up. The real scheduler (`bot.scheduler.Scheduler`, which
plans its wake-up for the next due moment) runs the reminder pass, which queues N outbox rows and
wakes the real outbox worker (`bot.delivery`, `bot.ratelimit.Pacer`, the real `TelegramChannel`
on python-telegram-bot); it sends them to the double (30 msg/s overall, ~1/s per private chat,
20/min per group, 429 + retry_after beyond). The clock starts at the DUE INSTANT, so the pass
(and the scheduler's lateness) is inside the figure. Figure: due instant → last message
accepted ÷ (N / 30 s), target ≤ 1.10, with no 429, none lost, none twice.
Friendlier than production: one process, the double on loopback, nothing else due or arriving,
the scheduler's lease is free (no other instance).
Phase 2: 60 messages to one group: time ÷ ((60 − 20) × 3 s), target ≤ 1.15, no 429 (the first
20 may go at once, then one per 3 s). The bot paces a group as 20 per 60.5 s window, so its
time steps every 20 messages: --group values that are not a multiple of 20 read slower than
they are (30 messages: ratio 2.0).
Prints a table and, as its LAST line, one JSON object. The machine has 2 cores shared with
others: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    ROOT,
    Worker,
    add_people,
    add_rows,
    bench_app,
    emit,
    machine_note,
    message_counts,
    migrated,
    open_chats,
    outbox_counts,
    outbox_row,
    sqlite_url,
    table,
)

sys.path.insert(0, str(ROOT))
from tests.doubles.telegram_api import TelegramDouble  # noqa: E402

GLOBAL_RATE = 30.0
GROUP_ID = -1001000000001


def seed_due_reminders(app, uids: list[int], moment: datetime) -> None:
    """One agency, one contact, one acknowledged duty per uid; each "2h before" slot is due at `moment`."""
    from storage.models import Agency, Event, Task

    launched = moment - timedelta(hours=1)
    deadline = moment + timedelta(hours=2)
    codes = [f"A{i:05d}" for i in range(len(uids))]
    with app.db.write() as s:
        s.add_all([Agency(code=c, name=f"Đơn vị {c}") for c in codes])
        event = Event(
            name="Fan-out",
            template_id="bench",
            template_path="",
            start=moment + timedelta(days=30),
            launched_at=launched,
            created_at=launched,
        )
        s.add(event)
        s.flush()
        s.add_all(
            [
                Task(
                    event_id=event.id,
                    number=i + 1,
                    code=f"BX-{i + 1:05d}",
                    title=f"Nhiệm vụ số {i + 1}",
                    phase="CB",
                    lead=c,
                    deadline=deadline,
                    original_deadline=deadline,
                    status="acknowledged",
                    acknowledged_at=launched,
                    updated_at=launched,
                    next_reminder_at=moment,
                )
                for i, c in enumerate(codes)
            ]
        )
    add_people(app, uids, agencies=codes)


async def wait_delivered(double, app, expected: int, started: float, limit: float) -> float | None:
    """Seconds from `started` to the last accepted message once `expected` have arrived (None: timed out)."""
    while time.time() - started < limit:
        msgs = [r for r in double.sent if r.method == "sendMessage"]
        if len(msgs) >= expected:
            counts = outbox_counts(app)
            if counts.get("pending", 0) == 0:
                return max(r.time for r in msgs) - started
        await asyncio.sleep(0.25)
    return None


async def fanout(args, folder: Path) -> dict:
    url = migrated(args.db_url or sqlite_url(folder / "fanout"))
    async with TelegramDouble(token="123:TEST") as double:
        app = bench_app(url, double)
        uids = list(range(100_001, 100_001 + args.n))
        await open_chats(double, uids)
        due = datetime.now(timezone.utc) + timedelta(seconds=args.lead)
        seed_due_reminders(app, uids, due)

        import bot.scheduler as scheduling

        passes: list[dict] = []
        real_pass = scheduling.reminder_pass

        def timed_pass(app_, **kw):  # the scheduler's own pass, timed (it runs in a worker thread)
            t = time.perf_counter()
            result = real_pass(app_, **kw)
            passes.append({"at": time.time(), "s": time.perf_counter() - t, "slots": result.slots})
            return result

        scheduling.reminder_pass = timed_pass
        # The bot is up before the due instant: the worker idles, the scheduler plans its wake-up for it.
        worker = Worker(app)
        await worker.channel.start()
        double.reset_stats()
        double.sent.clear()
        runner = asyncio.create_task(worker.delivery.run_forever())
        sched = scheduling.Scheduler(app, on_queued=worker.delivery.wake)
        sched.start()
        started = due.timestamp()  # the clock starts at the due instant: the pass is inside the figure
        ideal = args.n / GLOBAL_RATE
        elapsed = await wait_delivered(double, app, args.n, started, limit=ideal * 3 + 30 + args.lead)
        sched.shutdown()
        scheduling.reminder_pass = real_pass
        worker.delivery.stop()
        await runner
        await worker.channel.stop()
        first = min((r.time for r in double.sent if r.method == "sendMessage"), default=None)
        busy = [p for p in passes if p["slots"]]
        result_slots = sum(p["slots"] for p in passes)
        total, distinct, dups = message_counts(double)
        per_chat = {}
        for r in double.sent:
            if r.method == "sendMessage":
                per_chat[r.chat_id] = per_chat.get(r.chat_id, 0) + 1
        counts = outbox_counts(app)
        app.db.dispose()
        return {
            "n": args.n,
            "slots": result_slots,
            "passes": len(passes),
            "pass_s": round(sum(p["s"] for p in busy), 2),
            "pass_started_after_due_s": round(busy[0]["at"] - busy[0]["s"] - started, 3) if busy else None,
            "first_message_after_due_s": round(first - started, 3) if first is not None else None,
            "seconds": round(elapsed, 2) if elapsed is not None else None,
            "ideal_s": round(ideal, 2),
            "ratio": round(elapsed / ideal, 3) if elapsed is not None else None,
            "rate_per_s": round(total / elapsed, 2) if elapsed else None,
            "429": double.stats["429"],
            "flood_429": double.stats["flood_429"],
            "sent_inside_retry_after": double.stats["sent_inside_retry_after"],
            "lost": args.n - len(per_chat),
            "duplicated": sum(c - 1 for c in per_chat.values() if c > 1),
            "rows_sent": counts.get("sent", 0),
            "rows_parked": counts.get("parked", 0),
            "rows_pending": counts.get("pending", 0),
            "attempts": counts["attempts"],
        }


async def group(args, folder: Path) -> dict:
    url = migrated(args.db_url or sqlite_url(folder / "group"))
    async with TelegramDouble(token="123:TEST") as double:
        app = bench_app(url, double)
        double.make_group(GROUP_ID, "Ban tổ chức")
        now = app.now()
        add_rows(
            app, [outbox_row(GROUP_ID, f"📣 Thông báo <b>số {i + 1}</b>", now, kind="news") for i in range(args.group)]
        )
        worker = Worker(app)
        await worker.channel.start()
        double.reset_stats()
        double.sent.clear()
        started = time.time()
        runner = asyncio.create_task(worker.delivery.run_forever())
        ideal = (args.group - 20) * 3.0
        elapsed = await wait_delivered(double, app, args.group, started, limit=ideal * 2 + 60)
        worker.delivery.stop()
        await runner
        await worker.channel.stop()
        total, distinct, dups = message_counts(double)
        counts = outbox_counts(app)
        app.db.dispose()
        return {
            "n": args.group,
            "seconds": round(elapsed, 2) if elapsed is not None else None,
            "ideal_s": ideal,
            "ratio": round(elapsed / ideal, 3) if elapsed is not None and ideal else None,
            "429": double.stats["429"],
            "lost": args.group - distinct,
            "duplicated": dups,
            "rows_sent": counts.get("sent", 0),
            "attempts": counts["attempts"],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="reminders to distinct private chats")
    parser.add_argument("--group", type=int, default=60, help="messages to one group")
    parser.add_argument("--lead", type=float, default=3.0, help="seconds from start-up to the due instant")
    parser.add_argument("--db-url", default=None, help="an empty database (default: SQLite in a temp folder)")
    parser.add_argument("--skip-group", action="store_true")
    parser.add_argument("--skip-fanout", action="store_true")
    args = parser.parse_args()
    figures: dict = {"bench": "fanout", "backend": (args.db_url or "sqlite").split(":", 1)[0].split("+")[0]}
    with tempfile.TemporaryDirectory(prefix="dutybot-fanout-") as tmp:
        folder = Path(tmp)
        (folder / "fanout").mkdir()
        (folder / "group").mkdir()
        if not args.skip_fanout:
            f = figures["fanout"] = asyncio.run(fanout(args, folder))
            f["ok"] = bool(
                f["ratio"] is not None
                and f["ratio"] <= 1.10
                and f["429"] == 0
                and f["lost"] == 0
                and f["duplicated"] == 0
            )
            table(
                ["what", "value"],
                [
                    ("reminders due at one instant", f["n"]),
                    ("reminder slots queued", f["slots"]),
                    ("pass began after the due instant (s)", f["pass_started_after_due_s"]),
                    ("reminder pass(es) with due slots (s)", f["pass_s"]),
                    ("first message after the due instant (s)", f["first_message_after_due_s"]),
                    ("due instant → last message (s)", f["seconds"]),
                    ("ideal N/30 (s)", f["ideal_s"]),
                    ("ratio (target ≤ 1.10)", f["ratio"]),
                    ("messages/s", f["rate_per_s"]),
                    ("429 answers", f["429"]),
                    ("lost", f["lost"]),
                    ("duplicated", f["duplicated"]),
                    ("send attempts", f["attempts"]),
                    ("met", f["ok"]),
                ],
                title=f"Fan-out: {f['n']} reminders to {f['n']} private chats",
            )
        if not args.skip_group:
            g = figures["group"] = asyncio.run(group(args, folder))
            g["ok"] = bool(
                g["ratio"] is not None
                and g["ratio"] <= 1.15
                and g["429"] == 0
                and g["lost"] == 0
                and g["duplicated"] == 0
            )
            table(
                ["what", "value"],
                [
                    ("messages to one group", g["n"]),
                    ("time to deliver all (s)", g["seconds"]),
                    ("ideal (n − 20) × 3 s", g["ideal_s"]),
                    ("ratio (target ≤ 1.15)", g["ratio"]),
                    ("429 answers", g["429"]),
                    ("lost", g["lost"]),
                    ("duplicated", g["duplicated"]),
                    ("met", g["ok"]),
                ],
                title="Group: 20 per minute",
            )
    figures["ok"] = all(figures[k]["ok"] for k in ("fanout", "group") if k in figures)
    figures["machine"] = machine_note()
    emit(figures)


if __name__ == "__main__":
    main()
