"""The web board in a real browser: Debian's chromium driven by selenium, against a running
dutybot (Runtime: Telegram through the test double, the board on [server] listen:port).

Skips, saying why, only when no browser is installed (.ci/run installs chromium and
chromium-driver with apt-get when they are missing).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
from datetime import datetime, timedelta, timezone

import pytest

from bot.ratelimit import Limits
from bot.runtime import Runtime
from tests.conftest import make_app
from tests.doubles.telegram_api import TelegramDouble
from tests.helpers import add_user, seed_event

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
except ImportError:  # pragma: no cover - the test extra installs it
    selenium = None
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER and selenium),
    reason="no chromium + chromedriver (apt-get install chromium chromium-driver; .ci/run does it) or no selenium",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chrome():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1920,1080",
        "--lang=vi",
    ):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


@pytest.fixture(scope="module")
def driver():
    d = chrome()
    yield d
    d.quit()


@pytest.fixture
async def world(db_url, driver):
    """A running dutybot with the board on, an event starting in 20 days, and its people."""
    port = free_port()
    async with TelegramDouble(token="123:TEST", limits=None) as tg:
        app = make_app(
            db_url,
            lambda: datetime.now(timezone.utc),
            telegram={"token": "123:TEST", "base_url": tg.base_url, "base_file_url": tg.base_file_url},
            server={"listen": "127.0.0.1", "port": port},
            web={"enabled": True},
        )
        start = (datetime.now(timezone.utc) + timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
        event = seed_event(app, start)
        for name, role, agency, tg_id in (
            ("coord", "coordinator", None, "9002"),
            ("boss", "observer", None, "9003"),
            ("stc", "contact", "STC", "9103"),
            ("ca", "contact", "CA", "9101"),
        ):
            add_user(app, tg_id, role, agency, channel="telegram")
            with app.write() as store:
                u = next(u for u in store.users() if u.name == tg_id)
                u.name = name
        runtime = Runtime(app, limits=Limits.unlimited(), poll_timeout=1)
        await runtime.start()
        driver.delete_all_cookies()
        try:
            yield tg, app, event, driver
        finally:
            await runtime.stop()
            app.db.dispose()


def in_thread(fn, *args):
    return asyncio.to_thread(fn, *args)


def uid(app, name):
    with app.read() as store:
        return next(u.id for u in store.users() if u.name == name)


async def open_link(app, driver, name):
    from selenium.webdriver.common.by import By

    from bot.web.auth import make_link

    url = make_link(app, uid(app, name))
    await in_thread(driver.get, url)
    await in_thread(lambda: driver.find_element(By.ID, "signin").click())
    await wait(driver, lambda d: d.find_elements(By.ID, "live") and "/web/login" not in d.current_url)
    return url


async def wait(driver, cond, timeout=10):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return await in_thread(
        lambda: WebDriverWait(
            driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
        ).until(cond)
    )


def fetch_json(driver, path):
    """The export as the signed-in browser downloads it."""
    text = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(done);",
        path,
    )
    return json.loads(text)


def row_counts(driver, agency):
    """One agency's row, read in one script (the page may swap its content between two reads)."""
    return driver.execute_script(
        "const row = document.querySelector('tr[data-agency=\"' + arguments[0] + '\"]');"
        "if (!row) return null;"
        "return Object.fromEntries([...row.querySelectorAll('td[data-count]')]"
        "  .map(c => [c.dataset.count, parseInt(c.textContent, 10)]));",
        agency,
    )


async def test_coordinator_board_counts_live_update_and_deadline_change(world):
    from selenium.webdriver.common.by import By

    tg, app, event, driver = world
    await open_link(app, driver, "coord")
    data = await in_thread(fetch_json, driver, f"/web/export/{event.id}.json")
    for code in data["agencies"]:
        counts = await in_thread(row_counts, driver, code)
        mine = [t for t in data["tasks"] if t["lead"] == code]
        expected = {
            s: sum(t["status"] == s for t in mine)
            for s in ("todo", "waiting", "acknowledged", "in_progress", "blocked", "done", "cancelled")
        }
        expected["overdue"] = sum(t["overdue"] for t in mine)
        expected["total"] = sum(t["status"] != "cancelled" for t in mine)
        assert counts == expected, code

    # A contact reports in Telegram; the open board shows it within 5 s, without a reload.
    await in_thread(driver.execute_script, "window.__stillHere = 1;")
    before = (await in_thread(row_counts, driver, "STC"))["done"]
    await tg.user_sends(tg.make_user(9103, "Tài chính"), "/xong CB-05")
    await wait(driver, lambda d: row_counts(d, "STC")["done"] == before + 1, timeout=5)
    assert await in_thread(driver.execute_script, "return window.__stillHere;") == 1

    # The coordinator changes a deadline on the task page; the export's audit says so (channel web).
    cb06 = next(t for t in data["tasks"] if t["code"] == "CB-06")
    with app.read() as store:
        task_id = store.find_task(event.id, "CB-06").id
    await in_thread(driver.get, f"{_base(app)}/web/task/{task_id}")

    def fill(d):
        form = d.find_element(By.ID, "form-deadline")
        d.execute_script(
            "arguments[0].value = arguments[1];", form.find_element(By.NAME, "deadline"), "2026-12-30T08:30"
        )
        form.find_element(By.NAME, "reason").send_keys("đổi địa điểm tập dượt")
        form.find_element(By.TAG_NAME, "button").click()

    await in_thread(fill, driver)
    await wait(driver, lambda d: "done=deadline" in d.current_url)
    assert "30/12/2026 08:30" in await in_thread(lambda: driver.find_element(By.ID, "task-deadline").text)
    after = await in_thread(fetch_json, driver, f"/web/export/{event.id}.json")
    row = next(t for t in after["tasks"] if t["code"] == "CB-06")
    entry = row["audit"][-1]
    assert (entry["action"], entry["channel"], entry["actor"]) == ("deadline", "web", "coord")
    assert entry["detail"]["reason"] == "đổi địa điểm tập dượt"
    assert row["deadline"].startswith("2026-12-30T08:30") and row["original_deadline"] == cb06["original_deadline"]


async def test_contact_sees_only_their_agency_and_observer_finds_no_action(world):
    from selenium.webdriver.common.by import By

    _tg, app, event, driver = world
    await open_link(app, driver, "stc")
    rows = await in_thread(
        lambda: [r.get_attribute("data-agency") for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-agency]")]
    )
    assert rows == ["STC"]
    with app.read() as store:
        other = store.find_task(event.id, "CB-23")
    await in_thread(driver.get, f"{_base(app)}/web/task/{other.id}")
    assert other.title not in await in_thread(lambda: driver.page_source)

    await in_thread(driver.delete_all_cookies)
    await open_link(app, driver, "boss")
    with app.read() as store:
        task = store.find_task(event.id, "CB-05")
    for path in ("/web/", f"/web/task/{task.id}", "/web/agency/STC", "/web/show"):
        await in_thread(driver.get, _base(app) + path)
        forms = await in_thread(lambda: driver.find_elements(By.CSS_SELECTOR, 'form[action="/web/act"]'))
        assert forms == [], path
    await in_thread(driver.get, f"{_base(app)}/web/task/{task.id}")
    assert await in_thread(lambda: driver.find_element(By.ID, "read-only").text)


async def test_a_spent_link_is_refused_and_a_post_without_csrf_too(world):
    from selenium.webdriver.common.by import By

    _tg, app, event, driver = world
    url = await open_link(app, driver, "coord")
    await in_thread(driver.get, url)
    assert "đã được dùng" in await in_thread(lambda: driver.find_element(By.TAG_NAME, "main").text)

    with app.read() as store:
        task = store.find_task(event.id, "CB-06")

    def post_without_csrf(d):
        d.get(f"{_base(app)}/web/task/{task.id}")
        form = d.find_element(By.ID, "form-deadline")
        d.execute_script("arguments[0].querySelector('[name=csrf]').remove();", form)
        form.find_element(By.NAME, "reason").send_keys("không có mã")
        form.find_element(By.TAG_NAME, "button").click()

    await in_thread(post_without_csrf, driver)
    await wait(driver, lambda d: "Yêu cầu bị từ chối" in d.find_element(By.TAG_NAME, "main").text)
    with app.read() as store:
        assert store.find_task(event.id, "CB-06").deadline == task.deadline
        assert not [e for e in store.history(task.id) if e.channel == "web"]


def _base(app) -> str:
    return f"http://127.0.0.1:{app.settings.server.port}"


def test_the_page_has_no_inline_script_or_style():
    """The CSP allows no inline script or style: a template that used one would break silently."""
    from bot.web.render import HERE

    for path in (HERE / "templates").glob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text) and " style=" not in text, path.name
