"""The Telegram Bot API double, driven through the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import math
import time

import aiohttp
import httpx
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from tests.doubles.telegram_api import (
    ANONYMOUS_ADMIN_ID,
    SECRET_HEADER,
    TELEGRAM_SERVICE_ID,
    FloodLimits,
    TelegramDouble,
    TelegramDoubleThread,
)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TOKEN = "123:TEST"
ALICE = 1001


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.fixture
async def tg():
    async with TelegramDouble(token=TOKEN) as double:
        double.make_user(ALICE, "Lan", username="lan_nguyen")
        yield double


@pytest.fixture
async def bot(tg):
    async with tg.bot() as client:  # Bot(TOKEN, base_url=..., base_file_url=...) sharing a TLS context
        yield client


@pytest.fixture
async def http(tg):
    async with httpx.AsyncClient(base_url=f"{tg.url}/bot{TOKEN}") as client:
        yield client


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


async def test_send_message_round_trip(tg):
    await tg.user_sends(ALICE, "/start ABC123")
    async with Bot(TOKEN, base_url=f"{tg.url}/bot", base_file_url=f"{tg.url}/file/bot") as bot:
        await _round_trip(tg, bot)


async def _round_trip(tg, bot):
    msg = await bot.send_message(
        ALICE, "<b>Xin chào</b> &amp; chúc mừng", parse_mode="HTML", reply_markup=keyboard("ok")
    )
    assert msg.text == "Xin chào & chúc mừng"
    assert msg.from_user.id == bot.id and msg.from_user.is_bot
    assert msg.chat.id == ALICE and msg.chat.type == "private"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 0, 8)]
    assert msg.reply_markup.inline_keyboard[0][0].callback_data == "ok"
    record = tg.sent[-1]
    assert (record.method, record.chat_id, record.message_id) == ("sendMessage", ALICE, msg.message_id)
    assert record.text == msg.text and record.raw_text.startswith("<b>") and record.parse_mode == "HTML"
    assert record.callback_data() == ["ok"] and tg.messages_to(ALICE) == [record]
    tg.spec.check_object("Message", record.message)  # what the double answers is spec-shaped
    hint = await bot.send_message(ALICE, "Gõ /tasks hoặc xem https://hue.gov.vn/le-hoi.")
    assert [(e.type, hint.parse_entity(e)) for e in hint.entities] == [
        ("bot_command", "/tasks"),
        ("url", "https://hue.gov.vn/le-hoi"),
    ]  # Telegram detects these
    tg.assert_no_violations()


async def test_base_url_routing_and_token(tg, http):
    assert (await http.get("/getMe")).json()["result"]["username"] == "dutybot_test_bot"
    async with httpx.AsyncClient() as raw:
        wrong = await raw.get(f"{tg.url}/bot999:OTHER/getMe")
    assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"
    other = Bot("999:OTHER", base_url=tg.base_url)
    with pytest.raises(InvalidToken):
        await other.initialize()
    await other.shutdown()
    assert (await http.post("/GETME")).json()["ok"]  # method names are case-insensitive
    async with httpx.AsyncClient() as raw:
        stray = await raw.get(f"{tg.url}/nowhere")
    assert stray.status_code == 404 and stray.json()["ok"] is False


async def test_unknown_method_is_404(tg, http, bot):
    response = await http.post("/sendMesage", json={"chat_id": ALICE, "text": "x"})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendMesage", api_kwargs={"chat_id": ALICE, "text": "x"})
    assert [e["method"] for e in tg.validation_errors] == ["sendMesage", "sendMesage"]


async def test_spec_violations_are_400_and_recorded(tg, http, bot):
    await tg.user_sends(ALICE, "hi")
    cases = {
        "unknown parameter": {"chat_id": ALICE, "text": "x", "colour": "red"},
        "message text is empty": {"chat_id": ALICE},
        "disable_notification must be a Boolean": {"chat_id": ALICE, "text": "x", "disable_notification": "maybe"},
        'field "text" of InlineKeyboardButton is required': {
            "chat_id": ALICE,
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"callback_data": "a"}]]},
        },
        "Text buttons are unallowed": {
            "chat_id": ALICE,
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"text": "a"}]]},
        },
        "exactly one of the optional fields": {
            "chat_id": ALICE,
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "a", "url": "https://a.vn"}]]},
        },
    }
    for expected, body in cases.items():
        response = await http.post("/sendMessage", json=body)
        assert response.status_code == 400, expected
        assert response.json()["description"].startswith("Bad Request: ") and expected in response.json()["description"]
    with pytest.raises(BadRequest, match="(?i)unknown parameter"):
        await bot.send_message(ALICE, "x", api_kwargs={"colour": "red"})
    assert len(tg.validation_errors) == len(cases) + 1
    assert tg.stats["violations"] == len(cases) + 1 and not tg.sent


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b", "Unsupported start tag"),
        ("Tom & Jerry", 'Character "&"'),
        ("<b>bold", "Can't find end tag"),
        ("<b>x</i>", "Unmatched end tag"),
        ("line<br>break", 'Unsupported start tag "br"'),
        ('<span class="x">s</span>', "tg-spoiler"),
    ],
)
async def test_html_is_parsed_strictly(tg, bot, text, error):
    await tg.user_sends(ALICE, "hi")
    with pytest.raises(BadRequest, match="(?i)Can't parse entities") as info:
        await bot.send_message(ALICE, text, parse_mode="HTML")
    assert error.lower() in str(info.value).lower()
    assert tg.validation_errors[-1]["method"] == "sendMessage"


async def test_text_and_caption_limits(tg, bot):
    await tg.user_sends(ALICE, "hi")
    with pytest.raises(BadRequest, match="(?i)too long"):
        await bot.send_message(ALICE, "x" * 5000)
    # the limit applies after entity parsing: tags do not count
    ok = await bot.send_message(ALICE, "<b>" + "ộ" * 4096 + "</b>", parse_mode="HTML")
    assert len(ok.text) == 4096
    with pytest.raises(BadRequest, match="(?i)empty"):
        await bot.send_message(ALICE, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_photo(ALICE, photo=b"\xff\xd8photo\xff\xd9", caption="c" * 1025)
    with pytest.raises(BadRequest, match="(?i)reserved"):
        await bot.send_message(ALICE, "Hạn chót 20.5", parse_mode="MarkdownV2")


async def test_callback_data_is_limited_to_64_bytes(tg, bot):
    await tg.user_sends(ALICE, "hi")
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "x", reply_markup=keyboard("a" * 65))
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):  # bytes, not characters
        await bot.send_message(ALICE, "x", reply_markup=keyboard("ộ" * 22))
    await bot.send_message(ALICE, "x", reply_markup=keyboard("a" * 64))


async def test_blocked_unknown_and_unstarted_chats(tg, bot):
    await tg.user_sends(ALICE, "/start")
    tg.block_user(ALICE)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(ALICE, "x")
    assert tg.updates[-1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    with pytest.raises(BadRequest, match="(?i)Chat not found"):
        await bot.send_message(424242, "x")
    tg.make_user(2002, "Minh")
    with pytest.raises(Forbidden, match="(?i)can't initiate conversation"):
        await bot.send_message(2002, "x")
    await tg.user_sends(ALICE, "/start")  # writing again unblocks
    await bot.send_message(ALICE, "x")
    assert not tg.validation_errors and [e["status"] for e in tg.errors] == [403, 400, 403]


async def test_flood_limits(tg, bot):
    await tg.user_sends(ALICE, "hi")
    delivered, waits = 0, []
    started = time.monotonic()
    for i in range(40):
        try:
            await bot.send_message(ALICE, f"tin {i}")
            delivered += 1
        except RetryAfter as exc:
            waits.append(_seconds(exc.retry_after))
    elapsed = time.monotonic() - started
    assert 3 <= delivered <= 3 + math.ceil(elapsed)  # burst of 3, then about 1/s
    assert len(waits) == 40 - delivered and min(waits) >= 1
    assert tg.stats["429"] == len(waits) and tg.stats["flood_429"] >= 1
    # the bot ignored retry_after: later attempts arrived inside the window it was given
    assert tg.stats["sent_inside_retry_after"] == len(waits) - tg.stats["flood_429"]
    group = tg.make_group(-1001234, "Ban tổ chức")
    results = await asyncio.gather(*(bot.send_message(group["id"], f"g{i}") for i in range(25)), return_exceptions=True)
    assert sum(isinstance(r, RetryAfter) for r in results) == 5  # 20 per minute in a group


async def test_global_flood_limit_and_disabled_limits():
    slow_refill = FloodLimits(global_per_second=0.1, global_burst=30)
    async with TelegramDouble(token=TOKEN, limits=slow_refill) as tg, tg.bot() as bot:
        for uid in range(1, 41):
            tg.make_user(uid, f"U{uid}")
            await tg.user_sends(uid, "hi")
        results = [await _try(bot.send_message(uid, "x")) for uid in range(1, 41)]
        assert sum(isinstance(r, RetryAfter) for r in results) == 10
    async with TelegramDouble(token=TOKEN, limits=None) as tg, tg.bot() as bot:
        tg.make_user(ALICE, "Lan")
        await tg.user_sends(ALICE, "hi")
        await asyncio.gather(*(bot.send_message(ALICE, f"{i}") for i in range(60)))
        assert len(tg.messages_to(ALICE)) == 60 and tg.stats["429"] == 0


async def _try(coro):
    try:
        return await coro
    except RetryAfter as exc:
        return exc


async def test_edits_and_not_modified(tg, bot):
    await tg.user_sends(ALICE, "hi")
    msg = await bot.send_message(ALICE, "Nhiệm vụ 1", reply_markup=keyboard("done"))
    with pytest.raises(BadRequest, match="(?i)Message is not modified"):
        await bot.edit_message_text("Nhiệm vụ 1", ALICE, msg.message_id, reply_markup=keyboard("done"))
    with pytest.raises(BadRequest, match="(?i)Message is not modified"):
        await bot.edit_message_reply_markup(ALICE, msg.message_id, reply_markup=keyboard("done"))
    edited = await bot.edit_message_text("Nhiệm vụ 1 ✅", ALICE, msg.message_id)
    assert edited.edit_date and edited.reply_markup is None  # no reply_markup removes the keyboard
    again = await bot.edit_message_reply_markup(ALICE, msg.message_id, reply_markup=keyboard("undo"))
    assert again.reply_markup.inline_keyboard[0][0].callback_data == "undo"
    assert tg.message(ALICE, msg.message_id)["text"] == "Nhiệm vụ 1 ✅"
    assert [r.method for r in tg.sent] == ["sendMessage", "editMessageText", "editMessageReplyMarkup"]
    assert await bot.delete_message(ALICE, msg.message_id)
    with pytest.raises(BadRequest, match="(?i)Message to delete not found"):
        await bot.delete_message(ALICE, msg.message_id)
    with pytest.raises(BadRequest, match="(?i)Message to edit not found"):
        await bot.edit_message_text("z", ALICE, msg.message_id)
    assert not tg.validation_errors


async def test_get_updates_offset_semantics(tg, bot, http):
    for text in ("một", "hai", "ba"):
        await tg.user_sends(ALICE, text)
    first = await bot.get_updates()
    assert [u.message.text for u in first] == ["một", "hai", "ba"]
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in first]  # not confirmed yet
    rest = await bot.get_updates(offset=first[1].update_id)
    assert [u.message.text for u in rest] == ["hai", "ba"]
    assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
    await tg.user_sends(ALICE, "bốn")
    await tg.user_sends(ALICE, "năm")
    assert [u.message.text for u in await bot.get_updates(offset=-1)] == ["năm"]

    gen = tg._poll_gen
    # A long poll of 25 s, answered within 15 s only because the update woke it (generous for a
    # loaded machine; a missed wake-up would take the whole 25 s).
    poll = asyncio.create_task(bot.get_updates(offset=first[-1].update_id + 10, timeout=25))
    await tg._wait_until(lambda: tg._poll_gen > gen, 5, lambda: "the long poll to arrive")
    assert not poll.done()  # long poll waits
    await tg.user_sends(ALICE, "sáu")
    updates = await asyncio.wait_for(poll, 15)
    assert [u.message.text for u in updates] == ["sáu"]

    # a second poller (PTB's own Bot allows one getUpdates connection, so raw HTTP here)
    gen = tg._poll_gen
    older = asyncio.create_task(
        http.post("/getUpdates", data={"offset": updates[-1].update_id + 1, "timeout": 20}, timeout=30)
    )  # ended by the newer poll (409), not by its timeout
    await tg._wait_until(lambda: tg._poll_gen > gen, 5, lambda: "the older poll to arrive")
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    conflict = await older
    assert conflict.status_code == 409 and "terminated by other getUpdates" in conflict.json()["description"]
    assert not tg.validation_errors


async def test_webhook_with_secret_token(tg, bot):
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(status=500 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t-Token_1")
        with pytest.raises(Conflict, match="(?i)webhook is active"):
            await bot.get_updates()
        await tg.user_sends(ALICE, "/start")
        await tg.wait_until_delivered()
        assert len(received) == 2  # the first answer was a 500: retried
        assert all(secret == "s3cr3t-Token_1" for secret, _ in received)
        assert received[1][1]["message"]["text"] == "/start"
        assert Update.de_json(received[1][1], bot).message.text == "/start"
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert [d["status"] for d in tg.webhook_deliveries] == [500, 200]
        with pytest.raises(BadRequest, match="(?i)HTTPS URL must be provided"):
            await bot.set_webhook("http://example.org/hook")
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()


async def test_application_polling_echo_dialog(tg):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_html(f"Chào <b>{update.effective_user.first_name}</b>! Mã: {context.args[0]}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text, do_quote=True)

    app = Application.builder().token(TOKEN).base_url(tg.base_url).base_file_url(tg.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await app.updater.start_polling(poll_interval=0.0, timeout=2)
        await app.start()
        try:
            await tg.user_sends(ALICE, "/start INV-42")
            greeting = (await tg.wait_for_messages(ALICE, 1))[0]
            assert greeting.text == "Chào Lan! Mã: INV-42" and greeting.parse_mode == "HTML"
            question = await tg.user_sends(ALICE, "Khi nào họp?")
            reply = await tg.wait_for(lambda r: r.text == "Khi nào họp?")
            assert reply.message["reply_to_message"]["message_id"] == question["message_id"]
        finally:
            await app.updater.stop()
            await app.stop()
    assert tg.stats["by_method"]["deleteWebhook"] == 1 and not tg.validation_errors


async def test_callback_queries_are_tracked(tg, bot):
    await tg.user_sends(ALICE, "hi")
    msg = await bot.send_message(ALICE, "Nhận nhiệm vụ?", reply_markup=keyboard("accept", "decline"))
    with pytest.raises(ValueError, match="(?i)no button"):
        await tg.user_presses(ALICE, tg.sent[-1], "maybe")
    query_id = await tg.user_presses(ALICE, tg.sent[-1], "accept")
    update = (await bot.get_updates())[-1]
    assert update.callback_query.id == query_id and update.callback_query.data == "accept"
    assert update.callback_query.message.message_id == msg.message_id
    assert [q["id"] for q in tg.unanswered_callbacks()] == [query_id]
    assert await bot.answer_callback_query(query_id, text="Đã nhận")
    assert tg.unanswered_callbacks() == [] and tg.callback(query_id)["answer"] == {"text": "Đã nhận"}
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)


async def test_photo_and_document_round_trip(tg, bot):
    sent = await tg.user_sends_photo(ALICE, caption="Ảnh hiện trường", size=123_456)
    message = (await bot.get_updates())[-1].message
    assert message.caption == "Ảnh hiện trường" and message.photo[-1].file_size == 123_456
    file = await bot.get_file(message.photo[-1].file_id)
    assert file.file_path.startswith(f"{tg.url}/file/bot{TOKEN}/photos/")
    assert len(await file.download_as_bytearray()) == 123_456
    echoed = await bot.send_photo(ALICE, photo=message.photo[-1].file_id)
    assert echoed.photo[-1].file_id == sent["photo"][-1]["file_id"]

    uploaded = await bot.send_document(
        ALICE, document=b"%PDF-1.4 bien ban", filename="bien_ban.pdf", caption="<i>Biên bản</i>", parse_mode="HTML"
    )
    assert uploaded.document.file_name == "bien_ban.pdf" and uploaded.caption == "Biên bản"
    data = await (await bot.get_file(uploaded.document.file_id)).download_as_bytearray()
    assert bytes(data) == b"%PDF-1.4 bien ban"
    with pytest.raises(BadRequest, match="(?i)can't use file of type Photo as Document"):
        await bot.send_document(ALICE, document=message.photo[-1].file_id)
    await tg.user_sends_document(ALICE, file_name="video.mp4", size=21 * 1024 * 1024)
    big = (await bot.get_updates(offset=-1))[0].message.document
    with pytest.raises(BadRequest, match="(?i)File is too big"):
        await bot.get_file(big.file_id)
    assert not tg.validation_errors


async def test_commands_menu_chat_and_other_methods(tg, bot, http):
    await tg.user_sends(ALICE, "hi")
    commands = [BotCommand("start", "Bắt đầu"), BotCommand("tasks", "Nhiệm vụ của tôi")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(commands[:1], scope=BotCommandScopeChat(ALICE), language_code="vi")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "tasks"]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(ALICE), language_code="vi")] == [
        "start"
    ]
    assert await bot.get_my_commands(language_code="en") == ()
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "x")])
    assert await bot.set_chat_menu_button(ALICE, MenuButtonCommands())
    assert (await bot.get_chat_menu_button(ALICE)).type == "commands"
    chat = await bot.get_chat(ALICE)
    assert chat.first_name == "Lan" and chat.username == "lan_nguyen"
    assert await bot.send_chat_action(ALICE, "typing") and tg.chat_actions[-1]["action"] == "typing"
    response = await http.post("/sendChatAction", data={"chat_id": ALICE, "action": "dancing"})
    assert response.status_code == 400
    assert await bot.pin_chat_message(ALICE, 1)  # not modelled: validated and answered true
    assert tg.other_calls[-1]["method"] == "pinChatMessage"
    assert await bot.close() and await bot.log_out()
    assert len(tg.validation_errors) == 2  # BOT_COMMAND_INVALID and the wrong action


async def test_fault_injection(tg, bot):
    await tg.user_sends(ALICE, "hi")
    tg.fail_next(2, status=502)
    for _ in range(2):
        with pytest.raises(NetworkError, match="(?i)Bad Gateway"):
            await bot.send_message(ALICE, "x")
    await bot.send_message(ALICE, "x")
    tg.set_failure_rate(1.0, status=429, retry_after=(2, 2), seed=1)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(ALICE, "x")
    assert _seconds(info.value.retry_after) == 2
    assert await bot.get_updates() != ()  # getUpdates is exempt unless named
    tg.set_failure_rate(0.0)
    with pytest.raises(RetryAfter):  # the window handed out still applies
        await bot.send_message(ALICE, "x")
    assert tg.stats["injected_failures"] == 3 and tg.stats["sent_inside_retry_after"] == 1


async def test_groups_privacy_anonymous_admin_and_forwards(tg, bot):
    group = tg.make_group(-1009876, "Ban tổ chức lễ")
    await tg.user_sends(ALICE, "chào cả nhà", chat=group)  # privacy mode: not delivered
    await tg.user_sends(ALICE, "/tasks@dutybot_test_bot", chat=group)
    await tg.anonymous_admin_sends(group, "/assign")
    channel = tg.make_channel(-1005555, "Kênh thông báo")
    await tg.linked_channel_posts(group, channel, "/announce thông báo")
    boss = tg.make_user(3003, "Sếp")
    await tg.user_forwards(ALICE, "/start SECRET", origin=boss)
    await tg.user_forwards(ALICE, "tin ẩn danh")
    messages = [u.message for u in await bot.get_updates()]
    assert [m.text for m in messages] == [
        "/tasks@dutybot_test_bot",
        "/assign",
        "/announce thông báo",
        "/start SECRET",
        "tin ẩn danh",
    ]
    assert messages[0].entities[0].type == "bot_command" and messages[0].chat.type == "supergroup"
    assert messages[1].from_user.id == ANONYMOUS_ADMIN_ID and messages[1].sender_chat.id == group["id"]
    assert messages[2].from_user.id == TELEGRAM_SERVICE_ID and messages[2].is_automatic_forward
    assert isinstance(messages[3].forward_origin, MessageOriginUser)
    assert messages[3].forward_origin.sender_user.id == 3003
    assert isinstance(messages[4].forward_origin, MessageOriginHiddenUser)
    reply = await bot.send_message(group["id"], "Đã nhận", reply_to_message_id=messages[0].message_id)
    assert reply.reply_to_message.text == "/tasks@dutybot_test_bot"


async def test_emitted_updates_follow_the_spec(tg, bot):
    group = tg.make_group(-100777, "Nhóm")
    await tg.user_sends(ALICE, "/start X")
    msg = await bot.send_message(ALICE, "chọn", reply_markup=keyboard("a"))
    await tg.user_presses(ALICE, msg.to_dict(), "a")
    await tg.user_sends_photo(ALICE, caption="ảnh", reply_to=msg.to_dict())
    await tg.user_sends_document(ALICE)
    await tg.user_forwards(ALICE, "fw", origin=group)
    await tg.user_edits(ALICE, tg.updates[0]["message"], "/start Y")
    await tg.anonymous_admin_sends(group, "/x")
    tg.block_user(ALICE)
    assert len(tg.updates) == 8
    for update in tg.updates:
        tg.spec.check_object("Update", update)


async def test_thread_helper_for_synchronous_benchmarks():
    def scenario() -> None:
        with TelegramDoubleThread(token=TOKEN, limits=None) as tg:
            tg.make_user(ALICE, "Lan")
            tg.user_sends(ALICE, "/start")
            with httpx.Client(base_url=f"{tg.url}/bot{TOKEN}") as client:
                updates = client.post("/getUpdates", data={"timeout": "1"}).json()["result"]
                assert updates[0]["message"]["text"] == "/start"
                client.post("/sendMessage", json={"chat_id": ALICE, "text": "chào"}).raise_for_status()
            assert [r.text for r in tg.wait_for_messages(ALICE, 1)] == ["chào"]
            assert tg.stats["by_method"]["sendMessage"] == 1

    await asyncio.to_thread(scenario)


async def test_a_thousand_concurrent_validated_sends_all_land():
    """1000 validated sendMessage calls (HTML, inline keyboard) from 50 concurrent clients over
    real HTTP: every one accepted, recorded once, none refused. How fast the double answers is
    a benchmark's business, not a test's (bench/telegram_updates.py's echo bot, served by this
    double, reaches several hundred updates a second: the double is not the bottleneck)."""
    async with TelegramDouble(token=TOKEN, limits=None) as tg:
        for uid in range(1, 51):
            tg.make_user(uid, f"U{uid}")
            await tg.user_sends(uid, "hi")
        markup = json.dumps({"inline_keyboard": [[{"text": "Xong", "callback_data": "done:1"}]]})
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as session:

            async def worker(uid: int) -> None:
                for i in range(20):
                    form = {
                        "chat_id": str(uid),
                        "text": f"<b>Việc {i}</b> &amp; hạn",
                        "parse_mode": "HTML",
                        "reply_markup": markup,
                    }
                    async with session.post(f"{tg.url}/bot{TOKEN}/sendMessage", data=form) as response:
                        assert response.status == 200, await response.text()

            await asyncio.gather(*(worker(uid) for uid in range(1, 51)))
    assert len(tg.sent) == 1000 and not tg.validation_errors
    assert len({(r.chat_id, r.message_id) for r in tg.sent}) == 1000  # each recorded once, own message id


async def test_a_send_inside_a_window_is_counted_even_when_a_fault_is_due(tg, bot):
    await tg.user_sends(ALICE, "hi")
    tg.set_failure_rate(1.0, status=429, retry_after=(2, 2), seed=1)
    with pytest.raises(RetryAfter):
        await bot.send_message(ALICE, "x")  # an injected 429 opens a 2 s window for Alice's chat
    with pytest.raises(RetryAfter):
        await bot.send_message(ALICE, "again")  # inside it: refused by the window, not by a new fault
    assert tg.stats["injected_failures"] == 1 and tg.stats["sent_inside_retry_after"] == 1


async def test_on_accepted_runs_after_the_message_is_recorded_and_before_the_answer(tg, bot):
    await tg.user_sends(ALICE, "hi")
    seen = []
    tg.on_accepted = lambda record: seen.append((record.method, record.text, len(tg.sent)))
    sent = await bot.send_message(ALICE, "hello")
    assert seen == [("sendMessage", "hello", len(tg.sent))] and tg.sent[-1].message_id == sent.message_id
