"""Coordinator actions finish cleanly: ending an event, reassigning, rejecting, cancelling and restoring."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.render.export import event_export
from bot.scheduler import reminder_pass
from tests.helpers import Chat, seed_world


def _task(app, code):
    with app.read() as store:
        return store.find_task(store.current_event(app.now()).id, code)


def _buttons(replies):
    return [(b.label, b.data) for r in replies for row in r.buttons for b in row]


def test_ending_an_event_asks_first_and_events_then_shows_it_ended(app):
    seed_world(app)
    chat = Chat(app)
    ask = chat.send("coord", "/ketthuc 1")
    assert "Kết thúc sự kiện #1" in ask[0].text and "báo cáo tổng kết" in ask[0].text
    assert _buttons(ask) == [("Kết thúc", "co:end:1"), ("Chưa kết thúc", "co:keep:1")]
    with app.read() as store:
        assert store.get_event(1).ended_at is None  # nothing happens before the press
    assert "vẫn tiếp tục" in chat.say("coord", callback="co:keep:1")
    assert "đã triển khai" not in chat.say("coord", "/sukien") and "kết thúc" not in chat.say("coord", "/sukien")
    assert "chỉ dành cho cán bộ" in chat.say("boss", callback="co:end:1")  # an observer's press
    with app.read() as store:
        assert store.get_event(1).ended_at is None
    assert "Đã kết thúc sự kiện #1" in chat.say("coord", callback="co:end:1")
    assert "đã kết thúc trước đó" in chat.say("coord", callback="co:end:1")  # the second press
    assert "đã kết thúc trước đó" in chat.say("coord", callback="co:keep:1")
    assert "đã kết thúc" in chat.say("coord", "/sukien")


def test_reassign_moves_the_lead_out_of_supporting_and_clears_the_old_blocker(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("stc", "/vuong CB-05 chờ UBND bố trí vốn")
    before = _task(app, "CB-05")
    assert before.lead == "STC" and before.supporting == ["TDKT"] and before.status == "blocked"
    assert "Đã giao lại CB-05 cho TDKT" in chat.say("coord", "/giaolai CB-05 TDKT")
    t = _task(app, "CB-05")
    assert (t.lead, t.supporting, t.status, t.blocked_reason) == ("TDKT", [], "todo", None)
    assert "Chủ trì: TDKT · Phối hợp: —" in chat.say("coord", "/nv CB-05")
    assert "Việc đã thuộc đơn vị TDKT" in chat.say("coord", "/giaolai CB-05 TDKT")  # the second time
    chat.say("vpub", "/xong CB-01")
    assert "đã đóng" in chat.say("coord", "/giaolai CB-01 TDKT")  # a closed task stays with who did it
    assert _task(app, "CB-01").lead == "VPUB"


async def test_reject_takes_a_reason_that_reaches_the_contact(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("stc", "/giahan CB-05 25/5/2026 17h chờ hồ sơ bổ sung")
    assert "Cách dùng" in chat.say("coord", "/tuchoi 1")  # the reason is required
    assert "Cách dùng" in chat.say("coord", "/duyet 1 vì sao")  # approving takes none
    reply = chat.say("coord", "/tuchoi 1 đã gia hạn một lần, đề nghị làm bù giờ")
    assert "Đã từ chối" in reply and "đã gia hạn một lần" in reply
    assert "đã được xử lý trước đó" in chat.say("coord", "/tuchoi 1 lần nữa")
    await chat.deliver()
    told = [t for t in chat.channel.texts("stc") if "không được duyệt" in t]
    assert told and "Lý do: đã gia hạn một lần, đề nghị làm bù giờ" in told[-1]
    assert "đã gia hạn một lần" in chat.say("coord", "/nv CB-05")  # the history keeps the reason


async def test_cancel_and_restore_a_task(app, clock):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    await chat.deliver()
    chat.say("stc", "/tiendo CB-05 40")
    assert "Cách dùng" in chat.say("coord", "/huy CB-05")  # a reason is required
    assert "chỉ dành cho cán bộ" in chat.say("stc", "/huy CB-05 không cần")
    assert "Đã hủy việc CB-05" in chat.say("coord", "/huy CB-05 UBND tỉnh đã bố trí vốn trực tiếp")
    assert _task(app, "CB-05").status == "cancelled"
    assert "đã được hủy trước đó" in chat.say("coord", "/huy CB-05 lần nữa")
    await chat.deliver()
    assert any("hủy" in t and "bố trí vốn trực tiếp" in t for t in chat.channel.texts("stc"))
    assert "đã đóng (Đã hủy)" in chat.say("stc", "/xong CB-05")
    assert "CB-05" not in chat.say("stc", "/viec")
    # Past its deadline: not overdue, no reminder; the report shows it cancelled.
    clock.now = datetime(2026, 5, 5, 3, 0, tzinfo=timezone.utc)
    reminder_pass(app)
    before = len(chat.channel.texts("stc"))
    await chat.deliver()
    assert not any("CB-05" in t for t in chat.channel.texts("stc")[before:])
    assert "CB-05" not in chat.say("coord", "/quahan")
    with app.read() as store:
        row = next(t for t in event_export(store, store.get_event(1), clock.now)["tasks"] if t["code"] == "CB-05")
    assert row["status"] == "cancelled" and not row["overdue"]
    assert "Đã hủy" in chat.say("coord", "/nv CB-05")
    # Restored as it was (in progress, 40 %), chased again.
    restored = chat.say("coord", "/khoiphuc CB-05")
    assert "Đã khôi phục việc CB-05: Đang làm" in restored
    t = _task(app, "CB-05")
    assert (t.status, t.percent) == ("in_progress", 40)
    assert "không ở trạng thái đã hủy" in chat.say("coord", "/khoiphuc CB-05")
    chat.say("vpub", "/xong CB-01")
    assert "đã đóng (Xong)" in chat.say("coord", "/huy CB-01 không cần nữa")
    history = chat.say("coord", "/nv CB-05").split("Lịch sử", 1)[1]
    assert "hủy việc Đã hủy · lý do: UBND tỉnh đã bố trí vốn trực tiếp" in history and "khôi phục việc" in history
