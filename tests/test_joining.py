"""Invites never silently change who someone is, and nobody is left out (issue 12 items 2 and 3).

Conversations through the real router and outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bot.app import SystemActor
from tests.helpers import Chat, add_user, seed_world
from workflows import invites
from workflows.ports import Ctx


def _invite(app, target, deputy=False):
    with app.write() as store:
        code, _ = invites.create_invite(
            store, Ctx(actor=SystemActor(), channel="cli", now=app.now()), target, ttl=timedelta(days=7), deputy=deputy
        )
    return code


def _who(app, handle):
    with app.read() as store:
        u = store.user(store.identity("fake", handle).user_id)
        return u.role, u.agency_code


def _used(app, code) -> bool:
    with app.read() as store:
        return store.invite_by_hash(invites.hash_code(code)).used_at is not None


def test_a_coordinator_opening_an_agency_invite_stays_coordinator_and_the_code_stays_valid(app):
    seed_world(app)
    chat = Chat(app)
    code = _invite(app, "BTC")
    answer = chat.say("coord", f"/start {code}")
    assert "điều phối" in answer and "đầu mối BTC" in answer and "không đổi vai trò" in answer
    assert _who(app, "coord") == ("coordinator", None) and not _used(app, code)
    assert "Cách dùng" not in chat.say("coord", "/tinhhinh")  # the coordinator's commands still work
    assert "BTC" in chat.say("newbtc", f"/start {code}")  # the person it was meant for can still use it
    assert _who(app, "newbtc") == ("contact", "BTC")


def test_an_admin_is_never_demoted_by_any_code(app):
    seed_world(app)
    chat = Chat(app)
    for target in ("CA", "observer", "coordinator"):
        code = _invite(app, target)
        answer = chat.say("admin", f"/start {code}")
        assert "quản trị" in answer and ("không đổi vai trò" in answer or "không cần mã" in answer)
        assert _who(app, "admin") == ("admin", None) and not _used(app, code)


def test_a_contact_opening_another_agencys_code_is_asked_and_nothing_changes_until_confirmed(app):
    seed_world(app)
    chat = Chat(app)
    code = _invite(app, "SYT")
    (asked,) = chat.send("ca", f"/start {code}")
    assert "đang là" in asked.text and "đầu mối CA" in asked.text and "đầu mối SYT" in asked.text
    labels = [b.label for row in asked.buttons for b in row]
    assert labels == ["Chuyển sang đầu mối SYT", "Giữ nguyên"]
    assert _who(app, "ca") == ("contact", "CA") and not _used(app, code)

    keep = asked.buttons[0][1].data
    assert "Giữ nguyên" in chat.say("ca", callback=keep) and _who(app, "ca") == ("contact", "CA")
    assert not _used(app, code)
    assert "không còn hiệu lực" in chat.say("ca", callback=keep)  # answered once: a second press is stale

    (asked,) = chat.send("ca", f"/start {code}")  # changes their mind
    switch = asked.buttons[0][0].data
    assert chat.send("syt", callback=switch)[0].text != asked.text  # someone else's press does nothing
    assert _who(app, "ca") == ("contact", "CA") and not _used(app, code)
    joined = chat.say("ca", callback=switch)
    assert "SYT" in joined and _who(app, "ca") == ("contact", "SYT") and _used(app, code)
    assert "đã được sử dụng" in chat.say("other", f"/start {code}")


def test_a_contact_opening_their_own_agencys_code_again_is_told_so(app):
    seed_world(app)
    chat = Chat(app)
    code = _invite(app, "CA")
    assert "đã là đầu mối CA" in chat.say("ca", f"/start {code}") and not _used(app, code)


async def test_launch_names_agencies_without_a_contact_and_a_late_joiner_gets_everything(app):
    seed_world(app)
    add_user(app, "qs", "contact", "QS")
    chat = Chat(app)
    launched = chat.say("coord", "/trienkhai 1")
    assert "Chưa có đầu mối" in launched
    missing = launched.split("Chưa có đầu mối:")[1]
    assert "BTG" in missing and "BTC" in missing and "CA," not in missing and " SYT" not in missing
    await chat.deliver()

    # Supporting agencies get each task they support, marked, without status buttons.
    qs = chat.channel.sent["qs"]
    assert "phối hợp" in qs[0].text  # the summary
    supporting = [r for r in qs if r.text.startswith("🤝")]
    assert {"NC-11", "CB-23"} <= {c for r in supporting for c in ("NC-11", "CB-23") if c in r.text}
    assert all(r.buttons == [] for r in supporting)

    # A BTG contact joins after launch: the agency's summary and one message per open task.
    code = _invite(app, "BTG")
    welcome = chat.say("btg", f"/start {code}")
    assert "BTG" in welcome and "tóm tắt" in welcome
    await chat.deliver()
    got = chat.channel.sent["btg"]
    assert "chủ trì" in got[0].text and "phối hợp" in got[0].text  # the summary first
    with app.read() as store:
        tasks = store.tasks(store.current_event(app.now()).id)
    led = {t.code for t in tasks if t.lead == "BTG"}
    helped = {t.code for t in tasks if "BTG" in (t.supporting or []) and t.lead != "BTG"}
    assigned = [r for r in got if r.text.startswith("📌")]
    assert {c for c in led if any(c in r.text for r in assigned)} == led and len(assigned) == len(led)
    assert all(r.buttons for r in assigned)
    marked = [r for r in got if r.text.startswith("🤝")]
    assert len(marked) == len(helped) and all(not r.buttons for r in marked)

    # "You can start now" reaches the supporting agency too, marked as supporting.
    chat.say("ca", "/xong CB-23")  # NC-11 (CA, supported by QS) waited only for CB-23
    await chat.deliver()
    assert any(
        "NC-11" in r.text and "phối hợp" in r.text and "có thể bắt đầu" in r.text for r in chat.channel.sent["qs"]
    )


def test_cli_launch_names_agencies_without_a_contact(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("DUTYBOT_STORAGE__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["event", "create", "ceremony", "--start", "11/6/2030 07:00"]) == 0
    event_id = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["event", "launch", event_id]) == 0
    out = capsys.readouterr().out
    assert "no contact yet" in out and "CA" in out.split("no contact yet")[1]
