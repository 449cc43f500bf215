"""Defects found by acceptance testing as a new user would meet them (branch qa)."""

from __future__ import annotations

import io
import json

from bot.cli import main
from tests.helpers import Chat, seed_world


def _end_event_1(app) -> Chat:
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    assert "Kết thúc sự kiện #1" in chat.say("coord", "/ketthuc 1")
    assert "Đã kết thúc" in chat.say("coord", callback="co:end:1")
    return chat


def test_preview_of_an_ended_event_promises_nothing(app):
    seed_world(app)
    chat = _end_event_1(app)
    # Ending stops every reminder, so the preview must not list hundreds of messages to come.
    out = chat.say("coord", "/xemtruoc")
    assert "đã kết thúc" in out and "tin sẽ gửi" not in out
    assert "tin sẽ gửi" not in chat.say("coord", "/xemtruoc CA")


def test_cli_event_list_and_simulate_know_an_ended_event(sqlite_app, sqlite_url, monkeypatch, capsys):
    seed_world(sqlite_app)
    _end_event_1(sqlite_app)
    monkeypatch.setenv("DUTYBOT_STORAGE__URL", sqlite_url)
    capsys.readouterr()
    assert main(["event", "list"]) == 0
    assert capsys.readouterr().out.split("\t")[2] == "ended"
    assert main(["event", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["ended"] is True
    assert main(["simulate", "1", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


async def test_local_chat_names_the_web_board_in_vietnamese(app):
    from bot.app import start_local_board

    out = io.StringIO()
    runner = await start_local_board(app, out)
    if runner is not None:
        await runner.cleanup()
    line = out.getvalue()
    assert "bảng theo dõi" in line.lower() and "Web board" not in line and "web board" not in line


def test_a_day_without_a_time_keeps_the_ceremony_hour(app):
    seed_world(app)
    chat = Chat(app)
    with app.read() as store:
        hour = store.get_event(1).start.astimezone(app.tz).strftime("%H:%M")
    assert hour != "17:00"
    # /taosukien with a bare day starts at the template's hour, like `dutybot event create`.
    made = chat.say("coord", "/taosukien ceremony 20/6/2027 Tổng duyệt")
    assert "20/06/2027 07:00" in made, made
    # /doingay with a bare day keeps the event's own hour.
    assert f"{hour}" in chat.say("coord", "/doingay 1 25/6/2027")
    with app.read() as store:
        assert store.get_event(1).start.astimezone(app.tz).strftime("%d/%m/%Y %H:%M") == f"25/06/2027 {hour}"


def test_a_done_task_keeps_its_deadline(app):
    seed_world(app)
    chat = Chat(app)
    assert "hoàn thành" in chat.say("ca", "/xong CB-23")
    with app.read() as store:
        before = store.find_task(1, "CB-23").deadline
    # Moving it after the fact would turn a late completion into an on-time one in the reports.
    out = chat.say("coord", "/doihan CB-23 20/12/2027 10:00 cho đẹp số liệu")
    assert "đã đóng" in out, out
    with app.read() as store:
        assert store.find_task(1, "CB-23").deadline == before


def test_local_chat_lists_a_removed_person_as_removed(app):
    from bot.channels.console import ConsoleChannel
    from bot.router import Router
    from tests.helpers import add_user

    seed_world(app)  # the agencies
    add_user(app, "dieuphoi", "coordinator", channel="console")
    gone = add_user(app, "ca", "contact", agency="CA", channel="console")
    out = io.StringIO()
    console = ConsoleChannel(app, Router(app), out=out)
    with app.write() as store:
        store.user(gone.id).active = False
    assert "đã gỡ" in dict((h, label) for h, label, _ in console.users())["ca"]
    assert "đã gỡ" not in dict((h, label) for h, label, _ in console.users())["dieuphoi"]


def test_every_help_line_says_what_the_command_does(app):
    seed_world(app)
    chat = Chat(app)
    for who in ("ca", "coord", "boss"):
        for lang in ("vi", "en"):
            chat.say(who, f"/lang {lang}")
            lines = chat.say(who, "/help").splitlines()[1:]
            # "• /cmd ARGS: what it does", the same shape on every line (no "—" variant, no bare usage)
            assert lines and all(": " in line and " — " not in line for line in lines), (who, lang, lines)


def test_an_invite_without_a_link_ends_with_its_last_line(app):
    seed_world(app)
    out = Chat(app).say("coord", "/moi CA")
    assert "/start " in out and out == out.rstrip(), repr(out[-40:])
