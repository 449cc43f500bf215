"""Answers are paced per chat like every other send (issue 14).

A contact who sends two status updates a second gets every answer, with no 429 from Telegram
and a short delay: over real HTTP against the Telegram double with Telegram's flood limits on
(about one message a second to one private chat), the real python-telegram-bot client, the
production pacer and the production sender gate. Answers that must wait their turn go through
the outbox and are merged into one message per turn (bot.delivery); each still replies to the
first message it answers. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime, timedelta, timezone

import pytest

from bot.app import add_admin
from bot.runtime import Runtime
from tests.conftest import make_app
from tests.doubles._tg_limits import FloodLimits
from tests.doubles.telegram_api import TelegramDouble
from tests.helpers import add_user, seed_event

TOKEN = "123456:TESTtokenTESTtokenTESTtokenTESTtok"
ANSWER = "Đã ghi nhận tiến độ việc NC-11"
pytestmark = pytest.mark.telegram_double


@pytest.fixture
async def paced_world(db_url, unused_tcp_port):
    async with TelegramDouble(token=TOKEN, limits=FloodLimits()) as tg:
        app = make_app(
            db_url,
            lambda: datetime.now(timezone.utc),
            telegram={"token": TOKEN, "base_url": tg.base_url, "base_file_url": tg.base_file_url},
            server={"port": unused_tcp_port},
        )
        event = seed_event(app, datetime.now(timezone.utc) + timedelta(days=30))
        add_admin(app, "telegram", "9001", "Admin")
        add_user(app, "9101", "contact", "CA", channel="telegram")
        with app.write() as store:
            store.get_event(event.id).launched_at = app.now()
        runtime = Runtime(app, poll_timeout=1)  # production limits: no `limits=` override
        await runtime.start()
        try:
            yield tg, app
        finally:
            await runtime.stop()
            app.db.dispose()


async def test_a_contact_sending_two_messages_a_second_gets_every_answer_without_429(paced_world):
    tg, _app = paced_world
    ca = tg.make_user(9101, "CA")
    n, asked = 40, []  # 20 s at 2 messages a second: over the sender gate's 20 a minute too
    start = time.time()
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i * 0.5 - time.time()))
        asked.append(time.time())
        await tg.user_sends(ca, f"/tiendo NC-11 {i % 99 + 1}")

    def answered() -> int:
        return sum((r.text or "").count(ANSWER) for r in tg.messages_to(9101))

    deadline = time.time() + 60
    while answered() < n and time.time() < deadline:
        await asyncio.sleep(0.1)
    records = sorted(tg.messages_to(9101), key=lambda r: r.time)
    assert answered() == n, [r.text for r in records]
    assert tg.stats["429"] == 0
    # The k-th answer (in order) answers the k-th message: its delay is its message's time.
    delays, k = [], 0
    for r in records:
        for _ in range((r.text or "").count(ANSWER)):
            delays.append(r.time - asked[k])
            k += 1
    assert statistics.median(delays) < 3.0, delays  # not tens of seconds behind 429s
    assert len(records) < n  # waiting answers went out together
    tg.assert_no_violations()
