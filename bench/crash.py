"""Benchmark: `dutybot run` killed with SIGKILL at random moments, restarted each time.

    .venv/bin/python bench/crash.py [--reminders 2000] [--updates 2000] [--kills 20] [--window 240]

The Telegram double runs in this process (a thread, Telegram's flood limits on); dutybot runs
as a subprocess (`dutybot run`, polling the double). The database holds 100 agencies with one
contact and 20 duties each; each duty's "2h before" reminder falls due at its own moment within
--window seconds, and the contacts send --updates status updates ("/tiendo CODE N") at random
moments of the same window. --kills times, at a random moment, the bench kills the process it
started (SIGKILL) and starts it again at once. --send-kills of the kills (default half) are
the worst moment: armed at their moment, they are fired by the double itself right after it
accepts the bot's next sendMessage and before the answer goes back, so the bot has sent a
message it cannot have recorded as sent. At the end (everything due, the last run stopped
normally), it counts, from what the double received and what the database holds: lost
reminders, lost updates, updates applied twice, replies to updates never sent (all target 0),
and duplicate deliveries, each blamed on the first kill after the copy before it (a send whose
outcome was not recorded is the only allowed duplicate). `ok`: nothing lost, nothing applied
twice, every reply sent, at most 1 duplicate message for the WORST kill (a chat's waiting answers go
as one merged message, so one re-sent message may repeat several answers: both counts are
reported), no duplicate without a kill to blame, and every kill done. A part of a merged message is
traced to the update it answers through the outbox row with that text (answers can go out of order
after a dead process's claim expires).
Friendlier than production: the double answers at once on loopback; the database is a local
SQLite file (or --db-url); the kills hit one process, never the database.
Prints a table and, as its LAST line, one JSON object. The machine has 2 cores shared with
others: timings may be disturbed (the load average is printed).
"""

from __future__ import annotations

import argparse
import bisect
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
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
        event = Event(
            name="Crash",
            template_id="bench",
            template_path="",
            start=first_due + timedelta(days=30),
            launched_at=launched,
            created_at=launched,
        )
        s.add(event)
        s.flush()
        # Each duty is acknowledged; its only slot in the window is "2h before" (urgent: no quiet hours),
        # and the previous pass recorded when that is (next_reminder_at).
        s.add_all(
            [
                Task(
                    event_id=event.id,
                    number=i + 1,
                    code=f"CR-{i + 1:04d}",
                    title=f"Nhiệm vụ {i + 1}",
                    phase="CB",
                    lead=lead[i],
                    deadline=m + timedelta(hours=2),
                    original_deadline=m + timedelta(hours=2),
                    status="acknowledged",
                    acknowledged_at=launched,
                    updated_at=launched,
                    next_reminder_at=m,
                )
                for i, m in enumerate(moments)
            ]
        )
    uids = [FIRST_UID + a for a in range(AGENCIES)]
    add_people(app, uids, agencies=codes)
    app.db.dispose()
    return {f"CR-{i + 1:04d}": FIRST_UID + codes.index(lead[i]) for i in range(n_tasks)}


class SendKill:
    """The worst moment to die: the double calls this right after it accepts a sendMessage and
    before the answer goes back, so the bot has sent a message it cannot have recorded. Armed
    for one kill of one process at a time; it runs on the double's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pid: int | None = None
        self.fired_at: float | None = None

    def arm(self, pid: int) -> None:
        with self._lock:
            self.fired_at, self.pid = None, pid

    def disarm(self) -> bool:
        """Stop waiting for a send; True if it fired meanwhile."""
        with self._lock:
            self.pid = None
            return self.fired_at is not None

    def __call__(self, record) -> None:
        with self._lock:
            if self.pid is None or record.method != "sendMessage":
                return
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:  # it died some other way: the main loop restarts it all the same
                pass
            self.pid = None
            self.fired_at = time.time()


class Bot:
    """`dutybot run` as a subprocess of this bench (only this process is ever signalled)."""

    def __init__(self, env: dict, log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"run-{self.starts:02d}.log", "wb")  # noqa: SIM115 (outlives start())
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "dutybot"), "run"],
            env=self.env,
            cwd=self.log_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
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
        out = dict(
            s.exec(select(Outbox.status, func.count()).where(Outbox.kind == "reminder").group_by(Outbox.status)).all()
        )
        inbound = dict(s.exec(select(InboundUpdate.status, func.count()).group_by(InboundUpdate.status)).all())
    app.db.dispose()
    return {"reminders": out, "inbound": inbound}


def answers_by_text(url: str) -> dict[tuple[int, str], list[int]]:
    """(chat, an answer's text as the chat shows it) -> the updates (message ids) answers with that text
    reply to, from the outbox: how a part of a merged message is traced back to the update it answers."""
    import re as _re

    from sqlmodel import select

    from storage.models import Outbox

    app = _app(url)
    with app.db.read() as s:
        rows = s.exec(select(Outbox.chat_id, Outbox.text, Outbox.payload).where(Outbox.kind == "reply")).all()
    app.db.dispose()
    out: dict[tuple[int, str], list[int]] = {}
    for chat, text, payload in rows:
        to = (payload or {}).get("reply_to")
        if to is not None and str(to).isdigit():
            out.setdefault((int(chat), _re.sub(r"<[^>]+>", "", text).strip()), []).append(int(to))
    return out


def audit_of(url: str) -> dict[str, list[int]]:
    from sqlmodel import select

    from storage.models import AuditEntry, Task

    app = _app(url)
    with app.db.read() as s:
        rows = s.exec(
            select(Task.code, AuditEntry.detail)
            .join(Task, Task.id == AuditEntry.task_id)
            .where(AuditEntry.action == "status")
        ).all()
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
    parser.add_argument(
        "--send-kills",
        type=float,
        default=0.5,
        help="the share of kills fired by the double right after it accepts a sendMessage",
    )
    parser.add_argument(
        "--arm-timeout",
        type=float,
        default=10.0,
        help="an armed send-kill that sees no send for this long becomes a plain kill",
    )
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
    updates = sorted(
        (t0 + rnd.uniform(0, args.window), rnd.choice(codes), rnd.randint(1, 99)) for _ in range(args.updates)
    )
    # Kills at random moments of the run (a kill may land during a start-up too). --send-kills of
    # them are armed at that moment and fired by the double right after it accepts the next
    # sendMessage (the worst moment); the others are a plain SIGKILL at the moment.
    kills = sorted(t0 - args.lead / 2 + rnd.uniform(0, args.window + args.lead / 2) for _ in range(args.kills))
    n_send = round(args.kills * args.send_kills)
    kinds = ["after_send"] * n_send + ["signal"] * (args.kills - n_send)
    rnd.shuffle(kinds)

    # A request cut off by a kill is logged by aiohttp with a traceback: expected here, not news.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    double = TelegramDoubleThread("123:TEST").start()
    trigger = SendKill()
    double.double.on_accepted = trigger
    for uid in sorted(set(owner.values())):
        double.make_user(uid, f"U{uid}")
        double.call(lambda u=uid: double.double._private_chat(double.double._users[u]))  # they wrote to the bot before
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")},
        "DUTYBOT_TELEGRAM__TOKEN": "123:TEST",
        "DUTYBOT_TELEGRAM__BASE_URL": double.base_url,
        "DUTYBOT_TELEGRAM__BASE_FILE_URL": double.base_file_url,
        "DUTYBOT_STORAGE__URL": url,
    }
    bot = Bot(env, tmp)
    bot.start()
    sent_updates: list[tuple[str, int, int, int]] = []  # code, percent, chat, message id
    uptimes, started_at = [], time.time()
    kill_log: list[tuple[float, str]] = []  # (when the bot was dead, how it was killed)
    kill_i = upd_i = 0
    armed_since: float | None = None

    def restarted(kind: str, at: float) -> None:
        nonlocal started_at, kill_i, armed_since
        kill_log.append((at, kind))
        uptimes.append(at - started_at)
        bot.start()
        started_at, armed_since = time.time(), None
        kill_i += 1

    while kill_i < len(kills) or upd_i < len(updates):
        now = time.time()
        while upd_i < len(updates) and updates[upd_i][0] <= now:
            _, code, percent = updates[upd_i]
            msg = double.user_sends(owner[code], f"/tiendo {code} {percent}")
            sent_updates.append((code, percent, msg["chat"]["id"], msg["message_id"]))
            upd_i += 1
        if armed_since is not None:
            if trigger.fired_at is not None:
                bot.proc.wait()
                restarted("after_send", trigger.fired_at)
            elif now - armed_since > args.arm_timeout and not trigger.disarm():
                bot.kill()  # nothing was sent for a while: a plain kill instead
                restarted("signal", time.time())
        elif kill_i < len(kills) and kills[kill_i] <= now:
            if kinds[kill_i] == "after_send":
                trigger.arm(bot.proc.pid)
                armed_since = now
            else:
                bot.kill()
                restarted("signal", time.time())
        time.sleep(0.02)
    # Everything is due: let the last run finish the work, then stop it normally.
    last_due = t0 + args.window
    deadline = max(time.time(), last_due) + 240
    while time.time() < deadline:
        state = db_state(url)
        if (
            time.time() > last_due
            and state["reminders"].get("sent", 0) + state["reminders"].get("parked", 0) >= args.reminders
            and state["inbound"].get("pending", 0) == 0
            and sum(state["inbound"].values()) >= len(sent_updates)
        ):
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

    # Every delivery, by what it delivers: a reminder (chat, task code) or an answer (chat, update).
    # A chat's answers that waited for its turn go as one message (bot.outgoing: their texts
    # joined by MERGE_SEP, a reply to the first): it answers that many of the chat's updates in a
    # row, from the one it quotes.
    from bot.outgoing import MERGE_SEP

    asked = {(chat, mid) for _, _, chat, mid in sent_updates}
    asked_in: dict[int, list[int]] = {}
    for chat, mid in sorted(asked):
        asked_in.setdefault(chat, []).append(mid)
    copies: dict[tuple, list[float]] = {}
    # Each part of a merged message is traced to the update it answers through the outbox row
    # with that text (after a dead process's claim expires, a chat's answers can go out of order:
    # a merged message may answer updates 36, 38 and 41 while 40 went alone before it). Only a
    # part no row explains falls back to "the next of the chat's updates in a row".
    by_text = answers_by_text(url)
    resent_messages: list[float] = []  # per message repeating answers: when they were delivered before
    answered: set[tuple] = set()
    for r in sorted(messages, key=lambda r: r.time):
        m = REMINDER.search(r.text or "")
        to = (r.message or {}).get("reply_to_message", {}).get("message_id")
        if m:
            copies.setdefault(("reminder", r.chat_id, m.group(1)), []).append(r.time)
        elif to is not None and (r.chat_id, to) in asked:
            mids = asked_in[r.chat_id]
            parts = (r.text or "").split(MERGE_SEP)
            got: list[int] = []
            for j, part in enumerate(parts):
                options = [x for x in by_text.get((r.chat_id, part.strip()), []) if x not in got]
                fresh = [x for x in options if ("reply", r.chat_id, x) not in answered]
                if options:
                    got.append((fresh or options)[0])
                else:
                    i = mids.index(to) + j
                    if i < len(mids):
                        got.append(mids[i])
            keys = [("reply", r.chat_id, mid) for mid in got]
            repeated = [copies[k][-1] for k in keys if k in answered]
            if repeated:  # blamed below, like a reminder's copy, on the first kill after the copy before
                resent_messages.append(max(repeated))
            for k in keys:
                copies.setdefault(k, []).append(r.time)
                answered.add(k)
    lost_reminders = sum(1 for c in codes if ("reminder", owner[c], c) not in copies)
    dup_reminders = sum(len(t) - 1 for k, t in copies.items() if k[0] == "reminder")
    lost_replies = sum(1 for chat, mid in asked if ("reply", chat, mid) not in copies)
    dup_replies = sum(len(t) - 1 for k, t in copies.items() if k[0] == "reply")
    # Each extra copy is blamed on the first kill after the copy before it: the process that sent
    # that one died before it could record the send. A copy with no kill after the one before it
    # has no excuse (counted apart; ok requires none).
    kill_at = sorted(kill_log)
    per_kill = Counter()
    unexplained = 0
    for times in copies.values():
        times.sort()
        for before in times[:-1]:
            blamed = bisect.bisect_left(kill_at, (before, ""))
            if blamed < len(kill_at):
                per_kill[blamed] += 1
            else:
                unexplained += 1
    by_kind = Counter(kind for _, kind in kill_log)
    dup_by_kind = Counter()
    for i, n in per_kill.items():
        dup_by_kind[kill_at[i][1]] += n
    worst = max(per_kill.values(), default=0)
    # The same, counted in messages: a merged message of three answers sent again is one re-send.
    per_kill_msgs = Counter()
    befores = [b for k, t in copies.items() if k[0] == "reminder" for b in t[:-1]] + resent_messages
    for before in befores:
        blamed = bisect.bisect_left(kill_at, (before, ""))
        if blamed < len(kill_at):
            per_kill_msgs[blamed] += 1
    worst_msgs = max(per_kill_msgs.values(), default=0)
    audit = audit_of(url)
    expected: dict[str, Counter] = {}
    for code, percent, _, _ in sent_updates:
        expected.setdefault(code, Counter())[percent] += 1
    lost_updates = dup_updates = 0
    for code, want in expected.items():
        have = Counter(audit.get(code, []))
        lost_updates += sum((want - have).values())
        dup_updates += sum((have - want).values())
    logs = "".join(p.read_text(errors="replace") for p in sorted(tmp.glob("run-*.log")))
    figures = {
        "bench": "crash",
        "backend": url.split(":", 1)[0].split("+")[0],
        "reminders": args.reminders,
        "updates": len(sent_updates),
        "kills": len(uptimes),
        "starts": bot.starts,
        "window_s": args.window,
        "lost_reminders": lost_reminders,
        "lost_updates": lost_updates,
        "duplicate_deliveries": dup_reminders + dup_replies,
        "duplicates_per_kill": round((dup_reminders + dup_replies) / max(len(uptimes), 1), 3),
        "duplicate_reminders": dup_reminders,
        "updates_applied_twice": dup_updates,
        "replies_missing": lost_replies,
        "duplicate_replies": dup_replies,
        "kills_by_kind": dict(by_kind),
        "duplicates_by_kind": dict(dup_by_kind),
        "worst_kill_duplicates": worst,
        "worst_kill_duplicate_messages": worst_msgs,
        "duplicates_without_a_kill": unexplained,
        # Each kill in order: how, seconds into the run, and the duplicates blamed on it.
        "kill_log": [[kind, round(at - t0, 1), per_kill.get(i, 0)] for i, (at, kind) in enumerate(kill_at)],
        "reminder_rows": state["reminders"],
        "inbound_rows": state["inbound"],
        "429": stats["429"],
        "flood_429": stats["flood_429"],
        "sent_inside_retry_after": stats["sent_inside_retry_after"],
        "429_on_replies": on_replies,
        "429_on_outbox_rows": len(refused) - on_replies,
        "mean_uptime_s": round(sum(uptimes) / max(len(uptimes), 1), 2),
        "last_exit_code": exit_code,
        "tracebacks_in_logs": logs.count("Traceback"),
        "locked_in_logs": logs.count("database is locked"),
    }
    figures["ok"] = (
        lost_reminders == 0
        and lost_updates == 0
        and dup_updates == 0
        and lost_replies == 0
        and worst_msgs <= 1
        and unexplained == 0
        and len(uptimes) == args.kills
    )
    table(
        ["what", "value"],
        [
            ("reminders due in the run", args.reminders),
            ("status updates sent", len(sent_updates)),
            ("SIGKILLs (restarts)", len(uptimes)),
            ("  of which right after the double accepted a send", by_kind.get("after_send", 0)),
            ("mean time between kills (s)", figures["mean_uptime_s"]),
            ("lost reminders", lost_reminders),
            ("lost updates", lost_updates),
            ("updates applied twice", dup_updates),
            ("replies to updates never sent", lost_replies),
            ("duplicate reminders / replies", f"{dup_reminders} / {dup_replies}"),
            (
                "duplicates after a send-kill / a plain kill",
                f"{dup_by_kind.get('after_send', 0)} / {dup_by_kind.get('signal', 0)}",
            ),
            ("duplicates per kill (mean)", figures["duplicates_per_kill"]),
            ("duplicate answers of the worst kill", worst),
            ("duplicate messages of the worst kill (target ≤ 1)", worst_msgs),
            ("duplicates with no kill to blame", unexplained),
            (
                "429 answers (on replies / on outbox rows)",
                f"{stats['429']} ({on_replies} / {len(refused) - on_replies})",
            ),
            ("requests inside a retry_after window", stats["sent_inside_retry_after"]),
            ("tracebacks in dutybot's logs", figures["tracebacks_in_logs"]),
            ("met", figures["ok"]),
        ],
        title=f"Crash: {len(uptimes)} × kill -9 during {args.reminders} reminders and {len(sent_updates)} updates",
    )
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
