"""Invites on SQLite and PostgreSQL: hashed, single use, expiring, race-free."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

from sqlmodel import select

from bot.app import SystemActor
from storage.models import Identity, Invite, User
from tests.helpers import Chat, seed_world
from workflows import invites
from workflows.ports import Ctx


def _make_invite(app, target="CA", ttl=timedelta(days=7)):
    with app.write() as store:
        code, _ = invites.create_invite(store, Ctx(actor=SystemActor(), channel="cli", now=app.now()), target, ttl=ttl)
    return code


def test_code_has_128_bits_fits_telegram_and_is_stored_hashed(app):
    seed_world(app)
    code = _make_invite(app)
    assert invites.CODE_RE.match(code) and len(code) <= 64
    assert len(code) * 6 >= 128  # url-safe base64: 6 bits per character
    with app.read() as store:
        rows = list(store.s.exec(select(Invite)))
    assert len(rows) == 1
    assert rows[0].code_hash == hashlib.sha256(code.encode()).hexdigest()
    assert code not in repr(rows[0].model_dump())


def test_join_by_code_then_code_is_used(app):
    seed_world(app)
    chat = Chat(app)
    code = _make_invite(app, "SYT")
    reply = chat.say("newbie", f"/start {code}", name="Trần Thị B")
    assert "SYT" in reply and "Trần Thị B" in reply
    with app.read() as store:
        user = store.user(store.identity("fake", "newbie").user_id)
        assert (user.role, user.agency_code) == ("contact", "SYT")
    again = chat.say("someone_else", f"/start {code}")
    assert "đã được sử dụng" in again
    with app.read() as store:
        assert store.identity("fake", "someone_else") is None  # nothing written


def test_expired_and_unknown_codes_are_refused_and_change_nothing(app, clock):
    seed_world(app)
    chat = Chat(app)
    code = _make_invite(app, "CA", ttl=timedelta(hours=1))
    clock.advance(hours=2)
    assert "hết hạn" in chat.say("late", f"/start {code}")
    assert "không hợp lệ" in chat.say("late", "/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    with app.read() as store:
        assert store.identity("fake", "late") is None
        inv = store.s.exec(select(Invite)).first()
        assert inv.used_at is None


def test_only_admin_invites_coordinators(app):
    seed_world(app)
    chat = Chat(app)
    assert "Chỉ quản trị viên" in chat.say("coord", "/moi coordinator")
    assert "/start" in chat.say("admin", "/moi coordinator")
    assert "chỉ dành cho cán bộ điều phối" in chat.say("ca", "/moi CA")


def test_fifty_concurrent_redemptions_let_exactly_one_through(app):
    seed_world(app)
    code = _make_invite(app, "STC")
    chat = Chat(app)
    barrier = threading.Barrier(50)
    results: list[str] = []

    def redeem(i: int) -> None:
        barrier.wait()
        results.append(chat.say(f"racer{i}", f"/start {code}"))

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 50
    joined = [r for r in results if "Chào mừng" in r]
    assert len(joined) == 1, results[:3]
    assert all("đã được sử dụng" in r for r in results if "Chào mừng" not in r)
    with app.read() as store:
        racers = [i for i in store.s.exec(select(Identity)) if i.external_id.startswith("racer")]
        assert len(racers) == 1
        assert store.s.exec(select(User).where(User.agency_code == "STC")).all().__len__() == 2  # stc + winner
