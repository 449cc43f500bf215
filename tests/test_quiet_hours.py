"""A launch or a broadcast at night waits for the morning unless the coordinator marks it urgent."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.helpers import Chat, seed_world

NIGHT = datetime(2026, 5, 1, 15, 0, tzinfo=timezone.utc)  # 22:00 in Hà Nội
MORNING = datetime(2026, 5, 2, 0, 0, tzinfo=timezone.utc)  # 07:00


def _buttons(replies):
    return [(b.label, b.data) for r in replies for row in r.buttons for b in row]


async def test_a_broadcast_at_night_waits_until_seven(app, clock):
    seed_world(app)
    chat = Chat(app)
    clock.now = NIGHT
    replies = chat.send("coord", "/thongbao Họp giao ban lúc 8h sáng mai")
    assert "giờ nghỉ" in replies[0].text and "02/05/2026 07:00" in replies[0].text
    assert _buttons(replies) == [("Gửi ngay", "co:now:broadcast")]
    await chat.deliver()
    assert not any("Họp giao ban" in t for t in chat.channel.texts("ca"))
    clock.now = MORNING
    await chat.deliver()
    assert any("Họp giao ban" in t for t in chat.channel.texts("ca"))


async def test_an_urgent_broadcast_goes_at_once(app, clock):
    seed_world(app)
    chat = Chat(app)
    clock.now = NIGHT
    replies = chat.send("coord", "/thongbao! Khẩn: đổi địa điểm tổng duyệt")
    assert "giờ nghỉ" not in replies[0].text and not _buttons(replies)
    await chat.deliver()
    assert any("đổi địa điểm" in t for t in chat.channel.texts("ca"))


async def test_send_now_releases_what_waits_and_a_second_press_says_so(app, clock):
    seed_world(app)
    chat = Chat(app)
    clock.now = NIGHT
    chat.send("coord", "/broadcast Họp giao ban lúc 8h")
    assert "chỉ dành cho cán bộ" in chat.say("boss", callback="co:now:broadcast")
    await chat.deliver()
    assert not any("Họp giao ban" in t for t in chat.channel.texts("ca"))
    assert "Đã gửi ngay" in chat.say("coord", callback="co:now:broadcast")
    await chat.deliver()
    assert any("Họp giao ban" in t for t in chat.channel.texts("ca"))
    assert "Không còn tin nào đang chờ" in chat.say("coord", callback="co:now:broadcast")


async def test_a_launch_at_night_waits_and_by_day_goes_at_once(app, clock):
    seed_world(app)
    chat = Chat(app)
    clock.now = NIGHT
    replies = chat.send("coord", "/trienkhai 1")
    assert "Đã triển khai" in replies[0].text and "07:00" in replies[0].text
    assert _buttons(replies) == [("Gửi ngay", "co:now:launch")]
    await chat.deliver()
    assert not any("CB-23" in t for t in chat.channel.texts("ca"))
    clock.now = MORNING
    await chat.deliver()
    assert any("CB-23" in t for t in chat.channel.texts("ca"))


async def test_by_day_nothing_waits_and_no_button(app, clock):
    seed_world(app)
    chat = Chat(app)  # 09:00 in Hà Nội
    replies = chat.send("coord", "/trienkhai! 1")
    assert not _buttons(replies) and "giờ nghỉ" not in replies[0].text
    replies = chat.send("coord", "/thongbao Họp lúc 14h")
    assert not _buttons(replies)
    await chat.deliver()
    texts = chat.channel.texts("ca")
    assert any("CB-23" in t for t in texts) and any("Họp lúc 14h" in t for t in texts)


def test_the_cli_launch_at_night_is_held_unless_urgent(tmp_path, monkeypatch, capsys):
    import time_machine

    from bot.cli import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DUTYBOT_STORAGE__URL", url)
    with time_machine.travel(NIGHT, tick=False):
        for start in ("11/6/2026 07:00", "12/6/2026 07:00"):
            assert main(["event", "create", "ceremony", "--start", start]) == 0
        capsys.readouterr()
        assert main(["event", "launch", "1"]) == 0
        assert "held until 02/05/2026 07:00" in capsys.readouterr().out
        assert main(["event", "launch", "2", "--urgent"]) == 0
        assert "held" not in capsys.readouterr().out
