"""Several dutybot processes on one PostgreSQL database and one Telegram test double.

Three `dutybot run --role worker` processes deliver 2,000 queued messages: every one arrives
exactly once. Then the scheduler leader is killed with SIGKILL: another process takes the
lease within 30 s, and the reminder slots that fell due meanwhile are all sent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import select

from storage import leases
from storage.models import Outbox, ReminderSlot
from tests.conftest import PG_SKIP, PG_URL, make_app
from tests.doubles.telegram_api import TelegramDoubleThread
from tests.helpers import add_user, seed_event

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not PG_URL, reason=PG_SKIP)
TOKEN = "123:TEST"


def _spawn(url: str, tg, n: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DUTYBOT_STORAGE__URL": url,
        "DUTYBOT_TELEGRAM__TOKEN": TOKEN,
        "DUTYBOT_TELEGRAM__BASE_URL": tg.base_url,
        "DUTYBOT_TELEGRAM__BASE_FILE_URL": tg.base_file_url,
        "DUTYBOT_TELEGRAM__MAX_PER_SECOND": "400",
        "DUTYBOT_TELEGRAM__CHAT_INTERVAL": "0",
        "DUTYBOT_REMINDERS__QUIET_HOURS": "",
    }  # on the wall clock: the same at any hour
    return [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--role", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(n)
    ]


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


def test_three_workers_deliver_2000_once_and_leadership_moves_on_kill(pg_database_url):
    from tests.conftest import _truncate_pg

    _truncate_pg(pg_database_url)
    now = datetime.now(timezone.utc)
    app = make_app(pg_database_url, lambda: datetime.now(timezone.utc))
    event = seed_event(app, now + timedelta(days=20))
    with TelegramDoubleThread(token=TOKEN, limits=None) as tg:
        users = []
        for i in range(200):
            uid = 700000 + i
            tg.make_user(uid, f"u{i}")
            tg.user_sends(uid, "xin chào")  # a bot may only write to people who wrote to it
            users.append(add_user(app, str(uid), "contact", "DVTK", channel="telegram"))
        with app.write() as store:
            for n in range(2000):
                u = users[n % 200]
                store.add(
                    Outbox(
                        user_id=u.id,
                        channel="telegram",
                        chat_id=str(700000 + n % 200),
                        kind="news",
                        text=f"tin số {n}",
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
        procs = _spawn(pg_database_url, tg, 3)
        try:

            def all_sent():
                with app.read() as store:
                    return not store.s.exec(select(Outbox.id).where(Outbox.status != "sent")).first()

            t0 = time.monotonic()
            _wait(all_sent, 120, "2,000 messages to be sent")
            print(f"\n3 workers delivered 2,000 messages in {time.monotonic() - t0:.1f}s")
            texts = Counter(r.text for r in tg.double.sent if r.method == "sendMessage" and r.text.startswith("tin số"))
            assert len(texts) == 2000 and max(texts.values()) == 1, texts.most_common(3)
            with app.read() as store:
                senders = {r.claimed_by for r in store.s.exec(select(Outbox))}
            assert tg.double.validation_errors == []

            # Leadership: find the leader, kill it; another process must take over within 30 s.
            leader = _wait(lambda: leases.holder(app.db, "scheduler", datetime.now(timezone.utc)), 30, "a leader")
            pid = int(leader.split(":")[1])
            victim = next(p for p in procs if p.pid == pid)
            # Reminder slots falling due right around the kill: an event launched now whose
            # duties are already overdue (due/overdue/escalation slots for every task).
            with app.write() as store:
                e = store.get_event(event.id)
                e.launched_at = datetime.now(timezone.utc)
                for t in store.tasks(e.id):
                    t.next_reminder_at = e.launched_at + timedelta(seconds=3)
            killed_at = time.monotonic()
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            new_leader = _wait(
                lambda: (h := leases.holder(app.db, "scheduler", datetime.now(timezone.utc))) and h != leader and h,
                45,
                "a new leader",
            )
            took = time.monotonic() - killed_at
            print(f"leadership taken over {took:.1f}s after SIGKILL of the leader")
            assert took <= 30, f"takeover took {took:.1f}s"
            assert new_leader != leader

            def slots_done():
                with app.read() as store:
                    pending = store.s.exec(select(ReminderSlot.id)).all()
                    due_left = store.tasks_due_for_reminders(datetime.now(timezone.utc), 10)
                    return pending and not due_left

            _wait(slots_done, 45, "the reminder pass after takeover")
            with app.read() as store:
                overdue = [t for t in store.tasks(event.id) if t.deadline < datetime.now(timezone.utc)]
                keys = {(s.task_id, s.key.split("@")[0]) for s in store.s.exec(select(ReminderSlot))}
            assert overdue and all((t.id, "due") in keys or any(k[0] == t.id for k in keys) for t in overdue)
            assert len(senders) >= 2, "the work was shared between processes"
        finally:
            _stop(procs)
            errors = [p.stderr.read().decode()[-800:] for p in procs if p.stderr]
            app.db.dispose()
    assert not any("Traceback" in e for e in errors), errors
