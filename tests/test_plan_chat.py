"""A plan document sent in chat, and the formal report from chat: the real router on real SQLite and
PostgreSQL (fake channel), the Telegram double over real HTTP (file in, buttons, file out), and the
local chat's `/file PATH`."""

from __future__ import annotations

import io
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import docx
import pytest

from bot.app import add_admin
from bot.channels.base import Attachment
from bot.i18n import strip_html
from tests.conftest import make_app
from tests.helpers import Chat, add_user, seed_event, seed_world
from tests.plan_docs import docx_bytes

PLAN = Path(__file__).parent / "data" / "ke-hoach-le-ky-niem-80-nam-ttls-quang-tri.docx"


@pytest.fixture
def papp(db_url, clock, tmp_path):
    a = make_app(db_url, clock, general={"imports_dir": str(tmp_path / "imports")})
    yield a
    a.db.dispose()


def _doc(data: bytes, name: str = "ke-hoach.docx") -> Attachment:
    return Attachment(kind="document", file_ref="f1", size=len(data), filename=name, data=data)


def _events(app) -> list:
    with app.read() as store:
        return store.list_events()


def _buttons(replies) -> list[str]:
    return [b.data for r in replies for row in r.buttons for b in row]


def test_coordinator_imports_a_plan_creates_the_event_once_and_gets_the_template(papp):
    seed_world(papp)
    chat = Chat(papp)
    replies = chat.send("coord", attachment=_doc(PLAN.read_bytes(), PLAN.name))
    text = strip_html(replies[0].text)
    assert "30 nhiệm vụ" in text and "31 cơ quan" in text and "26/07/2027 20:00" in text
    assert "Cần kiểm tra 3 dòng" in text and "dòng 22: không có thời hạn («Theo chương trình»)" in text
    assert [b.label for b in replies[0].buttons[0]] == ["Tạo sự kiện", "Gửi tệp mẫu"]
    create, send_file = _buttons(replies)
    before = len(_events(papp))

    made = chat.say("coord", callback=create)
    assert "Đã tạo sự kiện" in made and "30 việc (chưa triển khai)" in made
    events = _events(papp)
    assert len(events) == before + 1
    event = events[-1]
    assert event.launched_at is None and event.start == datetime(2027, 7, 26, 13, 0, tzinfo=timezone.utc)
    with papp.read() as store:
        assert len(store.tasks(event.id)) == 30

    again = chat.say("coord", callback=create)  # a second press: the same event, not another
    assert f"sự kiện #{event.id}" in again and len(_events(papp)) == before + 1
    other = chat.say("admin", callback=create)  # another coordinator pressing the same button
    assert f"sự kiện #{event.id}" in other and len(_events(papp)) == before + 1

    sent = chat.send("coord", callback=send_file)
    name, data = sent[0].document
    assert name.endswith(".toml") and tomllib.loads(data.decode())["template"]["start"] == "2027-07-26 20:00"


def test_caption_is_the_start_and_a_bad_caption_changes_nothing(papp, tmp_path):
    seed_world(papp)
    chat = Chat(papp)
    rows = [["1", "Việc", "Sở Y tế", "", "Trước ngày 10/5/2027", ""]]
    data = docx_bytes(rows, intro=["KẾ HOẠCH", "Tổ chức Lễ X"])  # no "Thời gian:" line
    need = chat.say("coord", attachment=_doc(data))
    assert "không ghi thời gian tổ chức" in need and not (tmp_path / "imports").exists()
    bad = chat.say("coord", "hôm nào đó", attachment=_doc(data))
    assert "Không đọc được ngày bắt đầu «hôm nào đó»" in bad and not (tmp_path / "imports").exists()
    replies = chat.send("coord", "19/5/2027 07:00", attachment=_doc(data))
    assert "19/05/2027 07:00" in strip_html(replies[0].text)
    chat.say("coord", callback=_buttons(replies)[0])
    with papp.read() as store:
        task = store.tasks(_events(papp)[-1].id)[0]
    assert task.deadline == datetime(2027, 5, 10, 10, 0, tzinfo=timezone.utc)  # 17:00 local


@pytest.mark.parametrize("name, data", [("trong.docx", b""), ("rac.xlsx", b"PK\x03\x04 rac"), ("thu.docx", None)])
def test_unreadable_plans_are_refused_and_nothing_is_saved(papp, tmp_path, name, data):
    seed_world(papp)
    chat = Chat(papp)
    data = docx_bytes([], head=None) if data is None else data
    before = len(_events(papp))
    reply = chat.say("coord", attachment=_doc(data, name))
    assert f"Không đọc được kế hoạch trong tệp {name}" in reply and "Chưa lưu gì" in reply
    assert not (tmp_path / "imports").exists() and len(_events(papp)) == before


def test_who_may_import(papp):
    seed_world(papp)
    chat = Chat(papp)
    data = PLAN.read_bytes()
    assert "Chỉ cán bộ điều phối" in chat.say("boss", attachment=_doc(data, PLAN.name))  # observer
    # a contact's document is not a plan import (it is evidence for a task, or a question which one)
    assert "Đã đọc kế hoạch" not in chat.say("ca", attachment=_doc(data, PLAN.name))
    create = _buttons(chat.send("coord", attachment=_doc(data, PLAN.name)))[0]
    before = len(_events(papp))
    for who in ("boss", "ca"):
        refused = chat.send(who, callback=create)
        assert len(_events(papp)) == before and "Đã tạo" not in refused[0].text
    assert "không còn hiệu lực" in chat.say("coord", callback="plan:c:zz")
    assert "Không còn bản nhập này" in chat.say("coord", callback="plan:c:" + "0" * 16)
    # in a group a coordinator's file is not imported: the group does not see the plan's details
    assert "Đã đọc kế hoạch" not in chat.say("coord", attachment=_doc(data, PLAN.name), chat_type="group")


def test_report_docx_from_chat(papp):
    seed_world(papp)
    chat = Chat(papp)
    for text in ("/baocao docx", "/report word"):
        reply = chat.send("coord", text)[0]
        name, data = reply.document
        assert name.endswith(".docx") and "Nghị định 30/2020/NĐ-CP" in reply.text
        body = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
        assert "BÁO CÁO" in body and "Tổng số nhiệm vụ được phân công: 58 nhiệm vụ." in body
    assert chat.send("boss", "/baocao docx 1")[0].document[0] == "bao-cao-su-kien-1.docx"  # observers read
    assert chat.send("coord", "/baocao")[0].document[0].endswith(".xlsx")  # unchanged
    assert "/baocao [docx]" in chat.say("coord", "/baocao docx xlsx")
    assert chat.send("ca", "/baocao docx")[0].document is None
    assert chat.send("coord", "/baocao docx", chat_type="group")[0].document is None


# -- over Telegram, through the double ----------------------------------------------------------
TOKEN = "123456:TESTtokenTESTtokenTESTtokenTESTtok"


@pytest.mark.telegram_double
async def test_telegram_file_in_buttons_file_out(sqlite_url, unused_tcp_port, tmp_path):
    from bot.ratelimit import Limits
    from bot.runtime import Runtime
    from tests.doubles.telegram_api import TelegramDouble

    async with TelegramDouble(token=TOKEN, limits=None) as tg:
        app = make_app(
            sqlite_url,
            lambda: datetime.now(timezone.utc),
            telegram={"token": TOKEN, "base_url": tg.base_url, "base_file_url": tg.base_file_url},
            server={"port": unused_tcp_port},
            general={"imports_dir": str(tmp_path / "imports")},
        )
        seed_event(app, datetime.now(timezone.utc) + timedelta(days=30))
        add_admin(app, "telegram", "9001", "Admin")
        add_user(app, "9002", "coordinator", channel="telegram")
        rt = Runtime(app, limits=Limits.unlimited(), poll_timeout=1)
        await rt.start()
        try:
            coord = tg.make_user(9002, "Điều phối")
            since = len(tg.sent)
            await tg.user_sends_document(
                coord,
                content=PLAN.read_bytes(),
                file_name=PLAN.name,
                mime_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            )
            read = await tg.wait_for(
                lambda r: r.chat_id == 9002 and "Đã đọc kế hoạch" in (r.text or ""), timeout=15, since=since
            )
            assert "30 nhiệm vụ" in read.text
            create, send_file = read.callback_data()
            q = await tg.user_presses(coord, read, create)
            await tg.wait_for_answer(q, timeout=10)
            await tg.wait_for(lambda r: r.chat_id == 9002 and "Đã tạo sự kiện" in (r.text or ""), timeout=10)
            q = await tg.user_presses(coord, read, send_file)
            await tg.wait_for_answer(q, timeout=10)
            toml = await tg.wait_for(
                lambda r: r.method == "sendDocument" and r.chat_id == 9002, timeout=10, since=since
            )
            assert toml.message["document"]["file_name"].endswith(".toml")
            since = len(tg.sent)
            await tg.user_sends(coord, "/baocao docx")
            report = await tg.wait_for(
                lambda r: r.method == "sendDocument" and r.chat_id == 9002, timeout=15, since=since
            )
            assert report.message["document"]["file_name"].endswith(".docx")
            assert len(_events(app)) == 2 and tg.unanswered_callbacks() == [] and tg.validation_errors == []
        finally:
            await rt.stop()


# -- the local chat ------------------------------------------------------------------------------
async def test_local_chat_file_command(sqlite_url, clock, tmp_path, monkeypatch):
    from bot.channels.console import ConsoleChannel
    from bot.router import Router

    monkeypatch.chdir(tmp_path)  # the console keeps the files it receives under ./out
    app = make_app(sqlite_url, clock, general={"imports_dir": str(tmp_path / "imports")})
    seed_event(app)
    add_user(app, "dieuphoi", "coordinator", channel="console")
    out = io.StringIO()
    console = ConsoleChannel(app, Router(app), out=out)
    for line in ("/as dieuphoi", f"/file {PLAN}", "1", "2", "/file /khong/co/tep.docx", "/file"):
        await console.handle_line(line)
    text = out.getvalue()
    assert "Đã đọc kế hoạch" in text and "[1] Tạo sự kiện  [2] Gửi tệp mẫu" in text
    assert "Đã tạo sự kiện #2" in text
    saved = next((tmp_path / "out").glob("*.toml"))
    assert f"Đã lưu tệp: {Path('out') / saved.name}" in text
    # The terminal's own lines speak its language (Vietnamese by default).
    assert "Không đọc được tệp /khong/co/tep.docx" in text and "Cách dùng: /file ĐƯỜNG_DẪN" in text


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_spreadsheet_plan_in_chat(papp, kind):
    from tests.plan_docs import csv_bytes, xlsx_bytes
    from tests.test_import import ROWS

    seed_world(papp)
    chat = Chat(papp)
    data = (xlsx_bytes if kind == "xlsx" else csv_bytes)(ROWS)
    replies = chat.send("coord", "19/5/2027 07:00" if kind == "csv" else "", attachment=_doc(data, f"kh.{kind}"))
    text = strip_html(replies[0].text)
    assert "8 nhiệm vụ" in text and "19/05/2027 07:00" in text and "Cần kiểm tra 2 dòng" in text
    assert "nhiều cơ quan chủ trì; CA chủ trì, BCHQS phối hợp" in text
    chat.say("coord", callback=_buttons(replies)[0])
    with papp.read() as store:
        assert len(store.tasks(_events(papp)[-1].id)) == 8


def test_two_coordinators_pressing_create_at_once_make_one_event(papp):
    """On PostgreSQL the check-then-create ran side by side and could make two events."""
    import threading

    seed_world(papp)
    add_user(papp, "coord2", "coordinator")
    chat = Chat(papp)
    create = _buttons(chat.send("coord", attachment=_doc(PLAN.read_bytes(), PLAN.name)))[0]
    before = len(_events(papp))
    barrier, answers = threading.Barrier(6), []

    def press(who: str) -> None:
        barrier.wait()
        answers.append(Chat(papp).say(who, callback=create))

    threads = [threading.Thread(target=press, args=(w,)) for w in ["coord", "coord2", "admin"] * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 6 and len(_events(papp)) == before + 1
    assert sum("Đã tạo sự kiện" in a for a in answers) == 1
