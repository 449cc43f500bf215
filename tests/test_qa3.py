"""Defects found by acceptance testing (branch qa3, third sitting)."""

from __future__ import annotations

from tests.helpers import Chat, seed_world  # noqa: F401
from tests.test_web import board  # noqa: F401  (the web board fixture)


async def test_the_task_page_of_an_ended_event_offers_no_forms_the_engine_refuses(board):
    from tests.test_web import sign_in, task_of

    app, event, client = board
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    t = task_of(app, event, "NC-11")
    await sign_in(app, client, "coord")
    running = await (await client.get(f"/web/task/{t.id}")).text()
    forms = ('id="form-deadline"', 'id="form-reassign"', 'id="form-remind"', 'id="form-cancel"', 'id="form-status"')
    assert all(f in running for f in forms), running
    chat.say("coord", "/ketthuc 1")
    chat.say("coord", callback="co:end:1")
    ended = await (await client.get(f"/web/task/{t.id}")).text()
    assert not [f for f in forms if f in ended], ended
    assert 'id="ended-final"' in ended and "đã kết thúc" in ended
