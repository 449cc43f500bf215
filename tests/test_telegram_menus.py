"""No calls Telegram refuses: a staff chat's own menu (setMyCommands) is set only for chats that
have written to the bot (issue 12 item 12). An admin added by CLI who never wrote used to earn a
"chat not found" at every start."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.app import add_admin
from bot.ratelimit import Limits
from bot.runtime import Runtime
from storage.models import Outbox
from tests.conftest import make_app
from tests.doubles.telegram_api import TelegramDouble
from tests.helpers import add_user, seed_event

TOKEN = "123456:TESTtokenTESTtokenTESTtokenTESTtok"


def _staff_menu(tg, chat_id: int) -> list[str]:
    return [c["command"] for c in tg._commands.get((("chat", chat_id, None), ""), [])]


async def test_staff_menu_only_for_chats_that_wrote_and_then_at_the_first_message(sqlite_url):
    async with TelegramDouble(token=TOKEN, limits=None) as tg:
        app = make_app(
            sqlite_url,
            lambda: datetime.now(timezone.utc),
            telegram={"token": TOKEN, "base_url": tg.base_url, "base_file_url": tg.base_file_url},
        )
        seed_event(app, datetime.now(timezone.utc) + timedelta(days=30))
        add_admin(app, "telegram", "9001", "Admin")  # by CLI: has never written to the bot
        add_user(app, "9002", "coordinator", channel="telegram")
        tg.make_user(9002, "Điều phối")
        await tg.user_sends(9002, "hello")  # wrote before this run; the bot answered then
        with app.write() as store:
            store.enqueue(
                Outbox(
                    channel="telegram",
                    chat_id="9002",
                    kind="reply",
                    text="…",
                    status="sent",
                    created_at=app.now(),
                    next_attempt_at=app.now(),
                    sent_at=app.now(),
                )
            )
        admin = tg.make_user(9001, "Admin")
        rt = Runtime(app, limits=Limits.unlimited(), poll_timeout=1)
        await rt.start()
        try:
            await tg._wait_until(lambda: "tinhhinh" in _staff_menu(tg, 9002), 10, lambda: "9002's menu at start")
            assert _staff_menu(tg, 9001) == []
            assert tg.stats["by_status"][400] == 0  # no "chat not found"

            await tg.user_sends(admin, "/sukien")  # the admin writes for the first time
            await tg._wait_until(lambda: "tinhhinh" in _staff_menu(tg, 9001), 10, lambda: "9001's menu")
        finally:
            await rt.stop()
            app.db.dispose()
    assert tg.stats["by_status"][400] == 0
