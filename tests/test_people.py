"""Removing people: coordinators' /xoa, replacing an agency's contact, re-inviting, the CLI, config admins.

A removed person is refused everywhere at once (commands, old buttons, free text), keeps
their history, gets nothing more, and a new invite brings them back.
"""

from __future__ import annotations

import re

from sqlmodel import select

from bot.app import add_admin, ensure_config_admins
from storage.models import AuditEntry, Outbox, User
from tests.conftest import make_app
from tests.helpers import Chat, add_user, seed_world
from workflows import people

CODE = re.compile(r"/start ([A-Za-z0-9_-]{32})")


def _user(app, name) -> User:
    with app.read() as store:
        return next(u for u in store.users() if u.name == name)


def _remove(chat, who, person_id) -> str:
    """`/xoa #N` asks first; pressing "Gỡ" removes (what the tests below mean by removing)."""
    ask = chat.send(who, f"/xoa #{person_id}")
    yes = [b.data for r in ask for row in r.buttons for b in row if b.label == "Gỡ"]
    if not yes:
        return "\n".join(r.text for r in ask)  # refused before asking
    return chat.say(who, callback=yes[0])


def _audit(app, action) -> list[AuditEntry]:
    with app.read() as store:
        return list(store.s.exec(select(AuditEntry).where(AuditEntry.action == action)))


def _outbox_to(app, user_id) -> list[Outbox]:
    with app.read() as store:
        return list(store.s.exec(select(Outbox).where(Outbox.user_id == user_id)))


async def test_a_removed_contact_is_refused_everywhere_keeps_history_and_gets_nothing_more(app):
    seed_world(app)
    chat = Chat(app)
    ca = _user(app, "ca")
    assert "hoàn thành" in chat.say("ca", "/xong CB-23 đã duyệt")
    button = next(b.data for row in chat.send("ca", "/nv NC-11")[0].buttons for b in row if b.data.endswith(":ack"))
    chat.say("coord", "/nhac NC-11")  # a reminder waiting for ca (primary contact of CA)
    # "NC-11 can start now", "NC-03 (CA supports it) can start now" and the reminder
    waiting = len(_outbox_to(app, ca.id))
    assert waiting == 3 and {r.status for r in _outbox_to(app, ca.id)} == {"pending"}

    listing = chat.say("coord", "/xoa CA")
    assert f"#{ca.id} · ca" in listing and "ca2" in listing
    done = _remove(chat, "coord", ca.id)
    assert "Đã gỡ ca" in done and f"{waiting} tin" in done and "/moi CA" in done

    # Nothing waiting for them is sent; they are refused whatever they try.
    assert [r.status for r in _outbox_to(app, ca.id)] == ["cancelled"] * waiting
    await chat.deliver()
    assert chat.channel.texts("ca") == []
    for attempt in ("/viec", "/xong NC-11", "/start", "/trogiup", "xong rồi"):
        assert "đã được gỡ" in chat.say("ca", attempt), attempt
    pressed = chat.send("ca", callback=button)[0]
    assert "đã được gỡ" in pressed.text and pressed.toast
    with app.read() as store:
        assert store.find_task(store.current_event(app.now()).id, "NC-11").status == "todo"
        assert not people.is_active(store, ca.id) and people.is_active(store, _user(app, "ca2").id)

    # History kept: the task's trail still names them; the removal is audited once.
    assert "ca (fake)" in chat.say("coord", "/nv CB-23")
    assert "đã được gỡ từ trước" in _remove(chat, "coord", ca.id)
    [removed] = _audit(app, "user_removed")
    assert removed.actor == "coord" and removed.detail["user"] == ca.id and removed.detail["agency"] == "CA"

    # New messages for CA go to the deputy, never to the removed contact.
    chat.say("coord", "/nhac NC-11")
    await chat.deliver()
    assert chat.channel.texts("ca") == [] and any("NC-11" in t for t in chat.channel.texts("ca2"))


def test_removing_asks_first_keep_changes_nothing_and_a_second_press_is_harmless(app):
    seed_world(app)
    chat = Chat(app)
    ca, admin = _user(app, "ca"), _user(app, "admin")
    [ask] = chat.send("coord", f"/xoa #{ca.id}")
    assert f"Gỡ ca (#{ca.id}, đầu mối đơn vị CA) khỏi hệ thống nhắc việc?" in ask.text
    assert [(b.label, b.data) for row in ask.buttons for b in row] == [
        ("Gỡ", f"co:rm:{ca.id}"),
        ("Giữ nguyên", f"co:rmkeep:{ca.id}"),
    ]
    assert _user(app, "ca").active and _audit(app, "user_removed") == []  # nothing before the press

    [kept] = chat.send("coord", callback=f"co:rmkeep:{ca.id}")
    assert "Giữ nguyên ca" in kept.text and "không gỡ" in kept.text and kept.edit and kept.toast
    assert "NC-11" in chat.say("ca", "/viec") and _user(app, "ca").active
    assert "chỉ dành cho cán bộ" in chat.say("boss", callback=f"co:rm:{ca.id}")  # an observer's press
    # A press re-checks who may remove whom: a coordinator's forged button cannot remove an admin.
    assert "cần quản trị viên" in chat.say("coord", callback=f"co:rm:{admin.id}")
    assert _user(app, "ca").active and _user(app, "admin").active

    [done] = chat.send("coord", callback=f"co:rm:{ca.id}")
    assert "Đã gỡ ca" in done.text and "/moi CA" in done.text and done.edit and done.toast
    assert not _user(app, "ca").active
    for again in (f"co:rm:{ca.id}", f"co:rmkeep:{ca.id}"):  # a second press, or the other button
        [said] = chat.send("coord", callback=again)
        assert "ca đã được gỡ từ trước" in said.text and said.edit, again
    assert len(_audit(app, "user_removed")) == 1

    for stale in ("co:rm:999999", "co:rm:abc", "co:rmkeep:"):
        assert "Nút này không còn hiệu lực" in chat.say("coord", callback=stale), stale
    [late] = chat.send("coord", f"/xoa #{ca.id}")  # asking about someone removed: told at once
    assert "đã được gỡ từ trước" in late.text and not late.buttons


def test_who_may_remove_whom(app):
    seed_world(app)
    chat = Chat(app)
    admin, coord, boss = _user(app, "admin"), _user(app, "coord"), _user(app, "boss")
    assert "cần quản trị viên" in _remove(chat, "coord", admin.id)
    assert "Không thể tự gỡ" in _remove(chat, "coord", coord.id)
    assert "Không thể tự gỡ" in _remove(chat, "admin", admin.id)
    assert "chỉ dành cho cán bộ điều phối" in _remove(chat, "boss", coord.id)
    assert "chỉ dành cho cán bộ điều phối" in _remove(chat, "ca", boss.id)
    assert "Không tìm thấy người “#999”" in _remove(chat, "coord", 999)
    assert "Không có đơn vị" in chat.say("coord", "/xoa XYZ")
    assert "Cách dùng" in chat.say("coord", "/xoa #1 #2")
    everyone = chat.say("coord", "/xoa")
    assert "boss" in everyone and "· admin" not in everyone and f"#{coord.id} ·" not in everyone
    assert _audit(app, "user_removed") == []
    assert "Đã gỡ boss" in _remove(chat, "coord", boss.id)
    assert "Đã gỡ coord" in _remove(chat, "admin", coord.id)
    assert "đã được gỡ" in chat.say("coord", "/tinhhinh")


def test_removing_the_last_contact_warns_and_a_new_invite_brings_them_back(app):
    seed_world(app)
    chat = Chat(app)
    ca, ca2 = _user(app, "ca"), _user(app, "ca2")
    assert "không còn đầu mối" not in _remove(chat, "coord", ca2.id)
    assert "CA không còn đầu mối nào" in _remove(chat, "coord", ca.id)

    code = CODE.search(chat.say("coord", "/moi CA")).group(1)
    assert "đầu mối của" in chat.say("ca", f"/start {code}")
    back = _user(app, "ca")
    assert back.id == ca.id and back.active and back.role == "contact" and back.agency_code == "CA"
    assert "CA" in chat.say("ca", "/viec") and "đã được gỡ" not in chat.say("ca", "/viec")
    assert [e.detail.get("returned") for e in _audit(app, "joined")] == [True]
    # A removed coordinator invited back as an observer gets the invite's role, not their old one;
    # the codes they handed out before being removed no longer work.
    coord = _user(app, "coord")
    unused = CODE.search(chat.say("coord", "/moi SYT")).group(1)
    _remove(chat, "admin", coord.id)
    assert "hết hạn" in chat.say("newcomer", f"/start {unused}")
    code = CODE.search(chat.say("admin", "/moi observer")).group(1)
    chat.say("coord", f"/start {code}")
    assert _user(app, "coord").role == "observer" and "chỉ dành cho cán bộ" in chat.say("coord", "/xoa")


async def test_an_invite_that_replaces_hands_the_agency_over(app):
    seed_world(app)
    chat = Chat(app)
    ca = _user(app, "ca")
    assert "Chỉ mã mời đầu mối" in chat.say("coord", "/moi observer thay")
    assert "Cách dùng" in chat.say("coord", "/moi CA thay thay")
    made = chat.say("coord", "/moi CA thay")
    assert "đầu mối hiện tại của CA sẽ được gỡ" in made
    # Until the newcomer joins, the old contact still works: no gap.
    assert "NC-11" in chat.say("ca", "/viec")
    joined = chat.say("moi", f"/start {CODE.search(made).group(1)}", name="Người mới")
    assert "thay ca làm đầu mối của CA" in joined
    assert "đã được gỡ" in chat.say("ca", "/viec")
    assert _user(app, "ca2").active  # the deputy is not replaced by a primary contact's invite
    [removed] = _audit(app, "user_removed")
    assert removed.detail["user"] == ca.id and removed.detail["reason"] == "replaced"
    await chat.deliver()
    assert any("Người mới" in t and "thay ca" in t for t in chat.channel.texts("coord"))
    chat.say("coord", "/nhac NC-11")
    await chat.deliver()
    assert any("NC-11" in t for t in chat.channel.texts("moi")) and chat.channel.texts("ca") == []


def test_config_admins_are_resynced_at_start_cli_admins_stay(db_url, clock):
    app = make_app(db_url, clock, access={"admins": ["telegram:1", "telegram:2"]})
    ensure_config_admins(app)
    add_admin(app, "telegram", "3", "By CLI")
    add_user(app, "legacy", "admin")  # an admin from before this was tracked
    app.db.dispose()

    app = make_app(db_url, clock, access={"admins": ["telegram:1"]})
    try:
        ensure_config_admins(app)
        with app.read() as store:
            by_ext = {i.external_id: store.user(i.user_id) for u in store.users() for i in store.identities_of(u.id)}
        assert by_ext["1"].active and by_ext["1"].role == "admin"
        assert not by_ext["2"].active  # taken out of the config: no longer admin
        assert by_ext["3"].active and by_ext["legacy"].active
        chat = Chat(app, "telegram")
        assert "đã được gỡ" in chat.say("2", "/tinhhinh")
        [entry] = _audit(app, "user_removed")
        assert entry.actor == "config" and entry.detail["user"] == by_ext["2"].id
        ensure_config_admins(app)  # a second start changes nothing more
        assert len(_audit(app, "user_removed")) == 1
    finally:
        app.db.dispose()
    app = make_app(db_url, clock, access={"admins": ["telegram:1", "telegram:2"]})
    try:
        ensure_config_admins(app)  # listed again: back as admin
        with app.read() as store:
            assert people.is_active(store, by_ext["2"].id)
    finally:
        app.db.dispose()


def test_cli_remove_and_set_role(cli, monkeypatch):
    assert cli("user", "add-admin", "telegram:42")[0] == 0
    assert cli("user", "add-admin", "zalo:77")[0] == 0
    code, out, _ = cli("user", "list")
    assert code == 0 and "telegram:42" in out and "removed" not in out

    code, out, _ = cli("user", "set-role", "zalo:77", "contact")
    assert code == 2  # a contact needs --agency: nothing written
    code, out, _ = cli("user", "set-role", "zalo:77", "coordinator", "--agency", "CA")
    assert code == 2
    code, out, _ = cli("user", "set-role", "zalo:77", "contact", "--agency", "NOPE")
    assert code == 2
    code, out, _ = cli("user", "set-role", "2", "coordinator")
    assert code == 0 and "admin -> coordinator" in out
    code, out, _ = cli("user", "set-role", "zalo:77", "coordinator")
    assert code == 0 and "nothing changed" in out

    code, out, _ = cli("user", "remove", "telegram:42")
    assert code == 0 and "removed #1" in out and "history kept" in out
    code, _, err = cli("user", "remove", "telegram:42")
    assert code == 2 and "already removed" in err
    code, _, err = cli("user", "remove", "telegram:999")
    assert code == 2 and "no person" in err
    assert "removed" in cli("user", "list")[1].splitlines()[0]
    code, _, err = cli("web", "link", "telegram:42")  # no web sign-in link for a removed person
    assert code == 2 and "may not use the board" in err

    # set-role brings a removed person back, and an admin made so stays when the config changes.
    code, out, _ = cli("user", "set-role", "1", "admin")
    assert code == 0 and "removed -> admin" in out
    monkeypatch.setenv("DUTYBOT_ACCESS__ADMINS", '["zalo:5"]')
    line = next(ln for ln in cli("user", "list")[1].splitlines() if ln.startswith("1\t"))
    assert "admin" in line and "removed" not in line

    # An admin only in the config and removed with the CLI: warned it comes back at the next start.
    code, out, _ = cli("user", "remove", "zalo:5")
    assert code == 0 and "still listed in [access] admins" in out
    # A config admin confirmed with set-role stays when the config no longer lists them.
    assert cli("user", "list")[0] == 0  # (the start re-adds zalo:5 from the config)
    code, out, _ = cli("user", "set-role", "zalo:5", "admin")
    assert code == 0 and "stays admin" in out
    monkeypatch.setenv("DUTYBOT_ACCESS__ADMINS", "[]")
    line = next(ln for ln in cli("user", "list")[1].splitlines() if "zalo:5" in ln)
    assert "\tadmin\t" in line and "removed" not in line


def test_two_coordinators_removing_the_same_contact_at_once_remove_once(app):
    import threading

    from bot.app import SystemActor
    from workflows.errors import DutyError
    from workflows.ports import Ctx

    seed_world(app)
    ca = _user(app, "ca")
    start, outcomes = threading.Barrier(4), []

    def remove():
        start.wait()
        try:
            with app.write() as store:
                people.remove(store, Ctx(actor=SystemActor(), channel="cli", now=app.now()), store.user(ca.id))
            outcomes.append("removed")
        except DutyError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=remove) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_removed"] * 3 + ["removed"]
    assert len(_audit(app, "user_removed")) == 1
