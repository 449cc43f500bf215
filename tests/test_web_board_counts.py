"""The board's figures on a busy event (every status, dependencies met and unmet, more overdue,
blocked and extension requests than a list shows), on SQLite and PostgreSQL: the counts per
agency and the totals equal the JSON export, and a list's "+N more" tells the rest."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update

from bot.render.export import event_export
from bot.web import auth
from bot.web.model import LIST_LIMIT
from bot.web.server import mount
from storage.models import ExtensionRequest, Task
from tests.conftest import make_app
from tests.helpers import seed_world

STATUSES = ("todo", "waiting", "acknowledged", "in_progress", "blocked", "done", "cancelled")


def busy(app, event) -> None:
    """Tasks spread over every stored status by their number; the clock well past many deadlines."""
    with app.read() as store:
        tasks = sorted(store.tasks(event.id), key=lambda t: t.number)
    cycle = ("done", "todo", "blocked", "in_progress", "acknowledged", "done", "cancelled", "todo", "acknowledged")
    with app.db.write() as s:
        for t in tasks:
            status = cycle[t.number % len(cycle)]
            late = t.number % 3 == 0
            s.execute(
                update(Task)
                .where(Task.id == t.id)
                .values(
                    status=status,
                    blocked_reason="chờ kinh phí" if status == "blocked" else None,
                    completed_at=(t.deadline + timedelta(hours=5 if late else -5)) if status == "done" else None,
                )
            )
        for t in tasks[: LIST_LIMIT + 7]:  # more waiting requests than the list shows
            s.add(
                ExtensionRequest(
                    task_id=t.id,
                    requested_deadline=t.deadline + timedelta(days=2),
                    previous_deadline=t.deadline,
                    reason="xin thêm",
                    created_at=app.now(),
                )
            )
    app.clock.now = max(t.deadline for t in tasks) - timedelta(days=1)


@pytest.fixture
async def busy_board(db_url, clock):
    app = make_app(db_url, clock, web={"enabled": True})
    event = seed_world(app)
    busy(app, event)
    web_app = web.Application()
    mount(web_app, app)
    client = TestClient(TestServer(web_app))
    await client.start_server()
    try:
        yield app, event, client
    finally:
        await client.close()
        app.db.dispose()


async def test_a_busy_board_equals_the_export_and_counts_what_its_lists_leave_out(busy_board):
    app, event, client = busy_board
    with app.read() as store:
        boss = next(u.id for u in store.users() if u.name == "boss")
        data = event_export(store, event, app.now())
    resp = await client.post("/web/login/" + auth.make_link(app, boss).rsplit("/", 1)[1], allow_redirects=False)
    assert resp.status == 303
    page = await (await client.get(f"/web/?event={event.id}")).text()
    tasks = data["tasks"]
    seen = {s: sum(x["status"] == s for x in tasks) for s in STATUSES}
    assert all(seen.values()), seen  # the fixture really has every status, `waiting` included
    for code in data["agencies"]:
        row = re.search(rf'<tr data-agency="{code}".*?</tr>', page, re.S).group(0)
        cells = dict(re.findall(r'data-count="(\w+)">(\d+)<', row))
        mine = [x for x in tasks if x["lead"] == code]
        for status in STATUSES:
            assert int(cells[status]) == sum(x["status"] == status for x in mine), (code, status)
        assert int(cells["overdue"]) == sum(x["overdue"] for x in mine), code
        assert int(cells["total"]) == sum(x["status"] != "cancelled" for x in mine), code
    overdue = sum(x["overdue"] for x in tasks)
    assert overdue > LIST_LIMIT
    assert re.search(r'id="kpi-overdue">(\d+)<', page).group(1) == str(overdue)
    assert re.search(r'id="kpi-blocked">(\d+)<', page).group(1) == str(seen["blocked"])
    done = re.search(r'id="kpi-done">(\d+)/(\d+)<', page).groups()
    assert done == (str(seen["done"]), str(len(tasks) - seen["cancelled"]))

    def section(name: str) -> str:
        return re.search(rf'<section class="card" id="{name}">.*?</section>', page, re.S).group(0)

    assert section("overdue-list").count("<li ") == LIST_LIMIT
    assert f"{overdue - LIST_LIMIT}" in section("overdue-list").rsplit("</ul>", 1)[1]
    # Extension requests: the figure is all that wait, not the thirty the list shows.
    ext = section("extension-list")
    assert ext.count("<li ") == LIST_LIMIT and "7" in ext.rsplit("</ul>", 1)[1]
    assert re.search(r'<div class="kpi"><b>(\d+)</b><span>[^<]*</span></div>\s*</section>', page).group(1) == str(
        LIST_LIMIT + 7
    )


@pytest.fixture
async def plain_board(db_url, clock):
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


async def test_a_contacts_timeline_knows_another_agencys_task_they_wait_on_is_done(plain_board):
    from tests.helpers import Chat

    app, event, client = plain_board
    # CB-05 (STC) waits on CB-04 (TDKT): STC's contact does not see CB-04, but its being done counts.
    assert "hoàn thành" in Chat(app).say("tdkt", "/xong CB-04")
    with app.read() as store:
        stc = next(u.id for u in store.users() if u.name == "stc")
        cb05 = store.find_task(event.id, "CB-05")
    app.clock.now = min(app.clock.now, cb05.deadline - timedelta(hours=1))  # not overdue: its own state shows
    resp = await client.post("/web/login/" + auth.make_link(app, stc).rsplit("/", 1)[1], allow_redirects=False)
    assert resp.status == 303
    page = await (await client.get(f"/web/timeline?event={event.id}")).text()
    dot = re.search(rf'<a href="/web/task/{cb05.id}"><rect class="dot st-(\w+)"', page).group(1)
    assert dot == "todo"
    assert "CB-04" not in page  # and the contact still does not see TDKT's task
    agency = await (await client.get(f"/web/agency/STC?event={event.id}")).text()
    assert re.search(r'<tr data-task="CB-05".*?pill st-(\w+)', agency, re.S).group(1) == "todo"
