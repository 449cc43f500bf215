"""Benchmark: delivery through a 429 storm, then a 60 s outage of 502s, via the Telegram double.

    .venv/bin/python bench/storms.py [--n 1800] [--storm 20] [--outage 60] [--db-url URL]

N reminders to N private chats are due at once (outbox rows); the real outbox worker sends them
through the real `TelegramChannel` (python-telegram-bot) to the double, which enforces the
flood limits and, for the first --storm seconds, answers 20% of sends with 429 and a
retry_after of 1–5 s; then every send gets 502 for --outage seconds; then it heals.
Figures: lost (rows never delivered, parked included), requests sent inside a retry_after
window, duplicates, and completion time ÷ (N/30 + the outage), target ≤ 1.1. A second ratio
also counts the send slots the 429 answers used (each refused request took a slot of the 30/s
budget). The double checks a chat's (or the bot's) open retry_after window BEFORE it draws an
injected fault, so a send inside a window is counted even in the storm, where it would otherwise
have drawn a fault and hidden the breach. `ok`: everything delivered once, none inside a window,
ratio ≤ 1.1.
Friendlier than production: faults hit sendMessage only; the 502s answer at once (a real outage
may hang until the client's timeout); the double is on loopback in the same process.
Prints a table and, as its LAST line, one JSON object. Timing: the machine has 2 cores shared
with others; the load average is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
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

BUTTONS = [
    [
        {"label": "Đã nhận", "data": "t:{i}:ack"},
        {"label": "Đang làm", "data": "t:{i}:progress"},
        {"label": "Xong", "data": "t:{i}:done"},
        {"label": "Vướng", "data": "t:{i}:blocked"},
    ]
]


def buttons(i: int) -> list:
    return [[{"label": b["label"], "data": b["data"].format(i=i)} for b in row] for row in BUTTONS]


async def run(args, folder: Path) -> dict:
    url = migrated(args.db_url or sqlite_url(folder))
    async with TelegramDouble(token="123:TEST") as double:
        app = bench_app(url, double)
        uids = list(range(200_001, 200_001 + args.n))
        await open_chats(double, uids)
        users = add_people(app, uids)
        now = app.now()
        add_rows(
            app,
            [
                outbox_row(
                    uid,
                    f"⏰ Còn 2h đến hạn việc <b>ST-{i + 1:05d}</b> (17:00 11/06).\nNhiệm vụ {i + 1}",
                    now,
                    user_id=users[uid],
                    buttons=buttons(i + 1),
                )
                for i, uid in enumerate(uids)
            ],
        )
        worker = Worker(app)
        await worker.channel.start()
        double.reset_stats()
        double.sent.clear()
        double.set_failure_rate(0.2, 429, (1, 5), methods=["sendMessage"], seed=args.seed)
        started = time.time()
        runner = asyncio.create_task(worker.delivery.run_forever())
        phases = {"storm_429": 0, "outage_502": 0}
        limit = (args.n / 30 + args.outage) * 4 + 60
        phase = "storm"
        while time.time() - started < limit:
            elapsed = time.time() - started
            if phase == "storm" and elapsed >= args.storm:
                phases["storm_429"] = double.stats["injected_failures"]
                double.set_failure_rate(1.0, 502, methods=["sendMessage"])
                phase, outage_started = "outage", time.time()
            elif phase == "outage" and time.time() - outage_started >= args.outage:
                phases["outage_502"] = double.stats["injected_failures"] - phases["storm_429"]
                double.set_failure_rate(0.0)
                phase = "healed"
            counts = outbox_counts(app)
            if phase == "healed" and counts.get("pending", 0) == 0:
                break
            await asyncio.sleep(0.25)
        worker.delivery.stop()
        await runner
        await worker.channel.stop()
        msgs = [r for r in double.sent if r.method == "sendMessage"]
        done_at = max((r.time for r in msgs), default=started)
        total, distinct, dups = message_counts(double)
        counts = outbox_counts(app)
        by_status = dict(double.stats["by_status"])
        app.db.dispose()
    seconds = done_at - started
    ideal = args.n / 30 + args.outage
    refused = phases["storm_429"] + double.stats["flood_429"]
    return {
        "backend": url.split(":", 1)[0].split("+")[0],
        "n": args.n,
        "storm_s": args.storm,
        "outage_s": args.outage,
        "seconds": round(seconds, 2),
        "ideal_s": round(ideal, 2),
        "ratio": round(seconds / ideal, 3),
        "ratio_with_refused_slots": round(seconds / (ideal + refused / 30), 3),
        "injected_429": phases["storm_429"],
        "injected_502": phases["outage_502"],
        "429": double.stats["429"],
        "flood_429": double.stats["flood_429"],
        "sent_inside_retry_after": double.stats["sent_inside_retry_after"],
        "delivered": distinct,
        "lost": args.n - distinct,
        "duplicated": dups,
        "rows_sent": counts.get("sent", 0),
        "rows_parked": counts.get("parked", 0),
        "rows_pending": counts.get("pending", 0),
        "attempts": counts["attempts"],
        "requests": double.stats["by_method"].get("sendMessage", 0),
        "by_status": {str(k): v for k, v in by_status.items()},
        "finished": phase == "healed" and counts.get("pending", 0) == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1800, help="reminders to distinct private chats")
    parser.add_argument("--storm", type=float, default=20.0, help="seconds of 20%% 429 answers first")
    parser.add_argument("--outage", type=float, default=60.0, help="then seconds of 502 answers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db-url", default=None, help="an empty database (default: SQLite in a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dutybot-storms-") as tmp:
        f = asyncio.run(run(args, Path(tmp)))
    f["ok"] = bool(
        f["finished"]
        and f["lost"] == 0
        and f["duplicated"] == 0
        and f["sent_inside_retry_after"] == 0
        and f["ratio"] <= 1.1
    )
    table(
        ["what", "value"],
        [
            ("reminders", f["n"]),
            ("429 storm (s, 20% of sends)", f["storm_s"]),
            ("502 outage (s)", f["outage_s"]),
            ("injected 429 / 502 answers", f"{f['injected_429']} / {f['injected_502']}"),
            ("flood-limit 429 (the double's own)", f["flood_429"]),
            ("requests inside a retry_after window", f["sent_inside_retry_after"]),
            ("delivered", f["delivered"]),
            ("lost (parked or never sent)", f["lost"]),
            ("duplicated", f["duplicated"]),
            ("sendMessage requests", f["requests"]),
            ("completion (s)", f["seconds"]),
            ("N/30 + outage (s)", f["ideal_s"]),
            ("ratio (target ≤ 1.1)", f["ratio"]),
            ("ratio, refused requests' slots counted", f["ratio_with_refused_slots"]),
            ("met", f["ok"]),
        ],
        title="Storms: 429s, then 502s, through the Telegram double",
    )
    f["bench"] = "storms"
    f["machine"] = machine_note()
    emit(f)


if __name__ == "__main__":
    main()
