"""Which event (issue 12 item 4): a rehearsal and the real ceremony are live at once with the same
task codes. A command without an event number goes to the only event where the code is open for
the person's agency; when both qualify the bot asks with a button per event; every task message
names its event while more than one is live."""

from __future__ import annotations

from datetime import timedelta

from bot.app import SystemActor
from tests.helpers import START, Chat, add_user, seed_event
from workflows import events as event_uc
from workflows.ports import Ctx


def _two_live_events(app):
    rehearsal = seed_event(app, START - timedelta(days=2))
    real = seed_event(app, START)
    with app.write() as store:
        store.get_event(rehearsal.id).name = "Tổng duyệt"
        store.get_event(real.id).name = "Lễ chính thức"
        ctx = Ctx(actor=SystemActor(), channel="cli", now=app.now())
        notices = []
        for e in (rehearsal, real):
            notices += event_uc.launch_event(store, ctx, store.get_event(e.id))
        app.notifier.enqueue(store, notices, app.now())
    return rehearsal.id, real.id


def _status(app, event_id, code):
    with app.read() as store:
        return store.find_task(event_id, code).status


async def test_a_contact_with_the_same_code_in_two_live_events_is_asked_then_it_resolves(app):
    with app.write() as store:  # the agencies exist before their contacts (the events add them too)
        for code in ("CA", "SYT"):
            store.upsert_agency(code, code, "")
    add_user(app, "coord", "coordinator")
    add_user(app, "ca", "contact", "CA")
    add_user(app, "syt", "contact", "SYT")
    first, second = _two_live_events(app)
    chat = Chat(app)

    await chat.deliver()  # every task message names its event
    assigned = [r.text for r in chat.channel.sent["ca"] if "CB-23" in r.text]
    assert any("Sự kiện #1 Tổng duyệt" in t for t in assigned)
    assert any("Sự kiện #2 Lễ chính thức" in t for t in assigned)

    (asked,) = chat.send("ca", "/xong CB-23 đã bố trí")
    assert "CB-23" in asked.text and "sự kiện nào" in asked.text
    labels = [b.label for row in asked.buttons for b in row]
    assert labels == ["#1 Tổng duyệt", "#2 Lễ chính thức"]
    assert _status(app, first, "CB-23") == _status(app, second, "CB-23") == "todo"  # nothing changed yet

    assert "không còn hiệu lực" in chat.say("syt", callback=asked.buttons[0][0].data)  # not SYT's question
    done = chat.say("ca", callback=asked.buttons[0][0].data)
    assert done.count("Sự kiện #1 Tổng duyệt") == 1 and "hoàn thành" in done
    assert (_status(app, first, "CB-23"), _status(app, second, "CB-23")) == ("done", "todo")
    assert "không còn hiệu lực" in chat.say("ca", callback=asked.buttons[1][0].data)  # answered once

    # Now the code is open for CA only in the real event: no question.
    again = chat.say("ca", "/xong CB-23")
    assert "Sự kiện #2 Lễ chính thức" in again and "hoàn thành" in again
    assert _status(app, second, "CB-23") == "done"

    # Another agency learns nothing from the question either.
    assert "Không tìm thấy việc NC-11" in chat.say("syt", "/xong NC-11")
    # A command in between drops the question.
    (asked,) = chat.send("ca", "/tiendo NC-11 50")
    chat.say("ca", "/viec")
    assert "không còn hiệu lực" in chat.say("ca", callback=asked.buttons[1][0].data)
    assert _status(app, first, "NC-11") == _status(app, second, "NC-11") == "todo"
