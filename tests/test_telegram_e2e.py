"""The whole journey over real HTTP: python-telegram-bot talks to the Telegram test double.

Admin invites a coordinator; the coordinator creates and launches the bundled event; three
agency contacts join by deep link, get their assignments, acknowledge by button, report by
command, by button and by free text, one sends a photo; the coordinator follows with
/tinhhinh, /quahan, /nv and receives the /baocao file; a stranger and a contact of another
agency are refused. The double records zero validation errors and no unanswered callback.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.app import add_admin
from bot.ratelimit import Limits
from bot.runtime import Runtime
from tests.conftest import make_app
from tests.doubles.telegram_api import TelegramDouble

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = re.compile(r"/start ([A-Za-z0-9_-]{32})")


@pytest.fixture
async def world(db_url):
    async with TelegramDouble(token="123:TEST", limits=None) as tg:
        app = make_app(
            db_url,
            lambda: datetime.now(timezone.utc),  # wall clock: no quiet hours to hold a launch
            telegram={"token": "123:TEST", "base_url": tg.base_url, "base_file_url": tg.base_file_url},
            reminders={"quiet_hours": ""},
        )
        runtime = Runtime(app, limits=Limits.unlimited(), poll_timeout=1)
        await runtime.start()
        try:
            yield tg, app
        finally:
            await runtime.stop()
            app.db.dispose()


def _answers(message: dict):
    """Matches the bot's message that replies to `message`."""
    return lambda r: (
        (r.message or {}).get("reply_to_message", {}).get("message_id") == message["message_id"]
        and r.chat_id == message["chat"]["id"]
    )


async def said(tg, user, text, **kw):
    """The user writes; returns the bot's answer (sent as a reply to what the user wrote)."""
    sent = await tg.user_sends(user, text, **kw)
    return await tg.wait_for(_answers(sent), timeout=10)


async def test_the_whole_journey(world):
    tg, app = world
    admin = tg.make_user(9001, "Quản trị")
    coord = tg.make_user(9002, "Điều phối viên")
    ca, syt, stc = tg.make_user(9101, "Công an"), tg.make_user(9102, "Y tế"), tg.make_user(9103, "Tài chính")
    stranger = tg.make_user(9999, "Người lạ", language_code="en")
    add_admin(app, "telegram", "9001", "Quản trị")

    # Joining: the admin invites a coordinator, who joins by the deep link's /start payload.
    invite = await said(tg, admin, "/moi coordinator")
    assert "t.me/dutybot_test_bot?start=" in invite.text
    assert "Chào mừng" in (await said(tg, coord, f"/start {CODE.search(invite.text).group(1)}")).text

    # The coordinator creates an event starting in 20 days (so its early duties are overdue).
    start = (datetime.now(TZ) + timedelta(days=20)).strftime("%d/%m/%Y 07:00")
    made = await said(tg, coord, f"/taosukien ceremony {start} Lễ kỷ niệm thử")
    event_id = re.search(r"#(\d+)", made.text).group(1)
    for user, agency in ((ca, "CA"), (syt, "SYT"), (stc, "STC")):
        code = CODE.search((await said(tg, coord, f"/moi {agency}")).text).group(1)
        assert agency in (await said(tg, user, f"/start {code}")).text

    # Launch: each contact gets a summary and one message per task, with buttons.
    assert "triển khai" in (await said(tg, coord, f"/trienkhai {event_id}")).text
    ca_msgs = await tg.wait_for_messages(9101, 4, timeout=15)
    cb23 = next(m for m in ca_msgs if "CB-23" in (m.text or "") and m.callback_data())
    assert [b for b in cb23.button_texts()] == ["Đã nhận", "Đang làm", "Xong", "Vướng"]

    # By button: acknowledge; the message is edited in place, the callback answered.
    query = await tg.user_presses(ca, cb23, next(d for d in cb23.callback_data() if d.endswith(":ack")))
    await tg.wait_for_answer(query, timeout=10)
    edited = await tg.wait_for(lambda r: r.method == "editMessageText", timeout=10)
    assert edited.message_id == cb23.message_id and "đã nhận việc CB-23" in edited.text
    assert "Chờ việc trước" in edited.text  # CB-23 still waits on CB-15: the card says so

    # By command.
    assert "hoàn thành" in (await said(tg, ca, "/xong CB-23 phương án đã duyệt")).text

    # By free text, replying to the task's message.
    syt_msgs = await tg.wait_for_messages(9102, 3, timeout=15)
    cb24 = next(m for m in syt_msgs if "CB-24" in (m.text or "") and m.callback_data())
    assert "hoàn thành" in (await said(tg, syt, "xong rồi", reply_to=cb24)).text
    stc_msgs = await tg.wait_for_messages(9103, 2, timeout=15)
    cb05 = next(m for m in stc_msgs if "CB-05" in (m.text or "") and m.callback_data())
    assert "vướng" in (await said(tg, stc, "vuong kinh phi, cho UBND bo tri", reply_to=cb05)).text.lower()

    # Evidence: a photo in reply to the task message.
    assert "minh chứng" in (await said_photo(tg, stc, cb05)).text

    # The coordinator follows.
    status = (await said(tg, coord, "/tinhhinh")).text
    assert "CA: 1/" in status and "SYT: 1/" in status and "vướng 1" in status
    assert "CB-05" in (await said(tg, coord, "/quahan")).text
    detail = (await said(tg, coord, "/nv CB-05")).text
    assert "Lịch sử" in detail and "kinh phi" in detail and "minh chứng" in detail
    since = len(tg.sent)
    await tg.user_sends(coord, "/baocao")
    doc = await tg.wait_for(lambda r: r.method == "sendDocument" and r.chat_id == 9002, timeout=15, since=since)
    assert doc.message["document"]["file_name"].endswith(".xlsx")

    # Refusals: a stranger learns nothing; another agency cannot touch STC's task.
    assert "invite" in (await said(tg, stranger, "/tinhhinh")).text.lower()
    assert "Không tìm thấy" in (await said(tg, ca, "/xong CB-05")).text

    assert tg.validation_errors == []
    assert tg.unanswered_callbacks() == []


async def said_photo(tg, user, reply_to):
    sent = await tg.user_sends_photo(user, reply_to=reply_to, size=50_000)
    return await tg.wait_for(_answers(sent), timeout=10)
