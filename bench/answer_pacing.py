"""Benchmark: one contact sends two status updates a second; are all answered, paced?

    .venv/bin/python bench/answer_pacing.py [--rate 2] [--seconds 120] [--db-url URL]

dutybot runs as a real subprocess (`dutybot run`, polling the Telegram double that runs in
this process with Telegram's flood limits on: about one message a second to one private
chat), with its production defaults (pacer, sender gate). One contact sends `/tiendo NC-11 N`
--rate times a second for --seconds. The bench counts the answers that arrived (several may
share one message: answers waiting for the same chat are merged), the 429s the double handed
out, the messages sent to the contact, and each answer's delay: from the moment the contact
sent its message to the moment the double accepted the message that carries its answer (the
k-th answer in the chat answers the k-th message: answers keep their order).

Target (issue 14): every answer, 0 x 429, and a short delay (before: 79-120 x 429 and a
median delay of 48 s). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, add_people, emit, machine_note, migrated, sqlite_url, table  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.doubles.telegram_api import TelegramDoubleThread  # noqa: E402

CONTACT, CODE, AGENCY = 700_001, "NC-11", "CA"
ANSWER = f"Đã ghi nhận tiến độ việc {CODE}"
TOKEN = "123:TEST"


def seed(url: str) -> None:
    from bot.config import load_settings
    from bot.context import App
    from storage.db import Database
    from tests.helpers import seed_event

    app = App(load_settings(None, storage={"url": url}), Database(url))
    event = seed_event(app, datetime.now(timezone.utc) + timedelta(days=30))
    with app.write() as store:
        store.get_event(event.id).launched_at = app.now()
    add_people(app, [CONTACT], agency=AGENCY)
    app.db.dispose()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def answers_in(double) -> int:
    return sum((r.text or "").count(ANSWER) for r in list(double.sent) if r.chat_id == CONTACT)


def run(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="dutybot-answer-pacing-"))
    url = migrated(args.db_url or sqlite_url(tmp))
    seed(url)
    double = TelegramDoubleThread(TOKEN).start()  # Telegram's flood limits on (the double's default)
    double.make_user(CONTACT, "Contact")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")},
        "DUTYBOT_TELEGRAM__TOKEN": TOKEN,
        "DUTYBOT_TELEGRAM__BASE_URL": double.base_url,
        "DUTYBOT_TELEGRAM__BASE_FILE_URL": double.base_file_url,
        "DUTYBOT_STORAGE__URL": url,
        "DUTYBOT_REMINDERS__QUIET_HOURS": "",
    }
    with open(tmp / "run.log", "wb") as log:
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "dutybot"), "run"],
            env=env,
            cwd=tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        up = time.time() + 60  # the clock starts once the bot polls: start-up is not measured
        while time.time() < up and double.stats["by_method"].get("getUpdates", 0) < 2:
            time.sleep(0.05)
        n = int(args.rate * args.seconds)
        asked: list[float] = []
        t0 = time.time()
        for i in range(n):
            delay = t0 + i / args.rate - time.time()
            if delay > 0:
                time.sleep(delay)
            asked.append(time.time())
            double.user_sends(CONTACT, f"/tiendo {CODE} {i % 99 + 1}")
        end = time.time() + args.wait
        while time.time() < end and answers_in(double) < n:
            time.sleep(0.2)
        time.sleep(1.0)  # anything more (a duplicate) would show now
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    records = sorted((r for r in list(double.sent) if r.chat_id == CONTACT), key=lambda r: r.time)
    delays, k = [], 0
    for r in records:
        for _ in range((r.text or "").count(ANSWER)):
            if k < len(asked):
                delays.append(r.time - asked[k])
            k += 1
    stats = dict(double.stats)
    double.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "expected": n,
        "got": k,
        "messages": len(records),
        "429": stats["429"],
        "sent_inside_retry_after": stats.get("sent_inside_retry_after", 0),
        "delay_p50_s": round(pct(delays, 0.5), 2),
        "delay_p99_s": round(pct(delays, 0.99), 2),
        "delay_max_s": round(max(delays), 2) if delays else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=2.0, help="messages a second from the contact")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the last answers")
    parser.add_argument("--db-url", default=None, help="an empty database (default: SQLite in a temp folder)")
    args = parser.parse_args()
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    r = run(args)
    table(
        [
            "answers expected",
            "answers got",
            "messages",
            "429",
            "inside retry_after",
            "delay p50 s",
            "delay p99 s",
            "delay max s",
        ],
        [
            (
                r["expected"],
                r["got"],
                r["messages"],
                r["429"],
                r["sent_inside_retry_after"],
                r["delay_p50_s"],
                r["delay_p99_s"],
                r["delay_max_s"],
            )
        ],
        title=f"Answer pacing: one contact sends {args.rate:g} messages/s for {args.seconds:.0f} s "
        f"(Telegram's flood limits on in the double)",
    )
    ok = r["got"] == r["expected"] and r["429"] == 0
    emit(
        {"bench": "answer_pacing", "rate": args.rate, "seconds": args.seconds, **r, "ok": ok, "machine": machine_note()}
    )


if __name__ == "__main__":
    main()
