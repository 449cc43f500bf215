"""A report file always arrives: an answer with a file that meets a flood limit is queued
through the outbox with its file, not as its caption alone (issue 12 item 10)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from bot.app import add_admin
from bot.channels.base import ChannelError, Reply
from bot.delivery import Delivery, queue_reply
from bot.ratelimit import Limits
from bot.runtime import Runtime
from tests.conftest import make_app
from tests.doubles.telegram_api import TelegramDouble
from tests.helpers import seed_event

TOKEN = "123456:TESTtokenTESTtokenTESTtokenTESTtok"


class FloodFirst:
    """A channel that refuses the first send with a flood limit, then records what arrives."""

    name = "fake"

    def __init__(self) -> None:
        self.refused, self.sent = 0, []

    async def send(self, chat_id: str, reply: Reply) -> str:
        if not self.refused:
            self.refused += 1
            raise ChannelError("flood limit", retry_after=3)
        self.sent.append((chat_id, reply))
        return str(len(self.sent))


def test_a_queued_workbook_and_chart_keep_their_files_through_a_retry_and_a_restart(db_url, clock):
    app = make_app(db_url, clock)
    workbook = b"PK\x03\x04" + bytes(range(256)) * 40  # binary, not text
    chart = b"\x89PNG\r\n\x1a\n" + bytes(200)
    queue_reply(app, "fake", "coord", Reply("Báo cáo sự kiện", document=("dutybot-event-1.xlsx", workbook)), 2)
    queue_reply(app, "fake", "boss", Reply("Biểu đồ tiến độ", photo=chart), 2)
    app.db.dispose()

    restarted = make_app(db_url, clock)  # the process that queued them is gone
    channel = FloodFirst()
    delivery = Delivery(restarted, {"fake": channel})
    clock.advance(seconds=3)
    asyncio.run(delivery.drain_once())  # one refused by the flood limit, one sent
    clock.advance(seconds=4)
    asyncio.run(delivery.drain_once())
    restarted.db.dispose()
    got = {chat: r for chat, r in channel.sent}
    assert set(got) == {"coord", "boss"}
    assert got["coord"].document == ("dutybot-event-1.xlsx", workbook) and got["coord"].text == "Báo cáo sự kiện"
    assert got["boss"].photo == chart and got["boss"].document is None


@pytest.mark.telegram_double
async def test_coordinator_asks_for_the_report_during_a_flood_limit_and_gets_the_file(sqlite_url):
    async with TelegramDouble(token=TOKEN, limits=None) as tg:
        app = make_app(
            sqlite_url,
            lambda: datetime.now(timezone.utc),
            telegram={"token": TOKEN, "base_url": tg.base_url, "base_file_url": tg.base_file_url},
        )
        seed_event(app, datetime.now(timezone.utc) + timedelta(days=30))
        add_admin(app, "telegram", "9001", "Admin")
        admin = tg.make_user(9001, "Admin")
        rt = Runtime(app, limits=Limits.unlimited(), poll_timeout=1)
        await rt.start()
        try:
            tg.fail_next(1, status=429, retry_after=1, methods=["sendDocument"])
            await tg.user_sends(admin, "/baocao")
            sent = await tg.wait_for(lambda r: r.method == "sendDocument" and r.chat_id == 9001, timeout=20)
        finally:
            await rt.stop()
            app.db.dispose()
    assert tg.stats["429"] == 1
    entry = tg._files.get(sent.message["document"]["file_id"])
    assert sent.message["document"]["file_name"] == "dutybot-event-1.xlsx"
    assert entry.data[:2] == b"PK"  # the workbook itself, not a line of text
    assert sent.text.startswith("Báo cáo")  # the caption rides on the file
    assert not [r for r in tg.sent if r.chat_id == 9001 and r.method == "sendMessage"]  # not the caption alone
