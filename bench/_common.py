"""Shared helpers for the benchmarks in bench/: a plain-text table for people, then the figures.

Every benchmark prints its table(s) and, as its LAST line, one JSON object with its figures
(`emit`), so a script can read the result with `tail -n 1 | python -m json.tool`.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def fmt(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence], *, title: str | None = None, out=sys.stdout) -> None:
    """Print rows under headers, columns aligned (numbers to the right)."""
    rows = [[fmt(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    if title:
        print(title, file=out)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print(
            "  ".join(
                c.rjust(w) if i and (c[:1].isdigit() or c[:1] == "-" and c[1:2].isdigit()) else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths))
            ).rstrip(),
            file=out,
        )
    print(file=out)


def emit(figures: dict) -> None:
    """The last line of a benchmark's output: one JSON object with its figures."""
    sys.stdout.flush()
    print(json.dumps(figures, ensure_ascii=False, sort_keys=False, default=str), flush=True)


def machine_note() -> dict:
    """What may have disturbed the timings: cores and the load when the run ended."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {"cores": os.cpu_count(), "load_1m": round(load[0], 2)}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- delivery benches: a database, the Telegram double, people, rows, the outbox worker ----------
def sqlite_url(folder) -> str:
    return f"sqlite:///{Path(folder) / 'dutybot.db'}"


def migrated(url: str) -> str:
    """Create the schema at `url` (a fresh SQLite file, or an empty PostgreSQL database)."""
    from storage.db import Database
    from storage.migrate import upgrade

    db = Database(url)
    upgrade(db)
    db.dispose()
    return url


def bench_app(url: str, double, clock=None):
    """An App on `url` whose Telegram settings point at the double (a TelegramDouble or its thread)."""
    from datetime import datetime, timezone

    from bot.config import load_settings
    from bot.context import App
    from storage.db import Database

    settings = load_settings(
        None,
        storage={"url": url},
        telegram={"token": double.token, "base_url": double.base_url, "base_file_url": double.base_file_url},
    )
    return App(settings, Database(url), clock or (lambda: datetime.now(timezone.utc)))


def add_people(app, uids, *, role: str = "contact", agency: str | None = None, agencies=None) -> dict[int, int]:
    """Users with a Telegram identity (handle = chat = the Telegram user id), in one transaction.

    `agencies`, if given, is a parallel list of agency codes. Returns {telegram id: user id}.
    """
    from storage.models import Identity, User

    now = app.now()
    out = {}
    with app.db.write() as s:
        users = [
            User(name=f"U{uid}", role=role, agency_code=(agencies[i] if agencies else agency), created_at=now)
            for i, uid in enumerate(uids)
        ]
        s.add_all(users)
        s.flush()
        s.add_all(
            [
                Identity(user_id=u.id, channel="telegram", external_id=str(uid), chat_id=str(uid), created_at=now)
                for u, uid in zip(users, uids)
            ]
        )
        out = {uid: u.id for u, uid in zip(users, uids)}
    return out


async def open_chats(double, uids) -> None:
    """The double knows each user, and each has written to the bot (so the bot may write back)."""
    for uid in uids:
        double.make_user(uid, f"U{uid}")
        await double.user_sends(uid, "/start")


def outbox_row(
    chat_id, text: str, now, *, user_id=None, kind: str = "reminder", urgent: bool = False, task_id=None, buttons=None
):
    from storage.models import Outbox

    payload = {"buttons": buttons} if buttons else {}
    return Outbox(
        user_id=user_id,
        channel="telegram",
        chat_id=str(chat_id),
        kind=kind,
        text=text,
        payload=payload,
        task_id=task_id,
        urgent=urgent,
        created_at=now,
        next_attempt_at=now,
    )


def add_rows(app, rows) -> None:
    with app.db.write() as s:
        s.add_all(rows)


def outbox_counts(app) -> dict:
    """{status: rows} of the outbox, plus total attempts."""
    from sqlalchemy import func
    from sqlmodel import select

    from storage.models import Outbox

    with app.db.read() as s:
        counts = dict(s.exec(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
        counts["attempts"] = s.exec(select(func.coalesce(func.sum(Outbox.attempts), 0))).one()
    return counts


def message_counts(double) -> tuple[int, int, int]:
    """(messages, distinct (chat, text) pairs, duplicates) the double accepted."""
    msgs = [(r.chat_id, r.raw_text) for r in double.sent if r.method == "sendMessage"]
    distinct = len(set(msgs))
    return len(msgs), distinct, len(msgs) - distinct


class Worker:
    """The real outbox worker (`bot.delivery.Delivery`) over the real `TelegramChannel`."""

    def __init__(self, app, limits=None) -> None:
        from bot.channels.telegram import TelegramChannel
        from bot.delivery import Delivery
        from bot.ratelimit import Limits, Pacer
        from bot.router import Router

        self.channel = TelegramChannel(app, Router(app))
        self.pacer = Pacer(limits or Limits())
        self.delivery = Delivery(app, {"telegram": self.channel}, {"telegram": self.pacer})
        self._task = None

    async def start(self) -> None:
        import asyncio

        await self.channel.start()
        self._task = asyncio.create_task(self.delivery.run_forever())

    async def stop(self) -> None:
        self.delivery.stop()
        if self._task is not None:
            await self._task
        await self.channel.stop()


# ---- SQLite's write lock -------------------------------------------------------------------
class WriteLockClock:
    """How long this process held SQLite's write lock: from BEGIN IMMEDIATE (a `db.write()`)
    returning to its COMMIT or ROLLBACK being issued. SQLite only; counts nothing elsewhere."""

    def __init__(self, db) -> None:
        import time

        from sqlalchemy import event

        self.longest = self.total = 0.0
        self.count = 0
        self._begun: dict[int, float] = {}
        clock = time.perf_counter

        def begun(conn) -> None:  # runs after storage.db's own "begin" hook has taken the lock
            if conn.get_execution_options().get("sqlite_immediate"):
                self._begun[id(conn)] = clock()

        def ended(conn) -> None:
            t = self._begun.pop(id(conn), None)
            if t is not None:
                held = clock() - t
                self.count += 1
                self.total += held
                self.longest = max(self.longest, held)

        event.listen(db.engine, "begin", begun)
        event.listen(db.engine, "commit", ended)
        event.listen(db.engine, "rollback", ended)

    def figures(self) -> dict:
        return {
            "write_transactions": self.count,
            "longest_write_lock_s": round(self.longest, 4),
            "write_lock_s": round(self.total, 3),
        }
