"""Inputs are refused the same way everywhere: percents, unreadable dates, dates in the past."""

from __future__ import annotations

import pytest

from bot.cli import main
from tests.helpers import Chat, seed_world


def _task(app, code):
    with app.read() as store:
        return store.find_task(store.current_event(app.now()).id, code)


def test_a_percent_outside_0_to_100_is_named(app):
    seed_world(app)
    chat = Chat(app)
    for text in ("/tiendo CB-05 150", "/tiendo CB-05 -5", "/tiendo CB-05 101%"):
        assert "Phần trăm phải từ 0 đến 100" in chat.say("stc", text), text
    assert "Cách dùng" in chat.say("stc", "/tiendo CB-05 nhiều")  # not a number at all: the usage line
    t = _task(app, "CB-05")
    assert (t.status, t.percent) == ("todo", 0)
    # The same answer to "bao nhiêu phần trăm?" and the question stays open for the real answer.
    chat.say("stc", callback=f"t:{t.id}:prog")
    assert "Phần trăm phải từ 0 đến 100" in chat.say("stc", "150")
    chat.say("stc", "60")
    assert _task(app, "CB-05").percent == 60


@pytest.mark.parametrize(
    "who, text",
    [
        ("coord", "/doihan CB-05 hômkia lý do gì đó"),
        ("coord", "/doihan CB-05 32/13/2026"),
        ("stc", "/giahan CB-05 someday chờ hồ sơ"),
        ("coord", "/taosukien ceremony 31/2/2027 Lễ thử"),
        ("coord", "/doingay 1 someday"),
    ],
)
def test_an_unreadable_date_gets_the_formats_that_work(app, who, text):
    seed_world(app)
    chat = Chat(app)
    reply = chat.say(who, text)
    assert "Không hiểu ngày giờ" in reply and "mai 8h" in reply and "11/06 8h" in reply, reply
    assert not _task(app, "CB-05").deadline_manual


def test_a_deadline_or_start_in_the_past_is_refused_in_chat(app):
    seed_world(app)  # now: 01/05/2026 09:00 in Hà Nội
    chat = Chat(app)
    before = _task(app, "CB-05").deadline
    assert "đã qua" in chat.say("coord", "/doihan CB-05 20/4/2026 17h theo chỉ đạo")
    assert _task(app, "CB-05").deadline == before
    # CB-01 is overdue (due in March): a "later" date that is still past is refused too.
    assert "đã qua" in chat.say("vpub", "/giahan CB-01 10/4/2026 17h cần thêm thời gian")
    assert "đã qua" in chat.say("coord", "/taosukien ceremony 1/1/2026 07:00 Lễ cũ")
    assert "đã qua" in chat.say("coord", "/doingay 1 1/1/2026 07:00")
    with app.read() as store:
        assert len(store.list_events()) == 1 and store.get_event(1).start.year == 2026
        assert store.get_event(1).start.month == 6
    assert "Đã đổi hạn" in chat.say("coord", "/doihan CB-05 20/5/2026 17h theo chỉ đạo")


def test_the_cli_needs_allow_past_for_a_start_in_the_past(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DUTYBOT_STORAGE__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["event", "create", "ceremony", "--start", "11/6/2020 07:00"]) == 2
    err = capsys.readouterr().err
    assert "in the past" in err and "--allow-past" in err
    assert main(["event", "list"]) == 0 and capsys.readouterr().out == ""
    assert main(["event", "create", "ceremony", "--start", "11/6/2020 07:00", "--allow-past"]) == 0
    event_id = capsys.readouterr().out.strip()
    assert main(["event", "move", event_id, "--start", "12/6/2020 07:00"]) == 2
    assert "--allow-past" in capsys.readouterr().err
    assert main(["event", "move", event_id, "--start", "12/6/2020 07:00", "--allow-past"]) == 0
    assert main(["event", "move", event_id, "--start", "12/6/2099 07:00"]) == 0
