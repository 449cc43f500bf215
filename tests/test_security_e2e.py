"""Issue 13 items 2, 3, 4, 9, 10 over real HTTP: python-telegram-bot talks to the Telegram double
(and, for /link, the Zalo double too).

A coordinator removes a contact: the contact's /viec and an old button are refused (the
button's toast says so); a new invite brings them back. A chat path names no server file. A
group hears no names and gets no evidence file. An agency over its evidence quota is refused
with an answer. A link code made on Telegram is refused by a second Telegram account, works on
Zalo, and the owner hears of it on Telegram.
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
from tests.test_telegram_e2e import _answers, said

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = re.compile(r"/start ([A-Za-z0-9_-]{32})")


@pytest.fixture
async def world(db_url):
    async with TelegramDouble(token="123:TEST", limits=None) as tg:
        app = make_app(
            db_url,
            lambda: datetime.now(timezone.utc),
            telegram={"token": "123:TEST", "base_url": tg.base_url, "base_file_url": tg.base_file_url},
            limits={"evidence_per_agency_bytes": 80_000},
            reminders={"quiet_hours": ""},
        )  # wall clock: no quiet hours to hold a launch
        runtime = Runtime(app, limits=Limits.unlimited(), poll_timeout=1)
        await runtime.start()
        try:
            yield tg, app
        finally:
            await runtime.stop()
            app.db.dispose()


async def test_remove_rejoin_groups_templates_and_quota_over_telegram(world):
    tg, app = world
    coord = tg.make_user(9002, "Điều phối viên")
    ca, stranger_tg = tg.make_user(9101, "Trần Công An"), tg.make_user(9200, "Tài khoản lạ")
    add_admin(app, "telegram", "9002", "Điều phối viên")
    group = tg.make_group(-1001234567890, "Ban Tổ chức")

    # Item 4: a path is an unknown template, the file is not read.
    assert "Không có mẫu kế hoạch “/etc/shadow”" in (await said(tg, coord, "/taosukien /etc/shadow 20/6/2026 X")).text
    start = (datetime.now(TZ) + timedelta(days=20)).strftime("%d/%m/%Y 07:00")
    event_id = re.search(r"#(\d+)", (await said(tg, coord, f"/taosukien ceremony {start} Lễ thử")).text).group(1)
    code = CODE.search((await said(tg, coord, "/moi CA")).text).group(1)
    assert "CA" in (await said(tg, ca, f"/start {code}")).text
    await said(tg, coord, f"/trienkhai {event_id}")
    msgs = await tg.wait_for_messages(9101, 4, timeout=15)
    cb23 = next(m for m in msgs if "CB-23" in (m.text or "") and m.callback_data())

    # Item 10: the first photo fits CA's 80 kB quota, the second is refused with an answer.
    first = await tg.user_sends_photo(ca, reply_to=cb23, size=50_000)
    assert "minh chứng" in (await tg.wait_for(_answers(first), timeout=10)).text
    second = await tg.user_sends_photo(ca, reply_to=cb23, size=50_000)
    assert "Chưa lưu được tệp" in (await tg.wait_for(_answers(second), timeout=10)).text
    await tg.wait_for(lambda r: r.chat_id == 9002 and "hạn mức minh chứng" in (r.text or ""), timeout=10)

    # Item 9: in the group, /nv shows the history without names and sends no file.
    since = len(tg.sent)
    in_group = await said(tg, coord, "/nv CB-23", chat=group)
    assert "Lịch sử" in in_group.text and "Trần Công An" not in in_group.text and "telegram" not in in_group.text
    private = await said(tg, coord, "/nv CB-23")
    assert "Trần Công An" in private.text
    await tg.wait_for(lambda r: r.method == "sendPhoto" and r.chat_id == 9002, timeout=10, since=since)
    assert not [r for r in tg.sent[since:] if r.chat_id == group["id"] and r.method in ("sendPhoto", "sendDocument")]

    # Item 2: removed, the contact is refused by command and by an old button; a new invite brings them back.
    ca_id = re.search(r"#(\d+) · Trần Công An", (await said(tg, coord, "/xoa CA")).text).group(1)
    ask = await said(tg, coord, f"/xoa #{ca_id}")  # asked first; the "Gỡ" button removes
    assert "Gỡ Trần Công An" in ask.text and f"co:rm:{ca_id}" in ask.callback_data()
    pressed = await tg.wait_for_answer(await tg.user_presses(coord, ask, f"co:rm:{ca_id}"), timeout=10)
    assert "Đã gỡ Trần Công An" in (pressed["answer"] or {}).get("text", "")
    # (Like a stranger, a removed person is answered once an hour: a flood from them costs nothing.)
    query = await tg.user_presses(ca, cb23, next(d for d in cb23.callback_data() if d.endswith(":ack")))
    answer = await tg.wait_for_answer(query, timeout=10)
    assert "đã được gỡ" in (answer["answer"] or {}).get("text", "")
    with app.read() as store:
        assert store.find_task(int(event_id), "CB-23").status == "todo"
    code = CODE.search((await said(tg, coord, "/moi CA")).text).group(1)
    assert "CA" in (await said(tg, ca, f"/start {code}")).text
    assert "CB-23" in (await said(tg, ca, "/viec")).text

    # Item 3: a link code is useless to a second Telegram account.
    code = CODE.search((await said(tg, ca, "/lienket")).text).group(1)
    assert "ứng dụng khác" in (await said(tg, stranger_tg, f"/start {code}")).text

    assert tg.validation_errors == []
    assert tg.unanswered_callbacks() == []


@pytest.mark.telegram_double
async def test_a_telegram_link_code_works_on_zalo_and_the_owner_is_told_on_telegram(db_url):
    from tests.doubles.zalo_api import ZaloDouble
    from tests.test_zalo import ZaloStack, zalo_app
    from tests.test_zalo import said as zalo_said

    async with ZaloDouble() as zd, TelegramDouble(token="123:TEST", limits=None) as tg:
        app = zalo_app(
            db_url, zd, telegram={"token": "123:TEST", "base_url": tg.base_url, "base_file_url": tg.base_file_url}
        )
        stack = await ZaloStack(app, zd, "webhook", telegram=True).start()
        try:
            boss = tg.make_user(9001, "Quản trị")
            add_admin(app, "telegram", "9001", "Quản trị")
            code = CODE.search((await said(tg, boss, "/lienket")).text).group(1)
            boss_zalo = zd.make_user("z-boss", "Quản trị Zalo")
            assert "Đã liên kết" in await zalo_said(zd, boss_zalo, f"/start {code}", "liên kết")
            told = await tg.wait_for(lambda r: r.chat_id == 9001 and "vừa được liên kết" in (r.text or ""), timeout=10)
            assert "zalo" in told.text and "/huylienket zalo" in told.text
            # Unlinked from Telegram, the Zalo account is a stranger again.
            assert "Đã hủy liên kết" in (await said(tg, boss, "/huylienket zalo")).text
            assert "mã mời" in await zalo_said(zd, boss_zalo, "/tinhhinh")
        finally:
            await stack.stop()
            app.db.dispose()
        assert zd.validation_errors == [] and tg.validation_errors == []
