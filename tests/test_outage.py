"""Issue 13 faults: the database goes away for 30 s under a steady stream of status updates and
comes back; nothing is lost, nothing is applied twice, everything owed goes out within a
minute, and /health says 503 during the outage and 200 after it.

`dutybot run` is a real process polling the Telegram double; 3 contacts each send a
`/tiendo` twice a second (each with its own note) before, during and after the outage; the
coordinator gets the news. PostgreSQL: a private cluster started for the test is stopped
(never the machine's shared one). SQLite: the database and WAL files are made immutable
(writes fail, reads work).
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import text

from storage.db import Database
from tests.doubles.telegram_api import TelegramDoubleThread
from tests.outage_rig import (
    CONTACTS,
    COORDINATOR,
    TOKEN,
    PrivatePostgres,
    ReadOnlySqlite,
    dutybot_env,
    free_port,
    health,
    launch,
    make_world,
    terminate,
    wait,
)

OUTAGE = 30.0  # seconds the database is away (the figure)
RECOVERY = 60.0  # everything owed is delivered within this long after it is back (the promise)
BEFORE = AFTER = 5.0  # seconds of reporting before the outage and after it
pytestmark = [pytest.mark.timeout(400)] if importlib.util.find_spec("pytest_timeout") else []


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request, tmp_path):
    b = PrivatePostgres() if request.param == "postgresql" else ReadOnlySqlite(tmp_path)
    yield b
    b.close()


class Reporters(threading.Thread):
    """3 contacts, each sending `/tiendo CODE PCT note` twice a second, until stopped."""

    def __init__(self, tg, codes: dict[int, list[str]]) -> None:
        super().__init__(daemon=True)
        self.tg, self.codes = tg, codes
        self.sent: dict[tuple[int, int], str] = {}  # (chat, message id) -> note
        self.at: dict[str, float] = {}  # note -> when sent
        self.halt = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.halt.is_set():
            tick = time.monotonic()
            for uid in CONTACTS:
                codes = self.codes[uid]
                note = f"n{i:05d}"
                m = self.tg.run(self.tg.double.user_sends(uid, f"/tiendo {codes[i % len(codes)]} {1 + i % 97} {note}"))
                self.sent[(m["chat"]["id"], m["message_id"])] = note
                self.at[note] = time.monotonic()
                i += 1
            self.halt.wait(max(0.0, 0.5 - (time.monotonic() - tick)))


def _answers(tg) -> list[tuple[int, int]]:
    def collect():
        return [
            (r.chat_id, ref["message_id"])
            for r in tg.double.sent
            if r.method == "sendMessage"
            for ref in [(r.message or {}).get("reply_to_message")]
            if ref and ref.get("from", {}).get("is_bot") is False
        ]

    return tg.call(collect)


def _to_coordinator(tg) -> int:
    return tg.call(lambda: sum(1 for r in tg.double.sent if r.chat_id == COORDINATOR and r.method.startswith("send")))


def _db(url: str, sql: str) -> list:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        db.dispose()


def _owed(url: str) -> int:
    """Outbox rows due and not yet sent (pending ones held for later are not due)."""
    sql = "SELECT count(*) FROM outbox WHERE status = 'pending' AND next_attempt_at <= CURRENT_TIMESTAMP"
    return _db(url, sql)[0][0]


def test_a_30s_database_outage_loses_nothing_and_repeats_nothing(backend, tmp_path):
    codes = make_world(backend.url)
    log = tmp_path / "dutybot.log"
    with TelegramDoubleThread(TOKEN, limits=None) as tg:
        tg.call(lambda: [tg.double.make_user(uid, f"Người {uid}") for uid in (COORDINATOR, *CONTACTS)])
        tg.run(tg.double.user_sends(COORDINATOR, "xin chào"))  # the bot may write to the coordinator
        port = free_port()
        proc = launch(dutybot_env(tg, backend.url, port), log)
        reporters = Reporters(tg, codes)
        try:
            wait("/health 200 at start", lambda: health(port)[0] == 200, 60, proc, log)
            reporters.start()
            time.sleep(BEFORE)  # the steady stream, for a while, before the outage
            backend.stop()
            down = time.monotonic()
            statuses = []
            while time.monotonic() - down < OUTAGE:  # the outage lasts OUTAGE seconds, whatever happens
                statuses.append(health(port)[0])
                time.sleep(1.0)
            backend.start()
            up = time.monotonic()
            time.sleep(AFTER)
            reporters.halt.set()
            reporters.join(10)
            last_sent = time.monotonic()

            def news_rows():
                return _db(
                    backend.url, f"SELECT count(*) FROM outbox WHERE chat_id = '{COORDINATOR}' AND status = 'sent'"
                )[0][0]

            progress = {}

            def caught_up() -> bool:
                progress.update(
                    unanswered=len(set(reporters.sent) - set(_answers(tg))),
                    owed=_owed(backend.url),
                    news_missing=news_rows() - _to_coordinator(tg),
                )
                return progress["unanswered"] == 0 and progress["owed"] == 0 and progress["news_missing"] <= 0

            try:
                wait(
                    "every message answered and nothing owed",
                    caught_up,
                    up + RECOVERY - time.monotonic(),
                    proc,
                    log,
                    0.5,
                )
            except AssertionError as exc:
                raise AssertionError(f"{progress}: {exc}") from None
            delivered = time.monotonic() - up
            code, report = wait(
                "/health 200 after the outage",
                lambda: (r := health(port))[0] == 200 and r,
                up + RECOVERY - time.monotonic(),
                proc,
                log,
                0.5,
            )
            healthy_after = time.monotonic() - up
        finally:
            reporters.halt.set()
            rc = terminate(proc)
        answers = Counter(_answers(tg))
        news_sent = _to_coordinator(tg)

    out = log.read_text(errors="replace")
    assert rc == 0, out[-3000:]
    assert 503 in statuses, f"/health during the outage: {statuses}"

    # Every status applied exactly once: each note is in the audit log once.
    details = [
        d if isinstance(d, dict) else json.loads(d)
        for (d,) in _db(backend.url, "SELECT detail FROM auditentry WHERE action = 'status'")
    ]
    notes = Counter(d.get("note") for d in details)
    expected = set(reporters.sent.values())
    assert not {n: c for n, c in notes.items() if c > 1}, "a status applied twice"
    assert expected <= set(notes), f"never applied: {sorted(expected - set(notes))[:20]}"

    # Every message answered; a second answer only for those in flight when the database went.
    assert set(reporters.sent) <= set(answers)
    twice = {k for k, n in answers.items() if n > 1}
    assert all(n <= 2 for n in answers.values())
    in_flight = {k for k, note in reporters.sent.items() if abs(reporters.at[note] - down) < 5.0}
    assert twice <= in_flight, f"answered twice, sent well away from the outage: {sorted(twice - in_flight)[:10]}"

    # The coordinator's news: every row sent (none parked), the news after the outage included.
    rows = _db(backend.url, f"SELECT status, count(*) FROM outbox WHERE chat_id = '{COORDINATOR}' GROUP BY status")
    assert dict(rows).keys() <= {"sent"} and dict(rows).get("sent", 0) > 0, rows
    assert news_sent >= dict(rows)["sent"]
    assert _db(backend.url, "SELECT count(*) FROM outbox WHERE status = 'parked'")[0][0] == 0

    # One log line per loop when it starts failing and one when it recovers, not one per retry.
    failing = [line for line in out.splitlines() if ": failing" in line]
    assert failing and len(failing) <= 12, failing
    assert "working again" in out
    print(
        f"\noutage test ({type(backend).__name__}): {len(reporters.sent)} updates, /health during {statuses}; "
        f"all delivered {delivered:.1f} s after the database came back, /health 200 after {healthy_after:.1f} s "
        f"(last update sent {last_sent - up:.1f} s after); answered twice {len(twice)}; "
        f"coordinator messages {news_sent}; log lines 'failing' {len(failing)}"
    )
    print(
        "\n".join(
            line[:200]
            for line in out.splitlines()
            if "failing" in line or "working again" in line or "not marked sent" in line
        )
    )
