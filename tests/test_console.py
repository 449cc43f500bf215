"""The local chat shows what the others get (issue 12 item 14): files saved under ./out/ with their
path printed, a stranger to try /start CODE, its own lines in Vietnamese first, --no-demo says how
to add people, and the demo's blocked reasons fit the agency."""

from __future__ import annotations

import io
import re

from bot.app import run_console
from bot.channels.console import ConsoleChannel
from bot.demo import block_reasons, ensure_demo
from bot.router import Router
from tests.conftest import make_app
from workflows.spec import load_template, resolve_template


async def _session(console: ConsoleChannel, out: io.StringIO, *lines: str) -> str:
    start = out.tell()
    for line in lines:
        await console.handle_line(line)
    out.seek(start)
    text = out.read()
    out.seek(0, io.SEEK_END)
    return text


async def test_files_are_saved_and_a_stranger_joins_with_a_code(sqlite_url, clock, tmp_path):
    app = make_app(sqlite_url, clock)
    ensure_demo(app)
    out = io.StringIO()
    console = ConsoleChannel(app, Router(app), out=out, out_dir=tmp_path / "out")

    said = await _session(console, out, "/baocao")
    assert "Hãy chọn vai trước" in said  # the terminal's own lines: Vietnamese first

    said = await _session(console, out, "/as dieuphoi", "/baocao", "/bieudo")
    assert "Đồng chí là dieuphoi" in said
    saved = re.findall(r"Đã lưu tệp: (\S+)", said)
    assert len(saved) == 2 and saved[0].endswith(".xlsx") and saved[1].endswith(".png")
    assert (tmp_path / "out" / "dutybot-event-1.xlsx").read_bytes()[:2] == b"PK"
    assert all((tmp_path / "out").joinpath(p.rsplit("/", 1)[-1]).exists() for p in saved)

    code = re.search(r"[A-Za-z0-9_-]{32}", await _session(console, out, "/moi QS")).group(0)
    said = await _session(console, out, "/as nguoila", f"/start {code}", "/viec")
    assert "người bot chưa biết" in said and "/start" in said
    assert "QS" in said and "Chào mừng" in said
    said = await _session(console, out, "/users")
    assert "nguoila" in said
    app.db.dispose()


async def test_no_demo_says_how_to_add_people(sqlite_url, clock, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(sqlite_url, clock)
    out = io.StringIO()
    await run_console(app, stream=io.StringIO("/users\n/quit\n"), out=out, seed_demo=False)
    text = out.getvalue()
    assert "Chưa có ai" in text and "dutybot user add-admin console:" in text and "/start MÃ_MỜI" in text
    app.db.dispose()


def test_demo_blocked_reasons_fit_the_agency():
    template = load_template(resolve_template("ceremony"))
    from datetime import datetime, timezone

    from workflows.plan import plan_tasks

    for t in plan_tasks(template, datetime(2030, 6, 11, tzinfo=timezone.utc)):
        for reason in block_reasons(t):
            assert not (t.lead == "STC" and "Tài chính" in reason), (t.code, reason)  # nobody waits on itself
            assert f"từ {t.lead} " not in reason
            if "phối hợp" in reason:
                assert any(a in reason for a in t.supporting)
