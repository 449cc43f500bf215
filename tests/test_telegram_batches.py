"""Stored updates are processed in batches (one transaction, a savepoint per change).

Over real HTTP against the Telegram double: what queued up while the bot was away arrives in
one getUpdates and is handled as one batch. These tests check that batching changes nothing
a person can see: order, isolation of a bad update, answers that survive a crash.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot import answers
from bot.app import add_admin
from bot.channels.base import IncomingMessage
from bot.notify import GROUP_SEP
from bot.ratelimit import Limits
from bot.router import Router
from bot.runtime import Runtime
from bot.uow import UnitOfWork
from storage.models import InboundUpdate, Outbox, User
from tests.conftest import make_app
from tests.doubles.telegram_api import TelegramDouble
from tests.helpers import add_user, seed_event

TOKEN = "123456:TESTtokenTESTtokenTESTtokenTESTtok"


@pytest.fixture
async def bot(sqlite_url):
    async with TelegramDouble(token=TOKEN, limits=None) as tg:
        app = make_app(
            sqlite_url,
            lambda: datetime.now(timezone.utc),
            telegram={"token": TOKEN, "base_url": tg.base_url, "base_file_url": tg.base_file_url},
        )
        event = seed_event(app, datetime.now(timezone.utc) + timedelta(days=30))
        add_admin(app, "telegram", "9001", "Admin")
        add_user(app, "9002", "coordinator", channel="telegram")
        add_user(app, "9101", "contact", "CA", channel="telegram")
        add_user(app, "9102", "contact", "SYT", channel="telegram")
        with app.write() as store:
            store.get_event(event.id).launched_at = app.now()
        yield tg, app


async def start(app):
    runtime = Runtime(app, limits=Limits.unlimited(), poll_timeout=1)
    await runtime.start()
    return runtime


def answer_to(sent):
    return lambda r: (
        r.chat_id == sent["chat"]["id"]
        and (r.message or {}).get("reply_to_message", {}).get("message_id") == sent["message_id"]
    )


def task(app, code):
    with app.read() as store:
        return store.find_task(store.current_event(app.now()).id, code)


async def test_a_queued_burst_is_applied_in_order_and_each_update_sees_the_ones_before(bot):
    tg, app = bot
    ca, syt, coord = tg.make_user(9101, "CA"), tg.make_user(9102, "SYT"), tg.make_user(9002, "Điều phối")
    # All of this waits at the platform, so the bot fetches it in one getUpdates: one batch.
    first = await tg.user_sends(ca, "/tiendo NC-11 30 bắt đầu")
    second = await tg.user_sends(ca, "/xong NC-11 đã xong")
    wrong = await tg.user_sends(syt, "/xong NC-11")  # another agency's task: refused, changes nothing
    look = await tg.user_sends(coord, "/nv NC-11")
    rt = await start(app)
    try:
        r1 = await tg.wait_for(answer_to(first), timeout=10)
        r2 = await tg.wait_for(answer_to(second), timeout=10)
        r3 = await tg.wait_for(answer_to(wrong), timeout=10)
        r4 = await tg.wait_for(answer_to(look), timeout=10)
    finally:
        await rt.stop()
    assert "30%" in r1.text and "xong" in r2.text.lower()
    assert "NC-11" in r3.text and "không" in r3.text.lower()
    # The coordinator's look came after the change in the same batch, and saw it.
    assert "Đã xong" in r4.text or "xong" in r4.text.lower()
    t = task(app, "NC-11")
    assert t.status == "done" and t.percent == 100
    with app.read() as store:
        history = [(a.detail.get("from"), a.detail.get("to")) for a in store.history(t.id) if a.action == "status"]
        rows = list(store.s.exec(select(InboundUpdate)))
    assert history == [("todo", "in_progress"), ("in_progress", "done")]
    assert {r.status for r in rows} == {"done"} and len(rows) == 4
    # The undo button of each answer names its own audit entry.
    undo1 = next(d for d in r1.callback_data() if d.startswith("u:"))
    undo2 = next(d for d in r2.callback_data() if d.startswith("u:"))
    assert undo1 != undo2
    assert tg.validation_errors == []


async def test_a_failing_update_does_not_hold_back_the_rest_of_its_batch(bot, monkeypatch):
    tg, app = bot
    real = Router.handle

    def handle(self, msg: IncomingMessage, uow=None):
        if "boom" in (msg.text or ""):
            raise RuntimeError("a bug in one command")
        return real(self, msg, uow)

    monkeypatch.setattr(Router, "handle", handle)
    ca = tg.make_user(9101, "CA")
    before = await tg.user_sends(ca, "/tiendo NC-11 40")
    bad = await tg.user_sends(ca, "/tiendo CB-23 boom")
    after = await tg.user_sends(ca, "/tiendo NL-01 60")
    rt = await start(app)
    try:
        await tg.wait_for(answer_to(before), timeout=10)
        await tg.wait_for(answer_to(after), timeout=10)
    finally:
        await rt.stop()
    assert task(app, "NC-11").percent == 40 and task(app, "NL-01").percent == 60
    assert task(app, "CB-23").status == "todo"
    with app.read() as store:
        rows = {r.payload["message"]["message_id"]: r for r in store.s.exec(select(InboundUpdate))}
    assert rows[bad["message_id"]].status == "failed" and "a bug in one command" in rows[bad["message_id"]].error
    assert rows[before["message_id"]].status == rows[after["message_id"]].status == "done"
    assert not [r for r in tg.sent if answer_to(bad)(r)]


async def test_an_answer_written_down_but_not_sent_is_delivered_after_a_crash(bot, monkeypatch):
    tg, app = bot
    ca = tg.make_user(9101, "CA")

    async def crash_before_answering(self, jobs):  # as if killed right after the commit
        return None

    from bot.pipeline import Pipeline

    with monkeypatch.context() as m:
        m.setattr(Pipeline, "_answer", crash_before_answering)
        sent = await tg.user_sends(ca, "/xong NC-11")
        rt = await start(app)
        try:
            await tg._wait_until(lambda: task(app, "NC-11").status == "done", 10, lambda: "NC-11 done")
        finally:
            await rt.stop()
    assert not [r for r in tg.sent if answer_to(sent)(r)]
    with app.read() as store:
        row = store.s.exec(select(Outbox).where(Outbox.dedupe_key.like("answer:%"))).one()
    assert row.status == "pending" and row.claimed_by == answers.CLAIMER

    # A new process (another claimer) starts: on SQLite it takes the dead one's answers at once.
    monkeypatch.setattr(answers, "CLAIMER", "another-process:answer")
    rt = await start(app)
    try:
        got = await tg.wait_for(answer_to(sent), timeout=10)
        await tg._wait_until(lambda: _status(app, row.id) == "sent", 10, lambda: "row sent")
    finally:
        await rt.stop()
    assert "NC-11" in got.text
    assert len([r for r in tg.sent if answer_to(sent)(r)]) == 1  # once, not again
    assert task(app, "NC-11").status == "done"


async def test_a_quick_free_text_reply_waits_for_its_task_message_to_be_remembered(bot, monkeypatch):
    """Which task a sent message is about is written after sending, in the background. A
    contact who answers the card at once ("xong rồi") must still be read against that task,
    not asked "which task?" (CI once caught the photo evidence test in this gap)."""
    import time as _time

    tg, app = bot
    ca = tg.make_user(9101, "CA")
    real_settle = answers.settle

    def slow_settle(*args, **kwargs):  # a busy database: the memo lands a while after the send
        _time.sleep(0.6)
        return real_settle(*args, **kwargs)

    monkeypatch.setattr(answers, "settle", slow_settle)
    rt = await start(app)
    try:
        card = await tg.user_sends(ca, "/nv NC-11")
        task_msg = await tg.wait_for(answer_to(card), timeout=10)
        reply = await tg.user_sends(ca, "xong rồi", reply_to=task_msg)
        got = await tg.wait_for(answer_to(reply), timeout=10)
    finally:
        await rt.stop()
    assert "NC-11" in got.text and "việc nào" not in got.text
    assert task(app, "NC-11").status == "done"


async def test_in_flight_answers_hold_only_their_own_chats_and_never_forever():
    import asyncio

    flight = answers.InFlight()
    flight.hold(["1", "2"])
    flight.hold(["1"])
    assert await flight.wait_clear({"3"}, timeout=0.01)  # another chat does not wait
    assert not await flight.wait_clear({"1"}, timeout=0.05)  # stuck: gives up, says so
    waiting = asyncio.create_task(flight.wait_clear({"1"}, timeout=5))
    flight.release(["1", "2"])
    for _ in range(3):  # let the waiter run (no time passes): it must still be waiting
        await asyncio.sleep(0)
    assert not waiting.done()  # "1" was held twice
    flight.release(["1"])
    assert await waiting


def _status(app, row_id):
    with app.read() as store:
        return store.s.get(Outbox, row_id).status


def test_people_read_once_per_batch_still_see_changes_made_in_it(db_url, clock):
    """Staff and identities are cached for a batch; a change in it (or a rollback) is seen."""
    app = make_app(db_url, clock)
    seed_event(app)
    with app.write() as store:
        store.current_event(app.now()).launched_at = app.now()
    add_user(app, "coord", "coordinator")
    add_user(app, "ca", "contact", "CA")
    router = Router(app)

    def say(text, uow, who="ca"):
        return router.handle(
            IncomingMessage(channel="fake", user_id=who, chat_id=who, chat_type="private", display_name=who, text=text),
            uow,
        )

    def news_for(name):
        with app.read() as store:
            user = store.s.exec(select(User).where(User.name == name)).one()
            rows = store.s.exec(select(Outbox).where(Outbox.user_id == user.id)).all()
            return [item for r in rows for item in r.text.split(GROUP_SEP)]  # news items, grouped or not

    with app.batch() as batch:
        uow = UnitOfWork(app, batch.s)  # what the pipeline hands each update of the batch
        say("/tiendo NC-11 10", uow)  # reads and caches the coordinators
        with uow.write() as store:  # a second coordinator joins inside the same batch
            u = store.add(User(name="coord2", role="coordinator", created_at=app.now()))
            from storage.models import Identity

            store.add(
                Identity(user_id=u.id, channel="fake", external_id="coord2", chat_id="coord2", created_at=app.now())
            )
        with pytest.raises(RuntimeError):
            with uow.write() as store:  # ... and a third one is rolled back
                store.add(User(name="ghost", role="coordinator", created_at=app.now()))
                store.users_with_role("coordinator")  # cached with the ghost in it
                raise RuntimeError("rolled back")
        say("/tiendo NC-11 20", uow)
    assert len(news_for("coord")) == 2
    assert len(news_for("coord2")) == 1  # joined mid-batch: got the news after joining
    with app.read() as store:
        assert not store.s.exec(select(User).where(User.name == "ghost")).all()


async def test_answers_wait_out_a_retry_after_and_still_arrive(bot):
    """A 429 on an answer: it is not lost (the outbox sends it after the wait), nothing goes to
    that chat inside the window, and the next answer still arrives, once."""
    tg, app = bot
    ca = tg.make_user(9101, "CA")
    rt = Runtime(app, limits=Limits.unlimited(), poll_timeout=1)  # pacing off: only retry_after holds
    await rt.start()
    try:
        tg.fail_next(1, status=429, retry_after=2, methods=["sendMessage"])
        first = await tg.user_sends(ca, "/tiendo NC-11 10")
        await tg._wait_until(lambda: tg.stats["429"] >= 1, 10, lambda: "the 429")
        second = await tg.user_sends(ca, "/tiendo NC-11 20")  # inside the 2 s window
        r1 = await tg.wait_for(answer_to(first), timeout=15)
        r2 = await tg.wait_for(answer_to(second), timeout=15)
    finally:
        await rt.stop()
    assert "10%" in r1.text and "20%" in r2.text
    assert tg.stats["sent_inside_retry_after"] == 0
    assert len([r for r in tg.sent if answer_to(first)(r) or answer_to(second)(r)]) == 2
    assert task(app, "NC-11").percent == 20


async def test_answers_count_against_the_overall_rate(bot):
    """Over ~30 messages a second Telegram holds back the whole bot; answers are messages too,
    so a burst of them is spaced at the configured overall rate (here 10/s), not sent at once."""
    tg, app = bot
    users = [tg.make_user(9101, "CA"), tg.make_user(9102, "SYT")]
    asked = [await tg.user_sends(users[i % 2], "/viec") for i in range(12)]  # one batch of 12
    rt = Runtime(app, limits=Limits(per_second=10, private_interval=0.0, group_per_minute=1000), poll_timeout=1)
    await rt.start()
    try:
        got = [await tg.wait_for(answer_to(a), timeout=15) for a in asked]
    finally:
        await rt.stop()
    times = sorted(r.time for r in got)
    # 12 answers: the first four may go at once (an idle pacer banks a few slots), then 1/10 s
    # apart: at least 8 gaps of 0.1 s (10 % slack); unpaced they all go within ~0.1 s.
    assert times[-1] - times[0] >= 8 * 0.1 * 0.9


def test_sent_messages_come_back_without_the_quoted_message_but_updates_keep_it():
    """bot.channels.tg_request trims what dutybot never reads from a send's answer only."""
    import json

    from bot.channels.tg_request import AiohttpRequest

    quoted = {"message_id": 3, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "xong"}
    sent = {"message_id": 4, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "ok", "reply_to_message": quoted}
    req = AiohttpRequest()
    answer = req.parse_json_payload(json.dumps({"ok": True, "result": sent}).encode())
    assert answer["result"]["message_id"] == 4 and "reply_to_message" not in answer["result"]
    updates = req.parse_json_payload(
        json.dumps(
            {"ok": True, "result": [{"update_id": 1, "message": {**quoted, "reply_to_message": quoted}}]}
        ).encode()
    )
    assert updates["result"][0]["message"]["reply_to_message"] == quoted
