"""Zalo end to end over real HTTP: the ZaloChannel (httpx) talks to the Zalo Bot API double.

The journey of tests/test_telegram_e2e.py, on Zalo: people join by `/start CODE`, contacts get
their assignments as numbered choices, acknowledge by number, report by free text, send a
photo and get overdue reminders; coordinators follow, and /baocao becomes a summary naming the
Telegram/CLI route. Then what only Zalo needs: the webhook secret, replays, both body shapes,
429 back-off, splitting, blocked users, and a contact on both apps reached once.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import func, select

from bot.app import SystemActor, add_admin
from bot.channels.base import Button, Reply
from bot.channels.zalo import SECRET_HEADER, ZaloChannel
from bot.delivery import Delivery
from bot.ratelimit import Limits, Pacer
from bot.router import Router
from bot.scheduler import Scheduler
from storage.models import Evidence, Identity, InboundUpdate, Outbox
from tests.conftest import make_app
from tests.doubles.zalo_api import ZaloDouble, units
from workflows import events as event_uc
from workflows.ports import Ctx
from workflows.spec import load_template, resolve_template

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = re.compile(r"/start ([A-Za-z0-9_-]{32})")
TASK = re.compile(r"\b[A-Z]{2,4}-\d{2}\b")
SECRET = "zalo-webhook-secret-123"
CHOICES = "Trả lời 1 Đã nhận, 2 Đang làm, 3 Xong, 4 Vướng"


# app id -> its running stack, so that `settled(zd, app)` can wait for the stack's own passes
_STACKS: dict[int, ZaloStack] = {}


class ZaloStack:
    """What the runtime wires for Zalo: channel, webhook or poller, inbox processing, delivery, scheduler."""

    def __init__(self, app, zd: ZaloDouble, mode: str, *, telegram: bool = False) -> None:
        self.app, self.zd, self.mode = app, zd, mode
        self.router = Router(app)
        self.delivery = Delivery(app, {}, {})
        self.scheduler = Scheduler(app, on_queued=self.delivery.wake)
        self.zalo = ZaloChannel(
            app, self.router, on_change=self.changed, poll_timeout=1, pacer=Pacer(Limits.unlimited())
        )
        self.channels = {"zalo": self.zalo}
        if telegram:
            from bot.channels.telegram import TelegramChannel

            self.channels["telegram"] = TelegramChannel(app, self.router, on_change=self.changed, poll_timeout=1)
        self.delivery.channels.update(self.channels)
        self.delivery.pacers.update({"zalo": self.zalo.pacer, "telegram": Pacer(Limits.unlimited())})
        self.tasks: list[asyncio.Task] = []
        self.runner: web.AppRunner | None = None
        # When the latest finished reminder pass started (monotonic): `settled` waits for a
        # pass that started after it was called, instead of for a quiet while.
        self.pass_started = 0.0
        wake = self.scheduler._wake

        async def tracked_wake():
            started = time.monotonic()
            await wake()
            self.pass_started = max(self.pass_started, started)

        self.scheduler._wake = tracked_wake
        _STACKS[id(app)] = self

    def changed(self) -> None:
        self.delivery.wake()
        self.scheduler.poke()

    async def start(self) -> ZaloStack:
        for ch in self.channels.values():
            await ch.start()
        if self.mode == "polling":
            await self.zalo.delete_webhook()
            self.tasks.append(asyncio.create_task(self.zalo.poll_forever()))
        else:
            web_app = web.Application()
            web_app.router.add_post("/zalo", self.zalo.webhook_handler())
            self.runner = web.AppRunner(web_app)
            await self.runner.setup()
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            await web.SockSite(self.runner, sock).start()
            self.webhook_url = f"http://127.0.0.1:{sock.getsockname()[1]}/zalo"
            await self.zalo.set_webhook(self.webhook_url)
        if "telegram" in self.channels:
            tg = self.channels["telegram"]
            await tg.bot.delete_webhook()
            self.tasks += [asyncio.create_task(tg.poll_forever()), asyncio.create_task(tg.process_forever())]
        self.tasks += [
            asyncio.create_task(self.zalo.process_forever()),
            asyncio.create_task(self.delivery.run_forever()),
        ]
        self.scheduler.start()
        return self

    async def stop(self) -> None:
        _STACKS.pop(id(self.app), None)
        self.scheduler.shutdown()
        self.delivery.stop()
        for ch in self.channels.values():
            ch._stopping = True
            ch.wake()
        await asyncio.wait(self.tasks, timeout=5)
        for t in self.tasks:
            t.cancel()
        if self.runner is not None:
            await self.runner.cleanup()
        for ch in self.channels.values():
            await ch.stop()


def zalo_app(db_url, zd, mode="webhook", **overrides):
    return make_app(
        db_url,
        lambda: datetime.now(timezone.utc),
        zalo={"token": zd.token, "base_url": zd.base_url, "mode": mode, "webhook_secret": SECRET},
        reminders={"quiet_hours": ""},
        **overrides,
    )


@pytest.fixture
async def world(request, db_url):
    mode, shape = getattr(request, "param", "webhook-wrapped").partition("-")[::2]
    async with ZaloDouble(webhook_shape=shape or "wrapped") as zd:
        app = zalo_app(db_url, zd, mode)
        stack = await ZaloStack(app, zd, mode).start()
        try:
            yield zd, app, stack
        finally:
            await stack.stop()
            app.db.dispose()


async def said(zd, user, text, expect="", timeout=10.0):
    """The user writes; returns the bot's next message to them containing `expect`."""
    since = len(zd.sent)
    await zd.user_sends(user, text)
    return (await zd.wait_for(lambda r: r.chat_id == user.id and expect in r.text, timeout, since=since)).text


async def settled(zd, app, quiet=0.4, timeout=15.0):
    """Waits until the bot has nothing left to do: every update fetched and handled, a reminder
    pass started after this call has finished, and nothing is pending in the outbox (so nothing
    more can be sent). A condition, not a quiet while; `quiet` is kept for callers without a
    ZaloStack (then nothing may be sent for that long)."""
    stack = _STACKS.get(id(app))
    loop = asyncio.get_running_loop()
    end, seen, still, since = loop.time() + timeout, -1, loop.time(), time.monotonic()
    if stack is not None:
        stack.changed()  # a reminder pass soon, after this moment
    while loop.time() < end:
        with app.db.read() as s:
            pending = s.exec(select(func.count()).select_from(Outbox).where(Outbox.status == "pending")).one()
            inbound = s.exec(
                select(func.count()).select_from(InboundUpdate).where(InboundUpdate.status == "pending")
            ).one()
        idle = not pending and not inbound and zd.pending_updates == 0
        if stack is not None:
            if idle and stack.pass_started >= since:
                return
        elif len(zd.sent) != seen or pending:
            seen, still = len(zd.sent), loop.time()
        elif loop.time() - still >= quiet and zd.pending_updates == 0:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot did not settle")


def make_event(app, days=20, *, launch=False):
    """The bundled ceremony starting in `days` days, created (and launched) through the engine."""
    ctx = Ctx(actor=SystemActor(), channel="cli", now=app.now())
    with app.write() as store:
        event = event_uc.create_event(
            store, ctx, load_template(resolve_template("ceremony")), app.now() + timedelta(days=days), "Lễ thử"
        )
        if launch:
            app.notifier.enqueue(store, event_uc.launch_event(store, ctx, event), app.now())
    return event


async def join(zd, coord, user, target):
    code = CODE.search(await said(zd, coord, f"/moi {target}", "/start ")).group(1)
    return await said(zd, user, f"/start {code}", "Chào mừng")


async def coordinator_and_contact(app, zd):
    """An admin on Zalo, the bundled event (not launched), and a CA contact who joined on Zalo."""
    coord, ca = zd.make_user("c0", "Điều phối"), zd.make_user("ca1", "Công an")
    add_admin(app, "zalo", "c0", "Điều phối")
    make_event(app)
    await join(zd, coord, ca, "CA")
    return coord, ca


@pytest.mark.parametrize("world", ["webhook-wrapped", "polling"], indirect=True)
async def test_the_whole_journey_on_zalo(world):
    zd, app, _ = world
    admin, coord = zd.make_user("a0", "Quản trị"), zd.make_user("c0", "Điều phối viên")
    ca, syt, stc = zd.make_user("ca1", "Công an"), zd.make_user("syt1", "Y tế"), zd.make_user("stc1", "Tài chính")
    stranger = zd.make_user("x9", "Người lạ")
    add_admin(app, "zalo", "a0", "Quản trị")

    # Joining by code: the admin invites a coordinator; the coordinator creates an event 20 days
    # ahead (its early duties are overdue) and invites three agency contacts.
    assert "vai trò" in (await join(zd, admin, coord, "coordinator")).lower()
    start = (datetime.now(TZ) + timedelta(days=20)).strftime("%d/%m/%Y 07:00")
    event_id = re.search(r"#(\d+)", await said(zd, coord, f"/taosukien ceremony {start} Lễ thử", "#")).group(1)
    for user, agency in ((ca, "CA"), (syt, "SYT"), (stc, "STC")):
        assert agency in await join(zd, coord, user, agency)

    # Launch: a summary, then one message per task ending with numbered choices; overdue reminders follow.
    assert "triển khai" in await said(zd, coord, f"/trienkhai {event_id}", "triển khai")
    await zd.wait_for(lambda r: r.chat_id == "stc1" and "quá hạn" in r.text and "CB-05" in r.text, timeout=20)
    await settled(zd, app)
    ca_msgs = zd.messages_to(ca)
    assert any("CB-23" in m.text and m.text.endswith(CHOICES) for m in ca_msgs)

    # By number: "1" answers the choices last offered, bound to the task they were about.
    last = [m for m in ca_msgs if m.text.endswith(CHOICES)][-1]
    code = TASK.search(last.text).group(0)
    assert f"đã nhận việc {code}" in await said(zd, ca, "1", "đã nhận")
    card = await said(zd, ca, "/nv CB-23", "CB-23")
    assert card.endswith(CHOICES)
    assert "đã nhận việc CB-23" in await said(zd, ca, "1", "CB-23")
    assert "hoàn thành" in await said(zd, ca, "/xong CB-23 phương án đã duyệt", "CB-23")

    # By free text, about the task last shown; then a photo as evidence.
    await said(zd, syt, "/nv CB-24", "CB-24")
    assert (await said(zd, syt, "2", "phần trăm")).endswith("Trả lời 1 25%, 2 50%, 3 75%, 4 90%")
    assert "50%" in await said(zd, syt, "2", "tiến độ việc CB-24")
    assert "hoàn thành" in await said(zd, syt, "xong rồi", "CB-24")
    await said(zd, stc, "/nv CB-05", "CB-05")
    # A done that is not certain is confirmed first (the same reader as Telegram and the local chat).
    asked = await said(zd, stc, "hình như xong rồi", "Xác nhận")
    assert asked.startswith("Xác nhận việc CB-05 đã hoàn thành?") and asked.endswith("1 Xong, 2 Chưa")
    assert "phần trăm" in await said(zd, stc, "2", "phần trăm")  # "Chưa": how far, then?
    assert "Đã ghi nhận: CB-05 đang làm, 40%" in await said(zd, stc, "đang làm, được bốn mươi phần trăm", "CB-05")
    assert "vướng" in (await said(zd, stc, "vướng kinh phí, chờ UBND bố trí", "CB-05")).lower()
    since = len(zd.sent)
    await zd.user_sends_photo(stc, caption="biên bản", size=50_000)
    assert "minh chứng cho CB-05" in (await zd.wait_for(lambda r: r.chat_id == "stc1", 10, since=since)).text

    # The coordinator follows; files come as a summary naming the Telegram/CLI route.
    status = await said(zd, coord, "/tinhhinh", "CA: ")
    assert "CA: 1/" in status and "SYT: 1/" in status and "vướng 1" in status
    assert "CB-05" in await said(zd, coord, "/quahan", "CB-05")
    since = len(zd.sent)
    await zd.user_sends(coord, "/nv CB-05")  # the card with its history, then the photo: a summary
    detail = (await zd.wait_for(lambda r: r.chat_id == "c0" and "Lịch sử" in r.text, 10, since=since)).text
    assert "kinh phí" in detail and "minh chứng" in detail
    photo = await zd.wait_for(lambda r: r.chat_id == "c0" and "Ảnh (" in r.text, 10, since=since)
    assert "biên bản" in photo.text and "Telegram" in photo.text
    report = await said(zd, coord, "/baocao", "dutybot export")
    assert f"dutybot export {event_id} --format xlsx" in report and "Telegram" in report

    # Refusals: a stranger learns nothing, even by number; another agency cannot touch STC's task.
    assert "mã mời" in await said(zd, stranger, "/tinhhinh", "mã mời")
    assert "mã mời" in await said(zd, stranger, "1", "mã mời")
    assert "Không tìm thấy" in await said(zd, ca, "/xong CB-05", "Không tìm thấy")

    assert zd.validation_errors == []
    assert all(1 <= units(r.text) <= 2000 for r in zd.sent)


@pytest.mark.parametrize("world", ["webhook-wrapped", "webhook-bare", "polling"], indirect=True)
async def test_a_replayed_update_is_applied_once(world):
    zd, app, stack = world
    coord, ca = await coordinator_and_contact(app, zd)
    since = len(zd.sent)
    update = await zd.user_sends(ca, "/whoami")
    await zd.wait_for(lambda r: r.chat_id == "ca1", 10, since=since)
    zd.redeliver(update)  # the platform hands it over again: stored once, answered once
    await zd.wait_until_delivered()
    await settled(zd, app)
    with app.db.read() as s:
        keys = list(s.exec(select(InboundUpdate.update_key).where(InboundUpdate.channel == "zalo")))
    assert len(keys) == 3 and keys.count(update["message"]["message_id"]) == 1
    assert [r.chat_id for r in zd.sent[since:]] == ["ca1"]
    assert len(zd.delivered) == 4 and zd.validation_errors == []


@pytest.mark.parametrize("secret", [None, "wrong-secret-0000", ""])
async def test_webhook_refuses_a_wrong_or_missing_secret(world, secret):
    zd, app, stack = world
    user = zd.make_user("u1", "Ai đó")

    def body(message_id):
        return {
            "ok": True,
            "result": {
                "event_name": "message.text.received",
                "message": {
                    "from": {"id": "u1", "display_name": "Ai đó"},
                    "chat": {"id": "u1", "chat_type": "PRIVATE"},
                    "text": "/tinhhinh",
                    "message_id": message_id,
                    "date": 1750316131602,
                },
            },
        }

    headers = {} if secret is None else {SECRET_HEADER: secret}
    async with aiohttp.ClientSession() as http:
        for shape in (body("forged-1"), body("forged-2")["result"]):  # wrapped and bare: both refused
            async with http.post(stack.webhook_url, json=shape, headers=headers) as r:
                assert r.status == 403  # answered after the check: nothing was stored before it
        with app.db.read() as s:
            assert s.exec(select(func.count()).select_from(InboundUpdate)).one() == 0
        assert zd.sent == []
        async with http.post(stack.webhook_url, json=body("ok-1")["result"], headers={SECRET_HEADER: SECRET}) as r:
            assert r.status == 200  # the right secret: accepted
    await zd.wait_for(lambda r: r.chat_id == user.id, 10)
    with app.db.read() as s:
        assert list(s.exec(select(InboundUpdate.update_key))) == ["ok-1"]


async def test_quota_exceeded_backs_off_and_sends_once(world):
    zd, app, stack = world
    stack.zalo.quota_backoff = 0.2  # then 0.4, 0.8 while 429s go on
    coord, ca = await coordinator_and_contact(app, zd)
    zd.set_quota_exceeded(3)  # the reply to /thongbao and the broadcast itself meet them
    await zd.user_sends(coord, "/thongbao Họp lúc 14h")
    notice = await zd.wait_for(lambda r: r.chat_id == "ca1" and "Họp lúc 14h" in r.text, timeout=15)
    reply = await zd.wait_for(lambda r: r.chat_id == "c0" and "Đã gửi thông báo" in r.text, timeout=15)
    await settled(zd, app)
    assert [e["status"] for e in zd.errors] == [429, 429, 429]
    assert len([r for r in zd.sent if "Họp lúc 14h" in r.text or "Đã gửi thông báo" in r.text]) == 2
    assert min(notice.at, reply.at) - zd.errors[0]["at"] >= 1.15  # nothing went during the pauses


async def test_long_text_is_split_and_files_summarised(sqlite_url):
    async with ZaloDouble() as zd:
        app = zalo_app(sqlite_url, zd)
        zalo = ZaloChannel(app, Router(app), pacer=Pacer(Limits.unlimited()))
        user = zd.make_user("u1", "Ai đó")
        with app.db.write() as s:
            from storage.models import User

            u = User(name="Ai đó", role="contact", language="en", created_at=datetime.now(timezone.utc))
            s.add(u)
            s.flush()
            s.add(Identity(user_id=u.id, channel="zalo", external_id="u1", chat_id="u1"))
        text = "\n".join(f"<b>Dòng {i}</b> 🎉 " + "x" * 60 for i in range(90))
        mid = await zalo.send("u1", Reply(text, buttons=[[Button("Got it", "t:1:ack"), Button("Done", "t:1:done")]]))
        parts = zd.messages_to(user)
        assert len(parts) == 4 and mid == parts[-1].message_id
        assert all(units(p.text) <= 2000 and "<b>" not in p.text for p in parts)
        assert all(p.text.split("\n")[0].startswith("Dòng") for p in parts)  # cut on line boundaries
        assert parts[-1].text.endswith("Reply 1 Got it, 2 Done")
        with app.db.read() as s:
            assert s.exec(select(Identity)).one().choices == ["t:1:ack", "t:1:done"]
        await zalo.send("u1", Reply("Report", document=("dutybot-event-7.xlsx", b"x" * 5000)))
        assert "dutybot export 7 --format xlsx" in zd.sent[-1].text and "Telegram" in zd.sent[-1].text
        await zalo.stop()
        app.db.dispose()
        assert zd.validation_errors == []


async def test_a_too_large_photo_is_refused_other_messages_answered(db_url):
    async with ZaloDouble() as zd:
        app = zalo_app(db_url, zd, evidence={"max_bytes": 20_000})
        stack = await ZaloStack(app, zd, "webhook").start()
        try:
            coord, ca = await coordinator_and_contact(app, zd)
            await said(zd, ca, "/nv CB-23", "CB-23")
            await settled(zd, app)
            since = len(zd.sent)
            await zd.user_sends_sticker(ca)  # ignored
            await zd.user_sends_photo(ca, size=50_000, field_name="photo")
            assert "quá lớn" in (await zd.wait_for(lambda r: r.chat_id == "ca1", 10, since=since)).text
            await zd.user_sends_event(ca, "message.unsupported.received")
            assert "chữ và ảnh" in (await zd.wait_for(lambda r: r.chat_id == "ca1", 10, since=since + 1)).text
            await settled(zd, app)
            assert len(zd.sent) == since + 2 and zd.validation_errors == []
            with app.db.read() as s:
                assert s.exec(select(func.count()).select_from(Evidence)).one() == 0
        finally:
            await stack.stop()
            app.db.dispose()


async def test_a_blocked_contact_is_reported_unreachable(world):
    zd, app, stack = world
    coord, ca = await coordinator_and_contact(app, zd)
    zd.block_user(ca)
    await said(zd, coord, "/thongbao Họp lúc 14h", "Đã gửi")
    assert "chặn" in (await zd.wait_for(lambda r: r.chat_id == "c0" and "Công an" in r.text, 10)).text
    with app.db.read() as s:
        assert (
            s.exec(select(Outbox.status).where(Outbox.chat_id == "ca1", Outbox.kind == "broadcast")).one() == "parked"
        )


@pytest.mark.telegram_double
@pytest.mark.parametrize("preferred", ["telegram", None])
async def test_a_contact_on_both_apps_gets_each_reminder_once(db_url, preferred):
    from tests.doubles.telegram_api import TelegramDouble

    async with ZaloDouble() as zd, TelegramDouble(token="123:TEST", limits=None) as tg:
        app = zalo_app(
            db_url, zd, telegram={"token": "123:TEST", "base_url": tg.base_url, "base_file_url": tg.base_file_url}
        )
        stack = await ZaloStack(app, zd, "webhook", telegram=True).start()
        try:
            coord, ca = await coordinator_and_contact(app, zd)  # joined on Zalo first
            ca_tg = tg.make_user(7101, "Công an")
            with app.write() as store:  # the same person, on Telegram too
                ident = store.identity("zalo", "ca1")
                store.add(
                    Identity(
                        user_id=ident.user_id,
                        channel="telegram",
                        external_id="7101",
                        chat_id="7101",
                        created_at=app.now(),
                    )
                )
                store.user(ident.user_id).preferred_channel = preferred
            await tg.user_sends(ca_tg, "/start")  # Telegram lets a bot write only to who wrote first
            await tg.wait_for(lambda r: r.chat_id == 7101 and "/toila" in (r.text or ""), timeout=10)  # + help
            since_z, since_t = len(zd.sent), len(tg.sent)
            make_event(app, days=10, launch=True)  # CA's CB-23 (T-14d) is overdue
            stack.changed()
            await settled(zd, app, quiet=1.0, timeout=30)
            on_zalo = [r.text for r in zd.sent[since_z:] if r.chat_id == "ca1"]
            on_tg = [r.text or "" for r in tg.sent[since_t:] if r.chat_id == 7101]
            reached, other = (on_tg, on_zalo) if preferred == "telegram" else (on_zalo, on_tg)
            assert other == []
            with app.db.read() as s:
                rows = list(s.exec(select(Outbox).where(Outbox.user_id == ident.user_id)))
            assert {r.channel for r in rows} == {preferred or "zalo"} and all(r.status == "sent" for r in rows)
            assert len(reached) == len(rows) and len(set(reached)) == len(reached)  # each message once
            assert any("CB-23" in t and "quá hạn" in t for t in reached)
            # Either app answers where it was asked.
            since = len(tg.sent)
            await tg.user_sends(ca_tg, "/viec")
            await tg.wait_for(lambda r: r.chat_id == 7101 and "CB-23" in (r.text or ""), timeout=10, since=since)
            assert "CB-23" in await said(zd, ca, "/viec", "CB-23")
        finally:
            await stack.stop()
            app.db.dispose()
        assert zd.validation_errors == [] and tg.validation_errors == []


async def test_the_double_is_strict_like_the_platform():
    async with ZaloDouble() as zd, aiohttp.ClientSession() as http:
        zd.make_user("u1", "Ai đó")

        async def call(method, token=zd.token, **params):
            async with http.post(f"{zd.base_url}{token}/{method}", json=params) as r:
                return r.status, await r.json()

        assert (await call("getMe"))[1]["result"]["account_name"] == "bot.dutybot"
        assert (await call("sendMessage", chat_id="u1", text="x" * 2000))[0] == 200
        assert (await call("getMe", token="wrong"))[0] == 401
        assert [
            (await call(*c[:1], **c[1]))[0]
            for c in [
                ("editMessageText", {"chat_id": "u1", "text": "x"}),  # no such method on Zalo
                ("sendmessage", {"chat_id": "u1", "text": "x"}),  # names are case-sensitive
                ("sendMessage", {"chat_id": "u1", "text": "x" * 2001}),
                ("sendMessage", {"chat_id": "u1", "text": "🎉" * 1001}),  # 2002 UTF-16 units
                ("sendMessage", {"chat_id": "u1", "text": ""}),
                ("sendMessage", {"chat_id": "nobody", "text": "x"}),
                ("sendMessage", {"chat_id": "u1", "text": "x", "reply_markup": {}}),
                ("setWebhook", {"url": "https://example.org/zalo", "secret_token": "short"}),
            ]
        ] == [404, 404, 400, 400, 400, 400, 400, 400]
        assert len(zd.validation_errors) == 8
        status, body = await call("getUpdates", timeout=0.2)  # an empty long poll
        assert (status, body["error_code"]) == (408, 408)
        update = await zd.user_sends(zd.make_user("u2", "Hai"), "a")
        await zd.user_sends(zd._users["u2"], "b")
        got = (await call("getUpdates", timeout=1))[1]["result"]  # one update per call, no update_id
        assert got == update and "update_id" not in got and got["message"]["from"]["id"] == "u2"
        zd.set_quota_exceeded(1)
        assert (await call("sendMessage", chat_id="u1", text="x"))[1]["description"] == "Quota exceeded"
        zd.block_user(zd._users["u1"])
        assert (await call("sendMessage", chat_id="u1", text="x"))[0] == 403
        assert len(zd.validation_errors) == 8 and len(zd.sent) == 1
