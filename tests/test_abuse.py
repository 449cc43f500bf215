"""Issue 13 items 5, 6 and 12: what strangers and floods cost, and which files are fetched.

Over real HTTP against the Telegram and Zalo doubles, with the runtime's own sender gate:
a stranger's files are never downloaded and the stranger is answered once an hour (but can
still join with a code); a member over the per-sender rate is told once, everything they
send is still applied; a member's photo is fetched and kept. Zalo photo URLs are fetched only
from Zalo's media hosts. The gate's arithmetic is checked on its own with a hand-moved clock.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from aiohttp import web
from sqlmodel import func, select

from bot.app import add_admin
from bot.channels.tg_request import AiohttpRequest
from bot.channels.zalo_media import MediaPolicy, MediaRefused
from bot.floodgate import SenderGate, Verdict
from bot.ratelimit import Limits
from bot.runtime import Runtime
from storage.models import AuditEntry, Evidence
from tests.conftest import make_app
from tests.doubles.telegram_api import TelegramDouble
from tests.doubles.zalo_api import ZaloDouble
from tests.helpers import add_user, seed_event
from tests.test_zalo import ZaloStack, coordinator_and_contact, said, settled, zalo_app

TOKEN = "123456:TESTtokenTESTtokenTESTtokenTESTtok"
pytestmark = pytest.mark.telegram_double


# -- the gate on its own -------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_stranger_is_answered_once_an_hour():
    clock = Clock()
    gate = SenderGate(per_minute=20, stranger_every=3600, clock=clock)
    assert gate.check("tg:1", known=False) is Verdict.ANSWER
    assert [gate.check("tg:1", known=False) for _ in range(30)] == [Verdict.QUIET] * 30
    assert gate.check("tg:2", known=False) is Verdict.ANSWER  # another stranger: their own hour
    clock.t += 3599
    assert gate.check("tg:1", known=False) is Verdict.QUIET
    clock.t += 2
    assert gate.check("tg:1", known=False) is Verdict.ANSWER


def test_a_member_over_the_rate_is_told_once_a_minute_and_never_silenced():
    clock = Clock()
    gate = SenderGate(per_minute=5, clock=clock)
    verdicts = [gate.check("tg:9", known=True) for _ in range(9)]
    assert verdicts == [Verdict.ANSWER] * 5 + [Verdict.SLOW_DOWN] + [Verdict.ANSWER] * 3
    clock.t += 60.5  # the window has passed
    assert gate.check("tg:9", known=True) is Verdict.ANSWER
    again = [gate.check("tg:9", known=True) for _ in range(6)]
    assert again == [Verdict.ANSWER] * 4 + [Verdict.SLOW_DOWN, Verdict.ANSWER]  # a new minute: told again
    assert SenderGate(per_minute=0, clock=clock).check("x", known=True) is Verdict.ANSWER  # 0: no limit


def test_the_gate_remembers_a_bounded_number_of_senders():
    gate = SenderGate(max_tracked=100, clock=Clock())
    for i in range(5_000):
        gate.check(f"tg:{i}", known=False)
        gate.check(f"tg:m{i}", known=True)
    assert len(gate._strangers) == 100 and len(gate._members) == 100


# -- Telegram, over real HTTP ----------------------------------------------------------------------


@pytest.fixture
async def tg_world(sqlite_url, unused_tcp_port):
    async with TelegramDouble(token=TOKEN, limits=None) as tg:
        app = make_app(
            sqlite_url,
            lambda: datetime.now(timezone.utc),
            telegram={"token": TOKEN, "base_url": tg.base_url, "base_file_url": tg.base_file_url},
            server={"port": unused_tcp_port},
            evidence={"max_bytes": 1_000_000},
        )
        event = seed_event(app, datetime.now(timezone.utc) + timedelta(days=30))
        add_admin(app, "telegram", "9001", "Admin")
        add_user(app, "9101", "contact", "CA", channel="telegram")
        with app.write() as store:
            store.get_event(event.id).launched_at = app.now()
        runtime = Runtime(app, limits=Limits.unlimited(), poll_timeout=1)
        await runtime.start()
        try:
            yield tg, app
        finally:
            await runtime.stop()


def to(chat_id):
    return lambda r: r.chat_id == chat_id


async def quiet(tg, app, seconds=1.0, timeout=20.0):
    """Waits until every update was taken and nothing was sent for `seconds`."""
    loop = asyncio.get_running_loop()
    end, seen, since = loop.time() + timeout, -1, loop.time()
    while loop.time() < end:
        pending = len(tg.pending_updates)
        if len(tg.sent) != seen or pending:
            seen, since = len(tg.sent), loop.time()
        elif loop.time() - since >= seconds:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot did not settle")


async def test_strangers_files_are_never_fetched_and_they_hear_once(tg_world):
    tg, app = tg_world
    stranger, ca = tg.make_user(7001, "Lạ"), tg.make_user(9101, "CA")
    for i in range(3):
        await tg.user_sends_document(stranger, file_name=f"big{i}.pdf", size=900_000)
        await tg.user_sends_photo(stranger, size=500_000)
    for i in range(20):
        await tg.user_sends(stranger, f"xin chào {i}")
    asked = await tg.user_sends(ca, "/viec")
    await tg.wait_for(
        lambda r: (
            r.chat_id == 9101 and (r.message or {}).get("reply_to_message", {}).get("message_id") == asked["message_id"]
        ),
        timeout=15,
    )
    await quiet(tg, app)
    assert len(tg.messages_to(7001)) == 1  # one "who are you / how to join", not 26
    assert tg.stats["by_method"]["getFile"] == 0 and tg.stats.get("downloads", 0) == 0
    with app.read() as store:
        assert store.s.exec(select(func.count()).select_from(Evidence)).one() == 0
    assert tg.validation_errors == []


async def test_a_stranger_who_was_answered_can_still_join_with_a_code(tg_world):
    tg, app = tg_world
    admin = tg.make_user(9001, "Admin")
    await tg.user_sends(admin, "/moi SYT")
    invite = await tg.wait_for(lambda r: r.chat_id == 9001 and "start=" in (r.text or ""), timeout=10)
    code = re.search(r"start=([A-Za-z0-9_-]{32})", invite.text).group(1)
    newcomer = tg.make_user(7002, "Y tế mới")
    await tg.user_sends(newcomer, "alo")
    await tg.wait_for(to(7002), timeout=10)
    await tg.user_sends(newcomer, "alo alo")  # inside the hour: no answer
    joined = await tg.user_sends(newcomer, f"/start {code}")
    welcome = await tg.wait_for(
        lambda r: (
            r.chat_id == 7002
            and (r.message or {}).get("reply_to_message", {}).get("message_id") == joined["message_id"]
        ),
        timeout=10,
    )
    assert "SYT" in welcome.text or "Y tế" in welcome.text
    await quiet(tg, app)
    with app.read() as store:
        _ident, user = store.identity_and_user("telegram", "7002")
        assert user is not None and user.agency_code == "SYT"


async def test_a_member_flooding_is_told_once_and_everything_is_applied_and_answered(tg_world):
    tg, app = tg_world
    ca = tg.make_user(9101, "CA")
    for i in range(25):
        await tg.user_sends(ca, f"/tiendo NC-11 {i + 1}")
    await quiet(tg, app)
    texts = [r.text for r in tg.messages_to(9101)]
    assert sum(t.count("nhiều tin quá nhanh") for t in texts) == 1, texts  # told once
    assert sum(t.count("Đã ghi nhận tiến độ việc NC-11") for t in texts) == 25, texts  # every answer
    with app.read() as store:
        task = store.find_task(store.current_event(app.now()).id, "NC-11")
        assert task.percent == 25  # nothing the contact reported is lost
        n = store.s.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.task_id == task.id)).one()
        assert n >= 25
    assert tg.stats["429"] == 0


async def test_a_members_photo_is_fetched_and_kept(tg_world):
    tg, app = tg_world
    ca = tg.make_user(9101, "CA")
    card = await tg.user_sends(ca, "/nv NC-11")
    task_msg = await tg.wait_for(
        lambda r: (
            r.chat_id == 9101 and (r.message or {}).get("reply_to_message", {}).get("message_id") == card["message_id"]
        ),
        timeout=10,
    )
    await tg.user_sends_photo(ca, reply_to=task_msg, size=40_000)
    too_big = await tg.user_sends_document(ca, reply_to=task_msg, size=1_200_000, file_name="scan.pdf")
    refused = await tg.wait_for(
        lambda r: (
            r.chat_id == 9101
            and (r.message or {}).get("reply_to_message", {}).get("message_id") == too_big["message_id"]
        ),
        timeout=10,
    )
    assert "quá lớn" in refused.text
    await quiet(tg, app)
    with app.read() as store:
        kept = store.s.exec(select(Evidence)).all()
    assert [(e.kind, e.size) for e in kept] == [("photo", 40_000)]
    assert tg.stats["by_method"]["getFile"] == 1  # the too-large one was refused by its declared size


async def test_the_size_limit_holds_while_reading(unused_tcp_port):
    """A file that declares no size (chunked) is cut off at the limit, not read whole."""

    async def serve(request):
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(50):
            await resp.write(b"x" * 10_000)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/f", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    req = AiohttpRequest()
    await req.initialize()
    try:
        url = f"http://127.0.0.1:{unused_tcp_port}/f"
        assert await req.fetch_capped(url, 100_000) is None
        assert len(await req.fetch_capped(url, 600_000)) == 500_000
    finally:
        await req.shutdown()
        await runner.cleanup()


# -- Zalo photo URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://f20-zpc.zdn.vn/jpg/123/abc.jpg", True),
        ("https://zdn.vn/a.jpg", True),
        ("http://f20-zpc.zdn.vn/a.jpg", False),  # not https
        ("https://evilzdn.vn/a.jpg", False),  # not a subdomain
        ("https://zdn.vn.evil.example/a.jpg", False),
        ("https://user:pw@f1.zdn.vn/a.jpg", False),
        ("http://127.0.0.1:8080/health", False),  # loopback while the Bot API is not
        ("http://[::1]:8080/health", False),
        ("file:///etc/passwd", False),
        ("https://10.0.0.1/x", False),
    ],
)
def test_only_zalo_media_hosts_are_fetched(url, ok):
    """Zalo's media hosts over https; nothing else (no network is touched: only the check)."""
    policy = MediaPolicy(["zdn.vn", "zadn.vn"], "https://bot-api.zaloplatforms.com/bot")
    if ok:
        policy.check(url)
    else:
        with pytest.raises(MediaRefused):
            policy.check(url)


async def test_a_redirect_to_another_host_is_not_followed():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "f1.zdn.vn":
            return httpx.Response(302, headers={"location": "http://127.0.0.1:8080/health"})
        return httpx.Response(200, content=b"secret")

    policy = MediaPolicy(["zdn.vn"], "https://bot-api.zaloplatforms.com/bot")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(MediaRefused):
            await policy.fetch(http, "https://f1.zdn.vn/a.jpg", 1000)
    assert seen == ["https://f1.zdn.vn/a.jpg"]  # the internal address was never asked


async def test_a_zalo_photo_from_elsewhere_is_not_fetched_nor_kept(db_url, unused_tcp_port):
    hits = []

    async def internal(request):
        hits.append(request.path)
        return web.Response(body=b"\xff\xd8\xff\xe0" + bytes(1000), content_type="image/jpeg")

    server = web.Application()
    server.router.add_get("/health", internal)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    inside = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        await _zalo_photo_from_elsewhere(db_url, inside, hits)
    finally:
        await runner.cleanup()


async def _zalo_photo_from_elsewhere(db_url, inside, hits):
    async with ZaloDouble() as zd:
        app = zalo_app(db_url, zd)
        stack = await ZaloStack(app, zd, "webhook").start()
        try:
            coord, ca = await coordinator_and_contact(app, zd)
            await said(zd, ca, "/nv CB-23", "CB-23")
            await settled(zd, app)
            since = len(zd.sent)
            # Another service on this machine (here: a little server that would answer with an
            # image): its URL must not be fetched, though it is on loopback like the double.
            await zd.user_sends_event(ca, "message.image.received", photo_url=f"{inside}/health")
            answer = await zd.wait_for(lambda r: r.chat_id == "ca1", 10, since=since)
            assert "chưa nhận được" in answer.text and hits == []
            await zd.user_sends_photo(ca, size=30_000)  # the double's own (loopback) URL: fetched
            await zd.wait_for(lambda r: r.chat_id == "ca1" and "minh chứng" in r.text, 10, since=since + 1)
            await settled(zd, app)
            with app.db.read() as s:
                kept = s.exec(select(Evidence)).all()
            assert [e.size for e in kept] == [30_000]
        finally:
            await stack.stop()
            app.db.dispose()


def test_loopback_only_on_the_bot_apis_own_origin():
    policy = MediaPolicy(["zdn.vn"], "http://127.0.0.1:4000/bot")
    policy.check("http://127.0.0.1:4000/files/a.jpg")
    for url in ("http://127.0.0.1:8080/health", "http://localhost:4000/files/a.jpg", "http://127.0.0.2:4000/x"):
        with pytest.raises(MediaRefused):
            policy.check(url)
