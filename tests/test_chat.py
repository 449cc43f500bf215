"""Dialogs through the real router and outbox (fake channel): contacts, coordinators, strangers."""

from __future__ import annotations

from sqlmodel import select

from storage.models import AuditEntry, Outbox
from tests.helpers import Chat, seed_world


def _task(app, code):
    with app.read() as store:
        return store.find_task(store.current_event(app.now()).id, code)


def test_contact_marks_done_other_agency_refused_coordinator_sees_it(app):
    seed_world(app)
    chat = Chat(app)
    before = _task(app, "NC-11")

    # A contact of another agency can neither see nor touch CA's task.
    refused = chat.say("syt", "/xong NC-11")
    assert "Không tìm thấy việc NC-11" in refused
    assert _task(app, "NC-11").status == before.status == "todo"

    reply = chat.say("ca", "/xong NC-11 đã bố trí đủ lực lượng")
    assert "hoàn thành" in reply and "NC-11" in reply
    assert _task(app, "NC-11").status == "done"

    status = chat.say("coord", "/tinhhinh")
    assert "CA: 1/" in status

    detail = chat.say("coord", "/nv NC-11")
    assert "Lịch sử" in detail and "ca (fake)" in detail and "đã bố trí đủ lực lượng" in detail
    with app.read() as store:
        audit = list(store.s.exec(select(AuditEntry).where(AuditEntry.action == "status")))
    assert [(a.actor, a.detail["to"]) for a in audit] == [("ca", "done")]
    assert audit[0].message_ref.startswith("fake:ca:")


async def test_coordinators_are_told_and_done_unblocks_dependants(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("ca", "/xong CB-23")  # NC-03 (UBTP) and NC-11 (CA) depend only on CB-23
    await chat.deliver()
    assert any("CB-23" in t for t in chat.channel.texts("coord"))
    assert any("NC-11" in t and "có thể bắt đầu" in t for t in chat.channel.texts("ca"))


def test_contact_reports_progress_blocked_and_usage_errors_change_nothing(app):
    seed_world(app)
    chat = Chat(app)
    assert "Cách dùng" in chat.say("stc", "/tiendo CB-05")
    assert "Cách dùng" in chat.say("stc", "/tiendo CB-05 abc")
    assert "Phần trăm phải từ 0 đến 100" in chat.say("stc", "/tiendo CB-05 150")
    assert "Cách dùng" in chat.say("stc", "/vuong CB-05")
    assert _task(app, "CB-05").status == "todo"
    chat.say("stc", "/tiendo CB-05 40 đang thẩm định")
    t = _task(app, "CB-05")
    assert (t.status, t.percent) == ("in_progress", 40)
    chat.say("stc", "/vuong CB-05 chờ <b>UBND</b> bố trí vốn")
    t = _task(app, "CB-05")
    assert t.status == "blocked" and t.blocked_reason == "chờ <b>UBND</b> bố trí vốn"


async def test_user_text_is_escaped_in_html_messages(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("stc", '/vuong CB-05 <a href="http://evil">bấm</a> & chờ')
    await chat.deliver()
    with app.read() as store:
        rows = list(store.s.exec(select(Outbox).where(Outbox.chat_id == "coord")))
    assert rows and '<a href="http://evil">' not in rows[-1].text
    assert "&lt;a href" in rows[-1].text and "&amp; chờ" in rows[-1].text


def test_buttons_recheck_agency_and_observer_cannot_write(app):
    seed_world(app)
    chat = Chat(app)
    t = _task(app, "CB-05")
    assert "không thuộc đơn vị" in chat.say("ca", callback=f"t:{t.id}:done") or "Không tìm thấy" in chat.say(
        "ca", callback=f"t:{t.id}:done"
    )
    assert _task(app, "CB-05").status == "todo"
    assert "chỉ dành cho cán bộ" in chat.say("boss", "/doihan CB-05 1/6/2026 17h")
    assert "Trạng thái" in chat.say("boss", "/nv CB-05")  # observers can read
    replies = chat.send("stc", callback=f"t:{t.id}:ack")
    assert replies[0].edit and _task(app, "CB-05").status == "acknowledged"


def test_button_flows_ask_for_reason_and_percent(app):
    seed_world(app)
    chat = Chat(app)
    t = _task(app, "CB-05")
    assert "vướng gì" in chat.say("stc", callback=f"t:{t.id}:blk")
    chat.say("stc", "Sở chưa nhận được hồ sơ")
    assert _task(app, "CB-05").blocked_reason == "Sở chưa nhận được hồ sơ"
    assert "bao nhiêu phần trăm" in chat.say("stc", callback=f"t:{t.id}:prog")
    chat.say("stc", "65")
    assert _task(app, "CB-05").percent == 65


def test_unknown_people_learn_nothing(app):
    seed_world(app)
    chat = Chat(app)
    for text in ("/tinhhinh", "/nv CB-05", "/xong CB-05", "xong rồi", "/nosuch", "/help"):
        assert "chưa có quyền truy cập" in chat.say("stranger", text)
    assert "chưa có quyền truy cập" in chat.say("stranger", callback="t:1:done")
    assert _task(app, "CB-05").status == "todo"


def test_deadline_change_and_extension_flow(app):
    seed_world(app)
    chat = Chat(app)
    assert "Đã đổi hạn" in chat.say("coord", "/doihan CB-05 20/5/2026 17:00 theo chỉ đạo")
    t = _task(app, "CB-05")
    assert t.deadline_manual and t.deadline.isoformat() == "2026-05-20T10:00:00+00:00"
    reply = chat.say("stc", "/giahan CB-05 25/5/2026 17h chờ hồ sơ bổ sung")
    assert "đề nghị gia hạn #1" in reply
    assert "Đã duyệt" in chat.say("coord", "/duyet 1")
    t = _task(app, "CB-05")
    assert t.deadline.isoformat() == "2026-05-25T10:00:00+00:00"
    assert t.original_deadline != t.deadline
    assert "đã được xử lý" in chat.say("coord", "/duyet 1")


def test_english_by_lang(app):
    seed_world(app)
    chat = Chat(app)
    assert "Switched to English" in chat.say("ca", "/lang en")
    assert "tasks" in chat.say("ca", "/tasks").lower()
    assert "Wrong arguments" in chat.say("ca", "/done")


def test_preview_shows_what_an_agency_will_receive(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    out = chat.say("coord", "/xemtruoc CA")
    assert "tin sẽ gửi" in out and "CB-23" in out and "SYT" not in out.split("\n", 1)[1]
    assert "Không có đơn vị" in chat.say("coord", "/xemtruoc NOPE")
    assert "chỉ dành cho cán bộ" in chat.say("ca", "/xemtruoc")


async def test_chart_and_ending_an_event_sends_the_after_action_report(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("ca", "/xong CB-23")
    replies = chat.send("boss", "/bieudo")  # observers get reports
    assert replies[0].photo[:8] == b"\x89PNG\r\n\x1a\n" and len(replies[0].photo) > 20_000
    assert "chỉ dành cho cán bộ" in chat.say("ca", "/bieudo")
    assert "chỉ dành cho cán bộ" in chat.say("boss", "/ketthuc 1")  # observers cannot end events
    assert "Kết thúc sự kiện #1" in chat.say("coord", "/ketthuc 1")  # asks first
    assert "Đã kết thúc" in chat.say("coord", callback="co:end:1")
    assert "đã kết thúc trước đó" in chat.say("coord", "/ketthuc 1")
    await chat.deliver()
    report = chat.channel.texts("coord")
    assert any("CA" in t and "%" in t for t in report), report[-1:]
    with app.read() as store:
        assert store.get_event(1).ended_at is not None
        assert all(t.next_reminder_at is None for t in store.tasks(1))


async def test_one_person_on_two_apps_gets_each_message_once_where_they_chose(app):
    seed_world(app)
    chat = Chat(app)
    zalo = Chat(app, channel_name="zalo")
    made = chat.say("ca", "/lienket")
    code = made.split("/start ")[1].split()[0]
    assert "Đã liên kết" in zalo.say("ca-zalo", f"/start {code}")
    assert "đã được sử dụng" in zalo.say("someone", f"/start {code}")  # single use
    with app.read() as store:
        owner = store.identity("fake", "ca").user_id
        assert store.identity("zalo", "ca-zalo").user_id == owner  # one person, two accounts
    assert "zalo" in zalo.say("ca-zalo", "/kenh zalo")
    chat.say("coord", "/nhac CA")
    await chat.deliver()
    await zalo.deliver()
    assert any("nhắc" in t for t in zalo.channel.texts("ca-zalo"))
    assert not any("nhắc" in t for t in chat.channel.texts("ca"))
    assert "Chọn nơi nhận tin" in chat.say("ca", "/kenh viber")
