"""What people read is right and Vietnamese: /toila, /trogiup, history, durations, /xemtruoc, /viec."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from bot.scheduler import reminder_pass
from tests.helpers import Chat, seed_world


def test_whoami_says_who_role_and_agency(app):
    seed_world(app)
    chat = Chat(app)
    me = chat.say("ca2", "/toila")
    assert "Đồng chí là ca2" in me and "đầu mối đơn vị" in me and "(CA)" in me and "đầu mối phó" in me
    assert "whoami" not in me
    assert "vai trò: cán bộ điều phối" in chat.say("coord", "/whoami")
    assert "vai trò: lãnh đạo theo dõi" in chat.say("boss", "/toila")
    chat.say("boss", "/lang en")
    assert "You are boss · role: observer" in chat.say("boss", "/whoami")
    assert "• /toila: xem đồng chí là ai" in chat.say("ca", "/trogiup")


def test_help_is_one_line_per_command_of_the_users_role(app):
    seed_world(app)
    chat = Chat(app)
    contact = chat.say("ca", "/trogiup").splitlines()
    assert "• /xong MÃ_VIỆC [ghi chú]: báo việc đã hoàn thành" in contact
    assert not any("/giaolai" in line or "/tinhhinh" in line for line in contact)
    coord = chat.say("coord", "/help").splitlines()
    assert any(line.startswith("• /giaolai") and "giao việc cho đơn vị khác" in line for line in coord)
    assert not any("/xong" in line or "/viec " in line for line in coord)  # contacts' commands are not listed
    observer = chat.say("boss", "/help").splitlines()
    assert any("/tinhhinh" in line for line in observer) and not any("/doihan" in line for line in observer)
    assert all(line.startswith("• ") for line in contact[1:] + coord[1:] + observer[1:])


def test_an_observer_is_told_a_contact_command_is_for_contacts(app):
    seed_world(app)
    chat = Chat(app)
    refused = chat.say("boss", "/xong CB-05")
    assert "dành cho đầu mối đơn vị" in refused and "lãnh đạo theo dõi" in refused
    assert "cán bộ điều phối" not in refused


def test_history_shows_local_times_and_the_reasons(app, clock):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/doihan CB-05 20/5/2026 17:00 theo chỉ đạo của UBND")
    chat.say("stc", "/vuong CB-05 chờ hồ sơ từ Sở KHĐT")
    card = chat.say("coord", "/nv CB-05")
    history = card.split("Lịch sử", 1)[1]
    assert "+00:00" not in history and "T10:00" not in history
    assert "hạn mới 20/05/2026 17:00" in history and "theo chỉ đạo của UBND" in history
    assert "Vướng · lý do: chờ hồ sơ từ Sở KHĐT" in history
    assert "01/05/2026 09:00" in history  # 02:00 UTC is 09:00 in Hà Nội


async def test_reminders_say_days_and_hours_in_words(app, clock):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    await chat.deliver()
    clock.now = datetime(2026, 5, 2, 10, 5, tzinfo=timezone.utc)  # CB-05 is due 03/05 17:00 local
    reminder_pass(app)
    clock.now = datetime(2026, 5, 3, 8, 5, tzinfo=timezone.utc)
    reminder_pass(app)
    await chat.deliver()
    texts = "\n".join(chat.channel.texts("stc"))
    assert "Còn 1 ngày đến hạn việc CB-05" in texts and "Còn 2 giờ đến hạn việc CB-05" in texts
    assert not re.search(r"Còn \d+[dhm]\b", texts)


def test_preview_is_in_vietnamese_with_local_dates(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    out = chat.say("coord", "/xemtruoc CA")
    lines = out.splitlines()[1:]
    assert lines and all(re.match(r"\d\d/\d\d/\d{4} \d\d:\d\d · ", line) for line in lines if "·" in line)
    assert "nhắc hạn" in out and "đầu mối" in out
    assert "reminder" not in out and "contact" not in out and "dutybot" not in out
    everything = chat.say("coord", "/xemtruoc")
    assert "/xemtruoc MÃ_ĐƠN_VỊ" in everything and "simulate" not in everything


def test_tasks_lists_every_supported_task(app):
    seed_world(app)
    chat = Chat(app)
    out = chat.say("tdkt", "/viec")
    line = next(line for line in out.splitlines() if line.startswith("Phối hợp"))
    count = int(re.search(r"Phối hợp (\d+) việc", line).group(1))
    assert count == 18 and len(line.split(": ", 1)[1].split(", ")) == count
    full = chat.say("tdkt", "/viec tatca")
    assert "Phối hợp (18)" in full


def test_sizes_are_in_megabytes(app):
    from bot.channels.base import Attachment

    seed_world(app)
    chat = Chat(app)
    chat.say("stc", "/nv CB-05")
    big = app.settings.evidence.max_bytes + 1
    photo = Attachment(kind="photo", file_ref="f1", size=big, data=b"x", filename="a.jpg")
    out = chat.say("stc", "ảnh", attachment=photo)
    assert "MB" in out and "byte" not in out
