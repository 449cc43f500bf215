"""Telegram specifics over real HTTP: undo, groups, shared identities, webhook, menus, logs."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from sqlmodel import select

from bot.app import add_admin
from bot.logs import RedactTokens
from bot.ratelimit import Limits
from bot.runtime import Runtime
from storage.models import Evidence, InboundUpdate
from tests.conftest import make_app
from tests.doubles.telegram_api import TelegramDouble
from tests.helpers import add_user, seed_event

TOKEN = "123456:TESTtokenTESTtokenTESTtokenTESTtok"


@pytest.fixture
async def bot(sqlite_url, unused_tcp_port):
    async with TelegramDouble(token=TOKEN, limits=None) as tg:
        app = make_app(
            sqlite_url,
            lambda: datetime.now(timezone.utc),
            telegram={
                "token": TOKEN,
                "base_url": tg.base_url,
                "base_file_url": tg.base_file_url,
                "webhook_secret": "s3cret-s3cret",
            },
            server={"port": unused_tcp_port},
        )
        event = seed_event(app, datetime.now(timezone.utc) + timedelta(days=30))
        add_admin(app, "telegram", "9001", "Admin")
        add_user(app, "9002", "coordinator", channel="telegram")
        add_user(app, "9101", "contact", "CA", channel="telegram")
        add_user(app, "9102", "contact", "SYT", channel="telegram")
        with app.write() as store:
            store.get_event(event.id).launched_at = app.now()
        yield tg, app


def _settled(app, chat_id: str) -> bool:
    """Every stored update handled and nothing left to send to the chat: no second answer can come."""
    from storage.models import Outbox

    with app.read() as store:
        updates = store.s.exec(select(InboundUpdate)).all()
        waiting = store.s.exec(select(Outbox).where(Outbox.chat_id == chat_id, Outbox.status == "pending")).all()
    return bool(updates) and all(u.status == "done" for u in updates) and not waiting


async def start(app, **kw):
    runtime = Runtime(app, limits=Limits.unlimited(), poll_timeout=1, **kw)
    await runtime.start()
    return runtime


def answers(sent):
    """The bot's reply to `sent` (message ids are per chat, so the chat must match too)."""
    return lambda r: (
        r.chat_id == sent["chat"]["id"]
        and (r.message or {}).get("reply_to_message", {}).get("message_id") == sent["message_id"]
    )


async def test_undo_a_change_within_the_window(bot):
    tg, app = bot
    rt = await start(app)
    try:
        ca = tg.make_user(9101, "CA")
        sent = await tg.user_sends(ca, "/xong NC-11")
        reply = await tg.wait_for(answers(sent), timeout=10)
        undo = next(d for d in reply.callback_data() if d.startswith("u:"))
        q = await tg.user_presses(ca, reply, undo)
        await tg.wait_for_answer(q, timeout=10)
        edited = await tg.wait_for(lambda r: r.method == "editMessageText" and "hoàn tác" in (r.text or ""), timeout=10)
        assert edited.message_id == reply.message_id
        with app.read() as store:
            t = store.find_task(store.current_event(app.now()).id, "NC-11")
            assert t.status == "todo" and t.completed_at is None
            assert [a.action for a in store.history(t.id)] == ["status", "undo"]
        q = await tg.user_presses(ca, edited, next(d for d in edited.callback_data() if d.endswith(":done")))
        await tg.wait_for_answer(q, timeout=10)
        assert tg.unanswered_callbacks() == [] and tg.validation_errors == []
    finally:
        await rt.stop()


async def test_groups_keep_contacts_private_and_shared_ids_get_nothing(bot):
    tg, app = bot
    rt = await start(app)
    try:
        group = tg.make_group(-100500, "Ban Tổ chức")
        coord, ca = tg.make_user(9002, "Điều phối"), tg.make_user(9101, "CA")
        status = await tg.user_sends(coord, "/tinhhinh", chat=group)
        assert "xong" in (await tg.wait_for(answers(status), timeout=10)).text
        agency = await tg.user_sends(coord, "/donvi CA", chat=group)
        assert "Đầu mối" not in (await tg.wait_for(answers(agency), timeout=10)).text
        for text, who in (("/viec", ca), ("/moi CA", coord)):
            sent = await tg.user_sends(who, text, chat=group)
            assert "tin nhắn riêng" in (await tg.wait_for(answers(sent), timeout=10)).text
        # An anonymous admin is GroupAnonymousBot: it proves nothing about who wrote.
        anon = await tg.anonymous_admin_sends(group, "/tinhhinh")
        assert "chưa có quyền" in (await tg.wait_for(answers(anon), timeout=10)).text
        # Forwarding a coordinator's command grants nothing: who acts is who sent it.
        fwd = await tg.user_forwards(tg.make_user(7777, "Lạ"), "/tinhhinh", origin=coord)
        assert "chưa có quyền" in (await tg.wait_for(answers(fwd), timeout=10)).text
        assert tg.validation_errors == []
    finally:
        await rt.stop()


async def test_photo_evidence_round_trip_to_the_coordinator(bot):
    tg, app = bot
    rt = await start(app)
    try:
        ca, coord = tg.make_user(9101, "CA"), tg.make_user(9002, "Điều phối")
        card = await tg.user_sends(ca, "/nv NC-11")
        task_msg = await tg.wait_for(answers(card), timeout=10)
        photo = await tg.user_sends_photo(ca, reply_to=task_msg, size=40_000)
        assert "minh chứng" in (await tg.wait_for(answers(photo), timeout=10)).text
        with app.read() as store:
            ev = store.s.exec(select(Evidence)).one()
        assert ev.size == 40_000 and ev.kind == "photo"
        since = len(tg.sent)
        await tg.user_sends(coord, "/nv NC-11")
        back = await tg.wait_for(lambda r: r.method == "sendPhoto" and r.chat_id == 9002, timeout=10, since=since)
        assert "NC-11" in back.text
    finally:
        await rt.stop()


async def test_webhook_checks_the_secret_and_applies_a_replay_once(bot, unused_tcp_port):
    tg, app = bot
    app.settings.telegram.mode = "webhook"
    rt = await start(app)
    try:
        await tg.user_sends(tg.make_user(9101, "CA"), "xin chào")  # the chat exists for the bot
        url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
        update = {
            "update_id": 777,
            "message": {
                "message_id": 5,
                "date": int(datetime.now().timestamp()),
                "text": "/xong NC-11",
                "chat": {"id": 9101, "type": "private", "first_name": "CA"},
                "from": {"id": 9101, "is_bot": False, "first_name": "CA"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, json=update, headers=headers) as resp:
                    assert resp.status == 403
            with app.read() as store:
                assert store.s.exec(select(InboundUpdate)).all() == []
            good = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-s3cret"}
            for _ in range(2):  # Telegram retries; a replay must change nothing
                async with http.post(url, json=update, headers=good) as resp:
                    assert resp.status == 200
        await tg.wait_for(lambda r: r.chat_id == 9101 and "hoàn thành" in (r.text or ""), timeout=10)
        await tg._wait_until(lambda: _settled(app, "9101"), 10, lambda: "the update finished")
        with app.read() as store:
            t = store.find_task(store.current_event(app.now()).id, "NC-11")
            assert [a.action for a in store.history(t.id)] == ["status"]
            assert len(store.s.exec(select(InboundUpdate)).all()) == 1
    finally:
        await rt.stop()


async def test_menus_per_language_and_role(bot):
    tg, app = bot
    tg.make_user(9002, "Điều phối")
    await tg.user_sends(9002, "hello")  # the coordinator's chat exists for the bot
    rt = await start(app)
    try:
        await tg._wait_until(
            lambda: any("tinhhinh" in [c["command"] for c in v] for v in tg._commands.values()),
            10,
            lambda: "the coordinator's menu",
        )
        commands = tg._commands
        flat = {k: [c["command"] for c in v] for k, v in commands.items()}
        assert any("viec" in v and "tinhhinh" not in v for v in flat.values())  # contacts, vi
        assert any("tasks" in v for v in flat.values())  # English menu
        assert any("tinhhinh" in v for v in flat.values())  # the coordinator's chat menu
    finally:
        await rt.stop()


def test_token_never_reaches_a_log_line(caplog):
    flt = RedactTokens([TOKEN])
    logger = logging.getLogger("test.redact")
    handler = logging.StreamHandler()
    handler.addFilter(flt)
    record = logger.makeRecord(
        "x", logging.ERROR, __file__, 1, "POST https://api.telegram.org/bot%s/sendMessage failed", (TOKEN,), None
    )
    flt.filter(record)
    assert TOKEN not in record.getMessage() and "<redacted>" in record.getMessage()
    try:
        raise RuntimeError(f"ConnectError for https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        import sys

        record = logger.makeRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    flt.filter(record)
    assert TOKEN not in record.exc_text and re.search(r"/bot<redacted>/getMe", record.exc_text)


async def test_observer_gets_report_and_chart_a_contact_does_not(bot):
    tg, app = bot
    add_user(app, "9003", "observer", channel="telegram")
    rt = await start(app)
    try:
        boss, ca = tg.make_user(9003, "Lãnh đạo"), tg.make_user(9101, "CA")
        since = len(tg.sent)
        await tg.user_sends(boss, "/baocao")
        await tg.user_sends(boss, "/bieudo")
        doc = await tg.wait_for(lambda r: r.method == "sendDocument" and r.chat_id == 9003, timeout=15, since=since)
        photo = await tg.wait_for(lambda r: r.method == "sendPhoto" and r.chat_id == 9003, timeout=15, since=since)
        assert doc.message["document"]["file_name"].endswith(".xlsx") and photo.message["photo"]
        for text in ("/baocao", "/bieudo"):
            sent = await tg.user_sends(ca, text)
            assert "chỉ dành cho cán bộ" in (await tg.wait_for(answers(sent), timeout=10)).text
        assert tg.validation_errors == []
    finally:
        await rt.stop()


async def test_a_refused_command_is_answered_once_and_its_update_finished(bot):
    tg, app = bot
    rt = await start(app)
    try:
        ca = tg.make_user(9101, "CA")
        sent = await tg.user_sends(ca, "/xong CB-05")  # STC's task: refused inside the transaction
        assert "Không tìm thấy" in (await tg.wait_for(answers(sent), timeout=10)).text
        await tg._wait_until(lambda: _settled(app, "9101"), 10, lambda: "the update finished")
        replies = [r for r in tg.sent if r.chat_id == 9101 and (r.message or {}).get("reply_to_message")]
        assert len(replies) == 1
        with app.read() as store:
            assert {r.status for r in store.s.exec(select(InboundUpdate))} == {"done"}
    finally:
        await rt.stop()


def test_json_logs_are_one_object_per_line_and_redacted():
    import json as _json

    from bot.logs import JsonFormatter

    flt = RedactTokens([TOKEN])
    record = logging.getLogger("x").makeRecord(
        "dutybot", logging.WARNING, __file__, 1, "send to /bot%s/x failed", (TOKEN,), None
    )
    flt.filter(record)
    entry = _json.loads(JsonFormatter().format(record))
    assert entry["level"] == "WARNING" and TOKEN not in entry["message"] and entry["worker"]
