"""/link codes work only on the other app, the owner is told, /unlink takes an app away (not the last)."""

from __future__ import annotations

from sqlmodel import select

from storage.models import AuditEntry, Outbox
from tests.helpers import Chat, seed_world


def _code(text: str) -> str:
    return text.split("/start ")[1].split()[0]


def _owner_of(app, channel, account):
    with app.read() as store:
        ident = store.identity(channel, account)
        return ident.user_id if ident else None


async def test_a_leaked_code_is_useless_on_the_same_app_and_the_owner_hears_of_every_link(app):
    seed_world(app)
    chat, zalo = Chat(app), Chat(app, channel_name="zalo")
    code = _code(chat.say("admin", "/lienket"))

    # A second account on the owner's own app: refused, nothing changed, the code still unused.
    assert "chỉ dùng được trên ứng dụng khác" in chat.say("thief", f"/start {code}")
    assert _owner_of(app, "fake", "thief") is None and "mã mời" in chat.say("thief", "/tinhhinh").lower()
    # Another member's account: refused too.
    assert "đã thuộc về một người khác" in chat.say("ca", f"/start {code}")
    assert _owner_of(app, "fake", "ca") != _owner_of(app, "fake", "admin")

    assert "Đã liên kết" in zalo.say("admin-zalo", f"/start {code}", name="Admin Zalo")
    assert _owner_of(app, "zalo", "admin-zalo") == _owner_of(app, "fake", "admin")
    assert "đã được sử dụng" in zalo.say("other-zalo", f"/start {code}")

    # The owner is told on the app they had, not on the new one.
    await chat.deliver()
    await zalo.deliver()
    told = [t for t in chat.channel.texts("admin") if "vừa được liên kết" in t]
    assert len(told) == 1 and "zalo" in told[0] and "Admin Zalo" in told[0] and "/huylienket zalo" in told[0]
    assert not any("vừa được liên kết" in t for t in zalo.channel.texts("admin-zalo"))

    # Linking the same account twice changes nothing and leaves the new code unused.
    again = _code(chat.say("admin", "/lienket"))
    assert "đã được liên kết với đồng chí từ trước" in zalo.say("admin-zalo", f"/start {again}")
    with app.read() as store:
        assert len(store.identities_of(_owner_of(app, "fake", "admin"))) == 2
        linked = list(store.s.exec(select(AuditEntry).where(AuditEntry.action == "linked")))
    assert [(e.actor, e.detail["channel"]) for e in linked] == [("admin", "zalo")]


async def test_unlink_takes_one_app_away_but_never_the_last(app):
    seed_world(app)
    chat, zalo = Chat(app), Chat(app, channel_name="zalo")
    assert "Đã liên kết" in zalo.say("ca-zalo", f"/start {_code(chat.say('ca', '/lienket'))}")
    assert "zalo" in zalo.say("ca-zalo", "/kenh zalo")
    chat.say("coord", "/nhac NC-11")  # waits in the outbox for ca's Zalo account

    assert "Đang liên kết: fake, zalo" in chat.say("ca", "/huylienket")
    assert "không có tài khoản viber" in chat.say("ca", "/huylienket viber")
    assert "Đã hủy liên kết tài khoản zalo" in chat.say("ca", "/huylienket zalo")
    assert "Đã hủy" not in chat.say("ca", "/huylienket zalo")
    assert "duy nhất" in chat.say("ca", "/huylienket fake")

    # The unlinked account is a stranger again; nothing more goes to it; news go to the app left.
    assert "mã mời" in zalo.say("ca-zalo", "/viec").lower()
    await zalo.deliver()
    assert zalo.channel.texts("ca-zalo") == []
    with app.read() as store:
        assert {r.status for r in store.s.exec(select(Outbox).where(Outbox.channel == "zalo"))} == {"cancelled"}
        unlinked = list(store.s.exec(select(AuditEntry).where(AuditEntry.action == "unlinked")))
    assert [e.detail["channel"] for e in unlinked] == ["zalo"]
    chat.say("coord", "/nhac NC-11")
    await chat.deliver()
    assert any("NC-11" in t for t in chat.channel.texts("ca"))
