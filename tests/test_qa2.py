"""Defects found by acceptance testing after the engine refactor (branch qa, second sitting)."""

from __future__ import annotations

from tests.helpers import Chat, seed_world


def _ended(app) -> Chat:
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    assert "Đề nghị gia hạn" not in chat.say("ca", "/giahan NL-01 20/12/2027 10:00 thiếu người")
    assert "Đã kết thúc" in chat.say("coord", "/ketthuc 1") + chat.say("coord", callback="co:end:1")
    return chat


def test_an_ended_events_record_stays_final_for_coordinators_too(app):
    chat = _ended(app)
    with app.read() as store:
        before = {t.code: (t.deadline, t.status, t.lead) for t in store.tasks(1)}
        start = store.get_event(1).start
    # Each of these would rewrite what the after-action report already said (on time, overdue, who).
    for line in ("/doihan NL-01 20/12/2027 10:00 cho đẹp", "/huy NL-01 không cần", "/giaolai NC-11 SYT",
                 "/duyet 1", "/doingay 1 20/12/2027"):
        out = chat.say("coord", line)
        assert "đã kết thúc" in out and "Đã " not in out, (line, out)
    assert "đã kết thúc" in chat.say("ca", "/giahan NC-11 20/12/2027 10:00 thiếu người")
    with app.read() as store:
        assert {t.code: (t.deadline, t.status, t.lead) for t in store.tasks(1)} == before
        assert store.get_event(1).start == start
