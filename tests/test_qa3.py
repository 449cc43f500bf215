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


async def test_grouped_news_of_updates_without_a_note_has_no_empty_lines(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    await chat.deliver()
    assert "hoàn thành" in chat.say("ca", "/xong NC-11")
    chat.say("ca", "/xong NL-01")  # no note, no reason: nothing to say on the last line
    await chat.deliver()
    news = [t for t in chat.channel.texts("coord") if "NC-11" in t and "NL-01" in t]
    assert news, chat.channel.texts("coord")
    assert "\n\n\n" not in news[-1] and not news[-1].endswith("\n"), repr(news[-1])


def test_a_second_press_of_the_same_percent_button_is_recorded_once(app, clock):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    with app.read() as store:
        task = store.find_task(1, "NL-01")
        before = len(store.history(task.id))
    assert "?" in chat.say("ca", callback=f"t:{task.id}:prog")  # "how many percent?"
    assert "50%" in chat.say("ca", callback=f"p:{task.id}:50")
    again = chat.say("ca", callback=f"p:{task.id}:50")  # a double tap
    assert "không có gì thay đổi" in again, again
    with app.read() as store:
        statuses = [a for a in store.history(task.id)[before:] if a.action == "status"]
    assert len(statuses) == 1, [a.detail for a in statuses]
    clock.advance(seconds=600)  # much later, "still 50%" is a report of its own
    chat.say("ca", callback=f"p:{task.id}:50")
    with app.read() as store:
        assert len([a for a in store.history(task.id)[before:] if a.action == "status"]) == 2


def test_not_yet_in_answer_to_how_many_percent_records_nothing_and_asks_again(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    with app.read() as store:
        task = store.find_task(1, "NL-01")
        before = (task.status, task.percent, len(store.history(task.id)))
    assert "?" in chat.say("ca", callback=f"t:{task.id}:prog")  # "how many percent?"
    replies = chat.send("ca", "chưa")
    out = "\n".join(r.text for r in replies)
    assert "chưa ghi nhận" in out.lower() or "không có gì thay đổi" in out, out
    assert any(b.data == f"p:{task.id}:50" for r in replies for row in r.buttons for b in row), out  # re-offered
    with app.read() as store:
        task = store.find_task(1, "NL-01")
        assert (task.status, task.percent, len(store.history(task.id))) == before
    assert "50%" in chat.say("ca", "50")  # the question is still open


def test_done_i_think_asks_to_confirm_done_with_xong_among_the_choices(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    with app.read() as store:
        task = store.find_task(1, "NL-01")
    chat.say("ca", "/nv NL-01")
    replies = chat.send("ca", "xong rồi thì phải")
    out = "\n".join(r.text for r in replies)
    assert "đã hoàn thành?" in out, out
    assert any(b.data == f"c:{task.id}:done" for r in replies for row in r.buttons for b in row), out
    with app.read() as store:
        assert store.find_task(1, "NL-01").status == task.status  # nothing recorded before the confirmation
