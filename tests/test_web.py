"""The web board over real HTTP (aiohttp's test server and client) on SQLite and PostgreSQL:
sign-in links, sessions, CSRF, who sees and does what, evidence, headers, /web and the CLI."""

from __future__ import annotations

import json
import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.render.export import event_export
from bot.web import auth
from bot.web.server import mount
from storage.models import Evidence, Outbox
from tests.conftest import make_app
from tests.helpers import Chat, seed_world


@pytest.fixture
async def board(db_url, clock):
    app = make_app(db_url, clock, web={"enabled": True})
    event = seed_world(app)
    web_app = web.Application()
    mount(web_app, app)
    client = TestClient(TestServer(web_app))
    await client.start_server()
    try:
        yield app, event, client
    finally:
        await client.close()
        app.db.dispose()


def user_id(app, name: str) -> int:
    with app.read() as store:
        return next(u.id for u in store.users() if u.name == name)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def sign_in(app, client, name: str) -> str:
    """Signs `name` in through a fresh link; returns the CSRF token of the session."""
    token = token_of(auth.make_link(app, user_id(app, name)))
    resp = await client.post(f"/web/login/{token}", allow_redirects=False)
    assert resp.status == 303
    page = await (await client.get("/web/")).text()
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def task_of(app, event, code: str):
    with app.read() as store:
        return store.find_task(event.id, code)


async def test_a_sign_in_link_works_once_and_sets_a_strict_http_only_cookie(board):
    app, _event, client = board
    url = auth.make_link(app, user_id(app, "coord"))
    assert url.startswith("http://127.0.0.1:8080/web/login/")
    path = "/web/login/" + token_of(url)
    first = await client.get(path)  # what a chat app's link preview does: it must not spend the link
    assert first.status == 200 and "Set-Cookie" not in first.headers and 'id="signin"' in await first.text()
    resp = await client.post(path, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/web/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/web" in cookie and "Secure" not in cookie
    assert (await client.get("/web/")).status == 200
    other = "/web/login/" + token_of(auth.make_link(app, user_id(app, "boss")))
    for forged_headers in ({"Origin": "https://evil.example"}, {"Origin": "null", "Sec-Fetch-Site": "cross-site"}):
        forged = await client.post(other, headers=forged_headers, allow_redirects=False)
        assert forged.status == 403 and "Set-Cookie" not in forged.headers  # and the link is not spent:
    assert (await client.get(other)).status == 200
    again = await client.post(path, allow_redirects=False)
    assert again.status == 410 and "đã được dùng" in await again.text()
    assert (await client.get(path)).status == 410


async def test_cookies_are_secure_behind_https(db_url, clock):
    app = make_app(db_url, clock, web={"enabled": True, "public_url": "https://board.example.gov.vn/"})
    seed_world(app)
    web_app = web.Application()
    mount(web_app, app)
    async with TestClient(TestServer(web_app)) as client:
        url = auth.make_link(app, user_id(app, "coord"))
        assert url.startswith("https://board.example.gov.vn/web/login/")
        resp = await client.post("/web/login/" + token_of(url), allow_redirects=False)
        assert "Secure" in resp.headers["Set-Cookie"]
    app.db.dispose()


async def test_an_expired_or_unknown_link_is_refused(board):
    app, _event, client = board
    path = "/web/login/" + token_of(auth.make_link(app, user_id(app, "coord"), minutes=10))
    app.clock.advance(minutes=11)
    assert (await client.post(path, allow_redirects=False)).status == 410
    assert (await client.get("/web/login/nonsense")).status == 404
    assert (await client.get("/web/")).status == 401


async def test_without_a_session_every_page_says_how_to_get_a_link_and_shows_no_data(board):
    app, event, client = board
    t = task_of(app, event, "CB-05")
    for path in (
        "/web/",
        f"/web/task/{t.id}",
        "/web/show",
        "/web/timeline",
        "/web/agency/CA",
        f"/web/export/{event.id}.json",
        f"/web/live?event={event.id}",
        "/web/downloads",
    ):
        resp = await client.get(path)
        body = await resp.text()
        assert resp.status == 401, path
        assert "/web" in body and "dutybot web link" in body
        assert "CB-05" not in body and t.title not in body and "data-agency" not in body
        assert resp.headers["Cache-Control"] == "private, no-store"


async def test_a_session_ends_when_idle_and_when_the_person_is_removed(board):
    app, _event, client = board
    await sign_in(app, client, "coord")
    app.clock.advance(hours=7, minutes=59)
    assert (await client.get("/web/")).status == 200  # in use: the idle clock restarts
    app.clock.advance(hours=8, minutes=1)
    assert (await client.get("/web/")).status == 401
    await sign_in(app, client, "coord")
    with app.write() as store:
        store.user(user_id(app, "coord")).active = False
    assert (await client.get("/web/")).status == 401
    with app.write() as store:  # reactivated: the ended session does not come back
        store.user(user_id(app, "coord")).active = True
    assert (await client.get("/web/")).status == 401


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(board):
    app, event, client = board
    csrf = await sign_in(app, client, "coord")
    t = task_of(app, event, "CB-05")
    form = {"action": "deadline", "task": str(t.id), "deadline": "2026-06-01T09:00", "reason": "x"}
    for bad in ({}, {"csrf": "forged"}, {"csrf": ""}):
        resp = await client.post("/web/act", data={**form, **bad}, allow_redirects=False)
        assert resp.status == 403 and "chưa có gì thay đổi" in await resp.text()
    assert task_of(app, event, "CB-05").deadline == t.deadline
    ok = await client.post("/web/act", data={**form, "csrf": csrf}, allow_redirects=False)
    assert ok.status == 303


async def test_the_coordinator_changes_a_deadline_audited_with_channel_web(board):
    app, event, client = board
    csrf = await sign_in(app, client, "coord")
    t = task_of(app, event, "CB-05")
    resp = await client.post(
        "/web/act",
        allow_redirects=False,
        data={
            "csrf": csrf,
            "action": "deadline",
            "task": str(t.id),
            "deadline": "2026-06-01T09:00",
            "reason": "chờ kinh phí",
            "next": f"/web/task/{t.id}",
        },
    )
    assert resp.status == 303 and resp.headers["Location"] == f"/web/task/{t.id}?done=deadline"
    moved = task_of(app, event, "CB-05")
    assert moved.deadline.isoformat() == "2026-06-01T02:00:00+00:00" and moved.original_deadline == t.original_deadline
    with app.read() as store:
        entry = store.history(t.id)[-1]
        data = event_export(store, event, app.now())
        told = [o for o in store.s.exec(select(Outbox)) if o.task_id == t.id]
    assert (entry.action, entry.channel, entry.actor, entry.detail["reason"]) == (
        "deadline",
        "web",
        "coord",
        "chờ kinh phí",
    )
    assert told, "the agency is told, as after /doihan"
    assert any(a["channel"] == "web" for a in next(x for x in data["tasks"] if x["code"] == "CB-05")["audit"])
    page = await (await client.get(f"/web/task/{t.id}?done=deadline")).text()
    assert "Đã đổi hạn" in page and "01/06/2026 09:00" in page
    # No reason, or a date that is no date: refused in the viewer's language, nothing written.
    for form in ({"deadline": "2026-06-02T09:00", "reason": ""}, {"deadline": "bogus", "reason": "r"}):
        resp = await client.post("/web/act", data={"csrf": csrf, "action": "deadline", "task": str(t.id), **form})
        assert resp.status == 400
    assert task_of(app, event, "CB-05").deadline == moved.deadline


async def test_board_counts_equal_the_json_export(board):
    app, event, client = board
    await sign_in(app, client, "boss")
    with app.read() as store:
        data = event_export(store, event, app.now())
    page = await (await client.get(f"/web/?event={event.id}")).text()
    for code in data["agencies"]:
        row = re.search(rf'<tr data-agency="{code}".*?</tr>', page, re.S).group(0)
        cells = dict(re.findall(r'data-count="(\w+)">(\d+)<', row))
        mine = [x for x in data["tasks"] if x["lead"] == code]
        for status in ("todo", "waiting", "acknowledged", "in_progress", "blocked", "done", "cancelled"):
            assert int(cells[status]) == sum(x["status"] == status for x in mine), (code, status)
        assert int(cells["overdue"]) == sum(x["overdue"] for x in mine)
    export = await client.get(f"/web/export/{event.id}.json")
    assert export.status == 200 and export.headers["Cache-Control"] == "private, no-store"
    assert len(json.loads(await export.read())["tasks"]) == len(data["tasks"])
    for fmt, magic in (("xlsx", b"PK"), ("docx", b"PK"), ("png", b"\x89PNG"), ("csv", b"code,")):
        got = await client.get(f"/web/export/{event.id}.{fmt}")
        assert got.status == 200 and (await got.read()).removeprefix(b"\xef\xbb\xbf").startswith(magic), fmt


async def test_a_contact_sees_and_updates_only_their_agency(board):
    app, event, client = board
    csrf = await sign_in(app, client, "stc")
    page = await (await client.get("/web/")).text()
    assert set(re.findall(r'<tr data-agency="(\w+)"', page)) == {"STC"}
    own, other = task_of(app, event, "CB-05"), task_of(app, event, "CB-23")
    assert own.lead == "STC" and other.lead == "CA" and "STC" not in (other.supporting or [])
    assert (await client.get(f"/web/task/{own.id}")).status == 200
    refused = await client.get(f"/web/task/{other.id}")
    assert refused.status == 404 and other.title not in await refused.text()
    assert (await client.get("/web/agency/CA")).status == 404
    assert (await client.get(f"/web/export/{event.id}.json")).status == 403
    ok = await client.post(
        "/web/act",
        allow_redirects=False,
        data={"csrf": csrf, "action": "status", "task": str(own.id), "kind": "blocked", "reason": "chờ phân bổ"},
    )
    assert ok.status == 303 and task_of(app, event, "CB-05").status == "blocked"
    for form in (
        {"action": "status", "task": str(other.id), "kind": "done"},
        {"action": "deadline", "task": str(own.id), "deadline": "2026-06-01T09:00", "reason": "x"},
        {"action": "remind", "agency": "CA", "event": str(event.id)},
    ):
        resp = await client.post("/web/act", data={"csrf": csrf, **form})
        assert resp.status in (400, 403), form
    assert task_of(app, event, "CB-23").status == other.status


async def test_an_observer_reads_everything_and_can_do_nothing(board):
    app, event, client = board
    csrf = await sign_in(app, client, "boss")
    t = task_of(app, event, "CB-05")
    for path in ("/web/", f"/web/task/{t.id}", "/web/show", "/web/timeline", "/web/agency/STC"):
        resp = await client.get(path)
        assert resp.status == 200 and 'name="action"' not in await resp.text(), path
    resp = await client.post(
        "/web/act",
        data={"csrf": csrf, "action": "deadline", "task": str(t.id), "deadline": "2026-06-01T09:00", "reason": "x"},
    )
    assert resp.status == 403 and task_of(app, event, "CB-05").deadline == t.deadline
    with app.read() as store:
        assert not [e for e in store.history(t.id) if e.channel == "web"]


async def test_evidence_goes_only_to_sessions_that_may_see_its_task(board):
    app, event, client = board
    t = task_of(app, event, "CB-05")
    with app.write() as store:
        pic = store.add(
            Evidence(
                task_id=t.id,
                kind="photo",
                filename="a.png",
                mime="image/png",
                size=8,
                data=b"\x89PNG\r\n\x1a\n",
                at=app.now(),
            )
        )
        page = store.add(
            Evidence(
                task_id=t.id,
                kind="document",
                filename="biên bản.html",
                mime="text/html",
                size=20,
                data=b"<script>alert(1)</script>",
                at=app.now(),
            )
        )
    await sign_in(app, client, "coord")
    got = await client.get(f"/web/evidence/{pic.id}")
    assert got.status == 200 and got.headers["Content-Type"] == "image/png"
    assert got.headers["Cache-Control"] == "private, no-store"
    html_file = await client.get(f"/web/evidence/{page.id}")
    assert html_file.headers["Content-Type"] == "application/octet-stream"
    assert html_file.headers["Content-Disposition"].startswith("attachment")
    assert "bi%C3%AAn%20b%E1%BA%A3n.html" in html_file.headers["Content-Disposition"]
    assert f"/web/evidence/{pic.id}" in await (await client.get(f"/web/task/{t.id}")).text()
    client.session.cookie_jar.clear()
    await sign_in(app, client, "syt")
    assert (await client.get(f"/web/evidence/{pic.id}")).status == 404


async def test_the_live_stamp_moves_when_a_task_changes(board):
    app, event, client = board
    await sign_in(app, client, "coord")
    before = json.loads(await (await client.get(f"/web/live?event={event.id}")).text())["stamp"]
    Chat(app).say("stc", "/xong CB-05")
    after = json.loads(await (await client.get(f"/web/live?event={event.id}")).text())["stamp"]
    assert before and after != before


async def test_language_switch_and_run_of_show(board):
    app, _event, client = board
    await sign_in(app, client, "coord")
    resp = await client.get("/web/lang/en?next=/web/show", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/web/show"
    page = await (await client.get("/web/show")).text()
    assert "Run-of-show" in page and 'class="cue' in page
    assert (await client.get("/web/lang/en?next=//evil.example", allow_redirects=False)).headers["Location"] == "/web/"


def test_web_command_gives_the_asker_a_link_in_private_only(app):
    seed_world(app)
    app.settings.web.enabled = True
    chat = Chat(app)
    text = chat.say("coord", "/web")
    assert re.search(r"http://127\.0\.0\.1:8080/web/login/[\w-]{40,}", text) and "10 phút" in text
    assert "/web/login/" in chat.say("ca", "/bangtin")
    assert "nhóm" in chat.say("coord", "/web", chat_type="group") and "/web/login/" not in chat.say(
        "coord", "/web", chat_type="group"
    )
    app.settings.web.enabled = False
    assert "chưa bật" in chat.say("coord", "/web")


def test_cli_web_link(db_url, clock, monkeypatch, capsys):
    from bot.cli import main

    app = make_app(db_url, clock)
    seed_world(app)
    uid = user_id(app, "coord")
    monkeypatch.setenv("DUTYBOT_STORAGE__URL", db_url)
    assert main(["web", "link", "fake:coord", "--minutes", "5"]) == 0
    assert "/web/login/" in capsys.readouterr().out
    assert main(["web", "link", str(uid)]) == 0
    assert main(["web", "link", "fake:nobody"]) == 2
    assert main(["web", "link", "coord"]) == 2
    assert main(["web", "link", str(uid), "--minutes", "0"]) == 2
    with app.write() as store:
        store.user(uid).active = False
    assert main(["web", "link", str(uid)]) == 2
    app.db.dispose()


async def test_the_coordinator_cancels_and_restores_a_task_and_the_observer_cannot(board):
    app, event, client = board
    t = task_of(app, event, "CB-06")
    csrf = await sign_in(app, client, "boss")
    refused = await client.post("/web/act", data={"csrf": csrf, "action": "cancel", "task": str(t.id), "reason": "x"})
    assert refused.status == 403 and task_of(app, event, "CB-06").status == t.status
    client.session.cookie_jar.clear()
    csrf = await sign_in(app, client, "coord")
    no_reason = await client.post("/web/act", data={"csrf": csrf, "action": "cancel", "task": str(t.id), "reason": ""})
    assert no_reason.status == 400 and task_of(app, event, "CB-06").status == t.status
    ok = await client.post(
        "/web/act",
        allow_redirects=False,
        data={"csrf": csrf, "action": "cancel", "task": str(t.id), "reason": "gộp vào CB-05"},
    )
    assert ok.status == 303 and task_of(app, event, "CB-06").status == "cancelled"
    page = await (await client.get(f"/web/task/{t.id}")).text()
    assert 'value="restore"' in page and "gộp vào CB-05" in page
    back = await client.post(
        "/web/act", allow_redirects=False, data={"csrf": csrf, "action": "restore", "task": str(t.id)}
    )
    assert back.status == 303 and task_of(app, event, "CB-06").status == t.status
    with app.read() as store:
        assert [(e.action, e.channel) for e in store.history(t.id)][-2:] == [("cancelled", "web"), ("restored", "web")]
