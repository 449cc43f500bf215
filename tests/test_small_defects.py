"""Small defects found in use, each as the conversation that showed it."""

from __future__ import annotations

from tests.helpers import Chat, seed_world


def _task(app, code):
    with app.read() as store:
        return store.find_task(1, code)


def test_after_the_event_has_ended_status_reports_are_refused_with_a_reason(app):
    seed_world(app)
    chat = Chat(app)
    assert "hoàn thành" in chat.say("ca", "/xong CB-23")
    chat.say("coord", "/ketthuc 1")
    assert "Đã kết thúc" in chat.say("coord", callback="co:end:1")
    before = _task(app, "NC-11")
    for text in ("/xong NC-11", "/tiendo NC-11 50", "/vuong NC-11 thiếu xe", "/danhan NC-11"):
        reply = chat.say("ca", text)
        assert "đã kết thúc" in reply and "không cập nhật" in reply, (text, reply)
    after = _task(app, "NC-11")
    assert (after.status, after.percent, after.version) == (before.status, before.percent, before.version)
    # The coordinator is refused the same way (the record of an ended event is what it was).
    assert "đã kết thúc" in chat.say("coord", "/xong NC-11")
    assert _task(app, "NC-11").status == before.status
