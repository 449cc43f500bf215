"""Defects the stateful test (tests/test_stateful_chat.py) found, pinned as the conversations it shrank them to.

Run against 4c40aa2 it found four distinct failures, all `TypeError: DutyError.__init__() got multiple
values for argument 'code'` escaping the router (the person got no answer at all)."""

from __future__ import annotations

from sqlmodel import select

from storage.models import ExtensionRequest
from tests.helpers import Chat, seed_world


def _task(app, code):
    with app.read() as store:
        return store.find_task(store.current_event(app.now()).id, code)


def test_regression_done_twice_is_answered(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("ca", "/xong CB-23")
    again = chat.say("ca", "/xong CB-23")
    assert "CB-23" in again and again.strip()
    assert _task(app, "CB-23").status == "done"


def test_regression_extension_on_a_done_task_is_answered(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("ca", "/xong CB-23")
    answer = chat.say("ca", "/giahan CB-23 30/6/2026 17:00 nhà in chậm")
    assert "CB-23" in answer
    with app.read() as store:
        assert store.s.exec(select(ExtensionRequest)).all() == []


def test_regression_someone_elses_undo_button_is_answered(app):
    seed_world(app)
    chat = Chat(app)
    undo = chat.send("ca", "/xong CB-23")[0].buttons[0][0].data
    answer = chat.send("admin", callback=undo)
    assert answer and (answer[0].text or answer[0].toast)
    assert _task(app, "CB-23").status == "done"


def test_regression_extension_not_after_the_deadline_is_answered(app):
    seed_world(app)
    chat = Chat(app)
    before = _task(app, "CB-23").deadline
    answer = chat.say("ca", "/extend CB-23 01/05/2026 lý do")
    assert "CB-23" in answer
    assert _task(app, "CB-23").deadline == before
