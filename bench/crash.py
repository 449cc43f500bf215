"""Benchmark: `dutybot run` killed with SIGKILL at random moments, restarted each time.

    .venv/bin/python bench/crash.py [--reminders 2000] [--updates 2000] [--kills 20] [--window 240]

The Telegram double runs in this process (a thread, Telegram's flood limits on); dutybot runs
as a subprocess (`dutybot run`, polling the double). The database holds 100 agencies with one
contact and 20 duties each; each duty's "2h before" reminder falls due at its own moment within
--window seconds, and the contacts send --updates status updates ("/tiendo CODE N") at random
moments of the same window. --kills times, at a random moment, the bench sends SIGKILL to the
process it started and starts it again at once. At the end (everything due, the last one
started normally), it counts, from what the double received and what the database holds:
lost reminders (target 0), lost updates (target 0), duplicate deliveries (target ≤ 1 per kill on
average: a send whose outcome was not yet recorded is the only allowed duplicate: for answers
to updates, the ones of the batch being answered at the kill), and also replies to updates
that never came (answers are written to the outbox with the change and sent after a restart).
Prints a table and, as its LAST line, one JSON object. The machine has 2 cores shared with
others: timings may be disturbed (the load average is printed).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, add_people, emit, machine_note, migrated, sqlite_url, table  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.doubles.telegram_api import TelegramDoubleThread  # noqa: E402

AGENCIES = 100
FIRST_UID = 400_001
REMINDER = re.compile(r"⏰ .*?(CR-\d{4})")


def _app(url: str):
    from bot.config import load_settings
    from bot.context import App
    from storage.db import Database

    return App(load_settings(None, storage={"url": url}), Database(url))


def seed(url: str, n_tasks: int, first_due: datetime, window: float, rnd: random.Random) -> dict[str, int]:
    """Agencies, contacts and duties; returns {task code: telegram id of its contact}."""
    from storage.models import Agency, Event, Task

    app = _app(url)
    launched = first_due - timedelta(hours=1)
    codes = [f"CR{a:03d}" for a in range(AGENCIES)]
    moments = sorted(first_due + timedelta(seconds=rnd.uniform(0, window)) for _ in range(n_tasks))
    lead = [codes[i % AGENCIES] for i in range(n_tasks)]
    with app.db.write() as s:
        s.add_all([Agency(code=c, name=f"Đơn vị {c}") for c in codes])
        event = Event(name="Crash", template_id="bench", template_path="", start=first_due + timedelta(days=30),
                      launched_at=launched, created_at=launched)
        s.add(event)
        s.flush()
        # Each duty is acknowledged; its only slot in the window is "2h before" (urgent: no quiet hours),
        # and the previous pass recorded when that is (next_reminder_at).
        s.add_all([Task(event_id=event.id, number=i + 1, code=f"CR-{i + 1:04d}", title=f"Nhiệm vụ {i + 1}",
                        phase="CB", lead=lead[i], deadline=m + timedelta(hours=2), original_deadline=m + timedelta(hours=2),
                        status="acknowledged", acknowledged_at=launched, updated_at=launched, next_reminder_at=m)
                   for i, m in enumerate(moments)])
    uids = [FIRST_UID + a for a in range(AGENCIES)]
    add_people(app, uids, agencies=codes)
    app.db.dispose()
    return {f"CR-{i + 1:04d}": FIRST_UID + codes.index(lead[i]) for i in range(n_tasks)}


class Bot:
    """`dutybot run` as a subprocess of this bench (only this process is ever signalled)."""

    def __init__(self, env: dict, log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"run-{self.starts:02d}.log", "wb")
        self.proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "dutybot"), "run"], env=self.env, cwd=self.log_dir,
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9


def db_state(url: str) -> dict:
    from sqlalchemy import func
    from sqlmodel import select

    from storage.models import InboundUpdate, Outbox

    app = _app(url)
    with app.db.read() as s:
        out = dict(s.exec(select(Outbox.status, func.count()).where(Outbox.kind == "reminder")
                          .group_by(Outbox.status)).all())
        inbound = dict(s.exec(select(InboundUpdate.status, func.count()).group_by(InboundUpdate.status)).all())
    app.db.dispose()
    return {"reminders": out, "inbound": inbound}


def audit_of(url: str) -> dict[str, list[int]]:
    from sqlmodel import select

    from storage.models import AuditEntry, Task

    app = _app(url)
    with app.db.read() as s:
        rows = s.exec(select(Task.code, AuditEntry.detail).join(Task, Task.id == AuditEntry.task_id)
                      .where(AuditEntry.action == "status")).all()
    app.db.dispose()
    out: dict[str, list[int]] = {}
    for code, detail in rows:
        out.setdefault(code, []).append(detail.get("percent"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=2000)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--window", type=float, default=240.0, help="seconds over which reminders and updates fall")
    parser.add_argument("--lead", type=float, default=12.0, help="seconds before the first reminder is due")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--db-url", default=None, help="an empty database (default: SQLite in a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, database)")
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="dutybot-crash-"))
    url = migrated(args.db_url or sqlite_url(tmp))
    first_due = datetime.now(timezone.utc) + timedelta(seconds=args.lead)
    owner = seed(url, args.reminders, first_due, args.window, rnd)
    codes = sorted(owner)
    t0 = time.time() + args.lead  # wall clock of first_due, near enough
    updates = sorted((t0 + rnd.uniform(0, args.window), rnd.choice(codes), rnd.randint(1, 99))
                     for _ in range(args.updates))
    # Kills at random moments of the run; a kill may land during a start-up too.
    kills = sorted(t0 - args.lead / 2 + rnd.uniform(0, args.window + args.lead / 2) for _ in range(args.kills))

    # A request cut off by a kill is logged by aiohttp with a traceback: expected here, not news.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    double = TelegramDoubleThread("123:TEST").start()
    for uid in sorted(set(owner.values())):
        double.make_user(uid, f"U{uid}")
        double.call(lambda u=uid: double.double._private_chat(double.double._users[u]))  # they wrote to the bot before
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")},
           "DUTYBOT_TELEGRAM__TOKEN": "123:TEST", "DUTYBOT_TELEGRAM__BASE_URL": double.base_url,
           "DUTYBOT_TELEGRAM__BASE_FILE_URL": double.base_file_url, "DUTYBOT_STORAGE__URL": url}
    bot = Bot(env, tmp)
    bot.start()
    sent_updates: list[tuple[str, int, int, int]] = []  # code, percent, chat, message id
    uptimes, started_at = [], time.time()
    kill_i = upd_i = 0
    while kill_i < len(kills) or upd_i < len(updates):
        now = time.time()
        while upd_i < len(updates) and updates[upd_i][0] <= now:
            _, code, percent = updates[upd_i]
            msg = double.user_sends(owner[code], f"/tiendo {code} {percent}")
            sent_updates.append((code, percent, msg["chat"]["id"], msg["message_id"]))
            upd_i += 1
        if kill_i < len(kills) and kills[kill_i] <= now:
            bot.kill()
            uptimes.append(now - started_at)
            bot.start()
            started_at = time.time()
            kill_i += 1
        time.sleep(0.02)
    # Everything is due: let the last run finish the work, then stop it normally.
    last_due = t0 + args.window
    deadline = max(time.time(), last_due) + 240
    while time.time() < deadline:
        state = db_state(url)
        if time.time() > last_due and state["reminders"].get("sent", 0) + state["reminders"].get("parked", 0) \
                >= args.reminders and state["inbound"].get("pending", 0) == 0 \
                and sum(state["inbound"].values()) >= len(sent_updates):
            break
        time.sleep(1.0)
    time.sleep(2.0)  # replies to the last updates
    exit_code = bot.stop()
    state = db_state(url)
    messages = [r for r in double.sent if r.method == "sendMessage"]
    stats = dict(double.stats)
    refused = [e for e in double.errors if e["status"] == 429]
    double.stop()
    # Which path met the flood limits: answers to updates (sent at once) or outbox rows (paced).
    on_replies = sum(1 for e in refused if "reply_parameters" in e["params"])

    got = Counter()
    for r in messages:
        m = REMINDER.search(r.text or "")
        if m:
            got[(r.chat_id, m.group(1))] += 1
    lost_reminders = sum(1 for c in codes if got[(owner[c], c)] == 0)
    dup_reminders = sum(n - 1 for n in got.values() if n > 1)
    audit = audit_of(url)
    expected: dict[str, Counter] = {}
    for code, percent, _, _ in sent_updates:
        expected.setdefault(code, Counter())[percent] += 1
    lost_updates = dup_updates = 0
    for code, want in expected.items():
        have = Counter(audit.get(code, []))
        lost_updates += sum((want - have).values())
        dup_updates += sum((have - want).values())
    asked = {(chat, mid) for _, _, chat, mid in sent_updates}
    replies = Counter()
    for r in messages:
        to = (r.message or {}).get("reply_to_message", {}).get("message_id")
        if to is not None and (r.chat_id, to) in asked:
            replies[(r.chat_id, to)] += 1
    lost_replies = len(asked) - len(replies)
    dup_replies = sum(n - 1 for n in replies.values() if n > 1)
    logs = "".join(p.read_text(errors="replace") for p in sorted(tmp.glob("run-*.log")))
    figures = {
        "bench": "crash", "backend": url.split(":", 1)[0].split("+")[0], "reminders": args.reminders, "updates": len(sent_updates),
        "kills": len(uptimes), "starts": bot.starts, "window_s": args.window,
        "lost_reminders": lost_reminders, "lost_updates": lost_updates,
        "duplicate_deliveries": dup_reminders + dup_replies, "duplicates_per_kill": round(
            (dup_reminders + dup_replies) / max(len(uptimes), 1), 3),
        "duplicate_reminders": dup_reminders, "updates_applied_twice": dup_updates,
        "replies_missing": lost_replies, "duplicate_replies": dup_replies,
        "reminder_rows": state["reminders"], "inbound_rows": state["inbound"],
        "429": stats["429"], "flood_429": stats["flood_429"],
        "sent_inside_retry_after": stats["sent_inside_retry_after"],
        "429_on_replies": on_replies, "429_on_outbox_rows": len(refused) - on_replies,
        "mean_uptime_s": round(sum(uptimes) / max(len(uptimes), 1), 2), "last_exit_code": exit_code,
        "tracebacks_in_logs": logs.count("Traceback"), "locked_in_logs": logs.count("database is locked"),
    }
    figures["ok"] = (lost_reminders == 0 and lost_updates == 0
                     and figures["duplicate_deliveries"] <= max(len(uptimes), 1))
    table(["what", "value"], [
        ("reminders due in the run", args.reminders), ("status updates sent", len(sent_updates)),
        ("SIGKILLs (restarts)", len(uptimes)), ("mean time between kills (s)", figures["mean_uptime_s"]),
        ("lost reminders", lost_reminders), ("lost updates", lost_updates),
        ("duplicate reminders", dup_reminders), ("updates applied twice", dup_updates),
        ("duplicate deliveries per kill (target ≤ 1)", figures["duplicates_per_kill"]),
        ("replies to updates never sent", lost_replies),
        ("429 answers (on replies / on outbox rows)", f"{stats['429']} ({on_replies} / {len(refused) - on_replies})"),
        ("requests inside a retry_after window", stats["sent_inside_retry_after"]),
        ("tracebacks in dutybot's logs", figures["tracebacks_in_logs"]), ("met", figures["ok"]),
    ], title=f"Crash: {len(uptimes)} × kill -9 during {args.reminders} reminders and {len(sent_updates)} updates")
    if args.keep:
        print(f"kept: {tmp}")
        figures["kept"] = str(tmp)
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    figures["machine"] = machine_note()
    emit(figures)


if __name__ == "__main__":
    main()
