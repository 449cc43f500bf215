"""Issue 13 items 11, 13, 14: webhooks refuse bad input with 400 and store nothing; a loop
survives any exception and logs the outage once; /health says which loop is dead and how
old the oldest due message is; a deadlock is retried whole."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import text
from sqlmodel import func, select

from bot.channels.webhook_input import MAX_UPDATE_ID
from bot.delivery import Delivery
from bot.ratelimit import Limits
from bot.runtime import Runtime
from storage import retry
from storage.db import Database
from storage.models import InboundUpdate, Outbox
from tests.conftest import make_app
from tests.helpers import FakeChannel

SECRET = "s3cret-s3cret"
DEEP = "[" * 100_000 + "]" * 100_000  # json.loads: RecursionError


def _stored(app) -> int:
    with app.db.read() as s:
        return s.exec(select(func.count()).select_from(InboundUpdate)).one()


def _message(update_id) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 5,
            "date": 1750316131,
            "text": "xin chào",
            "chat": {"id": 9101, "type": "private", "first_name": "CA"},
            "from": {"id": 9101, "is_bot": False, "first_name": "CA"},
        },
    }


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(_message(1.5e300)),
        json.dumps(_message(-1)),
        json.dumps(_message(MAX_UPDATE_ID)),
        json.dumps(_message("12")),
        json.dumps(_message(True)),
        json.dumps(_message(12.0)),
        json.dumps(_message(None)),
        json.dumps({"message": {}}),
        "[1, 2]",
        "not json",
        DEEP,
        '{"update_id": 1, "a": ' + DEEP + "}",
        json.dumps(
            {"update_id": 1, "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
        ),  # noqa: E501
    ],
    ids=[
        "huge-float",
        "negative",
        "2**53",
        "text",
        "bool",
        "float",
        "null",
        "missing",
        "array",
        "not-json",
        "deep-array",
        "deep-member",
        "40-levels",
    ],
)
async def test_telegram_webhook_refuses_bad_input_with_400_and_stores_nothing(sqlite_url, body):
    app = make_app(
        sqlite_url,
        lambda: __import__("datetime").datetime.now(__import__("datetime").timezone.utc),
        telegram={"token": "123:TEST", "mode": "webhook", "webhook_secret": SECRET},
    )
    rt = Runtime(app, limits=Limits.unlimited())
    web_app = web.Application(client_max_size=2 * 1024 * 1024)
    web_app.router.add_post("/telegram", rt._telegram_webhook(rt.channels["telegram"]))
    async with TestServer(web_app) as server, aiohttp.ClientSession() as http:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        async with http.post(server.make_url("/telegram"), data=body, headers=headers) as r:
            assert r.status == 400
        assert _stored(app) == 0
        async with http.post(server.make_url("/telegram"), json=_message(MAX_UPDATE_ID - 1), headers=headers) as r:
            assert r.status == 200  # the largest id allowed goes in
    with app.db.read() as s:
        assert list(s.exec(select(InboundUpdate.update_key))) == [str(MAX_UPDATE_ID - 1)]


@pytest.mark.parametrize(
    "body",
    [DEEP, '{"ok": true, "result": ' + DEEP + "}", "[]", "nope"],
    ids=["deep-array", "deep-result", "array", "not-json"],
)
async def test_zalo_webhook_refuses_bad_input_with_400_and_stores_nothing(sqlite_url, body):
    from bot.channels.zalo import SECRET_HEADER, ZaloChannel
    from bot.router import Router

    app = make_app(
        sqlite_url,
        lambda: __import__("datetime").datetime.now(__import__("datetime").timezone.utc),
        zalo={"token": "zalo-token", "webhook_secret": SECRET},
    )
    zalo = ZaloChannel(app, Router(app))
    web_app = web.Application(client_max_size=2 * 1024 * 1024)
    web_app.router.add_post("/zalo", zalo.webhook_handler())
    try:
        async with TestServer(web_app) as server, aiohttp.ClientSession() as http:
            async with http.post(server.make_url("/zalo"), data=body, headers={SECRET_HEADER: SECRET}) as r:
                assert r.status == 400
        assert _stored(app) == 0
    finally:
        await zalo.stop()


class Flaky:
    """Makes a method raise `exc` for its first `n` calls, then behave."""

    def __init__(self, target, name: str, n: int, exc: Exception) -> None:
        self.real, self.n, self.exc, self.calls = getattr(target, name), n, exc, 0
        setattr(target, name, self)

    def __call__(self, *a, **kw):
        self.calls += 1
        if self.calls <= self.n:
            raise self.exc
        return self.real(*a, **kw)


async def test_delivery_survives_any_exception_and_logs_the_outage_once(app, caplog):
    ch = FakeChannel()
    delivery = Delivery(app, {"fake": ch})
    with app.write() as store:
        store.enqueue(
            Outbox(
                channel="fake", chat_id="c1", kind="news", text="tin", created_at=app.now(), next_attempt_at=app.now()
            )
        )
    flaky = Flaky(delivery, "_due", 4, RuntimeError("boom: not a database error at all"))
    caplog.set_level(logging.INFO, logger="bot.liveness")
    task = asyncio.create_task(delivery.run_forever())
    try:
        for _ in range(200):
            if ch.sent:
                break
            await asyncio.sleep(0.05)
        assert ch.texts("c1") == ["tin"]
        assert not task.done() and flaky.calls > 4
    finally:
        delivery.stop()
        await asyncio.wait_for(task, 5)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.liveness"]
    assert len([m for m in lines if "failing" in m]) == 1, lines  # once per outage, not per retry
    assert len([m for m in lines if "working again" in m]) == 1, lines
    assert delivery.pulse.failing_since is None and delivery.pulse.last_error.startswith("RuntimeError")


async def _get_health(port: int) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/health") as r:
        return r.status, await r.json()


async def test_health_names_a_dead_loop_and_an_overdue_message(app, unused_tcp_port):
    app.settings.server.health, app.settings.server.port = True, unused_tcp_port
    app.settings.server.health_max_due_age = 120
    rt = Runtime(app, role="worker", scheduler=False)
    await rt.start()
    try:
        status, report = await _get_health(unused_tcp_port)
        assert status == 200 and report["healthy"] and report["loops"]["delivery"]["healthy"], report
        assert report["oldest_due_seconds"] == 0
        # A message due 10 minutes ago that nothing can send (no such channel here): overdue.
        with app.write() as store:
            store.enqueue(
                Outbox(
                    channel="nowhere",
                    chat_id="c1",
                    kind="news",
                    text="tin",
                    created_at=app.now() - timedelta(minutes=10),
                    next_attempt_at=app.now() - timedelta(minutes=10),
                )
            )
        status, report = await _get_health(unused_tcp_port)
        assert status == 503 and report["oldest_due_seconds"] >= 600, report
        assert any("outbox" in p for p in report["problems"])
        with app.write() as store:
            store.s.execute(text("UPDATE outbox SET status = 'parked'"))
        assert (await _get_health(unused_tcp_port))[0] == 200
        # The delivery loop ends (here: cancelled): /health says which loop is dead.
        delivery = next(t for t in rt.tasks if t.get_name() == "delivery")
        delivery.cancel()
        await asyncio.wait({delivery})
        status, report = await _get_health(unused_tcp_port)
        assert status == 503 and report["loops"]["delivery"]["dead"] and "loop delivery dead" in report["problems"]
    finally:
        await rt.stop()


def test_a_deadlock_is_retried_whole(pg_database_url):
    """Two transactions lock two rows in opposite orders: PostgreSQL kills one (40P01); run by
    `retry.transaction`, the victim runs again and both commit."""
    db = Database(pg_database_url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS lockpair; CREATE TABLE lockpair (id int primary key, n int)"))
        conn.execute(text("INSERT INTO lockpair VALUES (1, 0), (2, 0)"))
    both = threading.Barrier(2)
    attempts = []

    def work(first: int, second: int) -> None:
        attempts.append(first)
        with db.write() as s:
            s.execute(text("UPDATE lockpair SET n = n + 1 WHERE id = :i"), {"i": first})
            if len(attempts) <= 2:
                both.wait(10)  # the first two attempts each hold one row, then reach for the other
            s.execute(text("UPDATE lockpair SET n = n + 1 WHERE id = :i"), {"i": second})

    errors = []

    def run(first, second, wrap):
        try:
            wrap(work, first, second) if wrap else work(first, second)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(1, 2, retry.transaction)),
        threading.Thread(target=run, args=(2, 1, retry.transaction)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert errors == [], errors
        assert len(attempts) == 3  # one of the two ran again
        with db.engine.connect() as conn:
            assert [n for (n,) in conn.execute(text("SELECT n FROM lockpair ORDER BY id"))] == [2, 2]
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE lockpair"))
        db.dispose()


def test_conflicts_and_outages_are_told_apart():
    from sqlalchemy.exc import OperationalError

    class Deadlock(Exception):
        sqlstate = "40P01"

    class Down(Exception):
        sqlstate = "08006"

    assert retry.is_conflict(OperationalError("x", {}, Deadlock()))
    assert not retry.is_outage(OperationalError("x", {}, Deadlock()))
    down = OperationalError("x", {}, Down())
    assert retry.is_outage(down) and not retry.is_conflict(down)
    assert not retry.is_transient(ValueError("a bug"))


async def test_webhook_mode_inbox_loop_survives_the_database_failing(sqlite_url, unused_tcp_port, caplog):
    """Webhook mode: an update stored while the inbox loop's reads fail (the database is down)
    is applied and answered once they work again; the loop never ends."""
    from datetime import datetime, timezone

    from sqlalchemy.exc import OperationalError

    from bot import inbox
    from tests.doubles.telegram_api import TelegramDouble
    from tests.helpers import add_user, seed_event

    async with TelegramDouble(token="123:TEST", limits=None) as tg:
        app = make_app(
            sqlite_url,
            lambda: datetime.now(timezone.utc),
            telegram={
                "token": "123:TEST",
                "base_url": tg.base_url,
                "base_file_url": tg.base_file_url,
                "mode": "webhook",
                "webhook_secret": SECRET,
            },
            server={"port": unused_tcp_port},
        )
        event = seed_event(app, datetime.now(timezone.utc) + timedelta(days=30))
        add_user(app, "9101", "contact", "CA", channel="telegram")
        with app.write() as store:
            store.get_event(event.id).launched_at = app.now()
        caplog.set_level(logging.INFO, logger="bot.liveness")
        rt = Runtime(app, limits=Limits.unlimited(), poll_timeout=1)
        await rt.start()
        flaky = Flaky(inbox, "pending", 5, OperationalError("SELECT", {}, ConnectionError("server closed")))
        try:
            await tg.user_sends(tg.make_user(9101, "CA"), "xin chào")  # the chat exists for the bot
            update = _message(4242)
            update["message"].update(text="/xong NC-11", entities=[{"type": "bot_command", "offset": 0, "length": 5}])
            async with aiohttp.ClientSession() as http:
                async with http.post(
                    f"http://127.0.0.1:{unused_tcp_port}/telegram",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                ) as r:
                    assert r.status == 200
            await tg.wait_for(lambda r: r.chat_id == 9101 and "hoàn thành" in (r.text or ""), timeout=20)
            assert flaky.calls > 5
            pulse = rt.liveness.pulses["telegram-inbox"]
            assert pulse.failing_since is None and not pulse.task.done()
        finally:
            inbox.pending = flaky.real
            await rt.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.liveness" and "telegram-inbox" in r.getMessage()]
    assert len([m for m in lines if "failing" in m]) == 1 and len([m for m in lines if "working again" in m]) == 1


from tests.test_zalo import coordinator_and_contact, said, world  # noqa: E402,F401 - the Zalo stack fixture


@pytest.mark.parametrize("world", ["webhook-wrapped", "polling"], indirect=True)
async def test_zalo_update_met_by_a_database_failure_stays_pending_and_is_applied_once(world):
    """The command's transaction fails for the database (not the update): the update is not
    marked failed; the loop tries it again and it is applied and answered once."""
    from sqlalchemy.exc import OperationalError

    zd, app, stack = world
    coord, ca = await coordinator_and_contact(app, zd)
    flaky = Flaky(stack.router, "handle", 2, OperationalError("UPDATE", {}, ConnectionError("server closed")))
    reply = await said(zd, ca, "/toila", timeout=20)
    assert reply and flaky.calls >= 3
    for _ in range(200):  # the row is marked done just after its answer went
        with app.db.read() as s:
            rows = list(s.exec(select(InboundUpdate.status, InboundUpdate.error)))
        if all(status != "pending" for status, _ in rows) and stack.zalo.process_pulse.failing_since is None:
            break
        await asyncio.sleep(0.05)
    assert all(status == "done" for status, _ in rows), rows
    assert stack.zalo.process_pulse.failing_since is None and stack.zalo.process_pulse.failures == 0


def test_the_reminder_pass_waits_for_an_open_inbox_batch(pg_database_url, clock):
    """One lock order on PostgreSQL: the reminder pass takes the write-order lock exclusively,
    inbox batches share it, so a pass never interleaves with a batch (the deadlock after an
    outage): while a batch is open, the pass waits for it, then runs."""
    from bot.scheduler import reminder_pass
    from tests.conftest import _truncate_pg

    _truncate_pg(pg_database_url)
    app = make_app(pg_database_url, clock)
    done = threading.Event()
    try:
        with app.batch():  # an inbox batch, open
            t = threading.Thread(target=lambda: (reminder_pass(app), done.set()), daemon=True)
            t.start()
            with app.db.engine.connect() as conn:
                for _ in range(200):  # until the pass is seen waiting for the lock
                    waiting = conn.execute(
                        text(
                            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = "
                            "(SELECT oid FROM pg_database WHERE datname = current_database())"
                        )
                    ).scalar()
                    if waiting:
                        break
                    conn.rollback()
                    threading.Event().wait(0.05)
            assert waiting == 1 and not done.is_set()
        t.join(30)
        assert done.is_set()
    finally:
        app.db.dispose()
