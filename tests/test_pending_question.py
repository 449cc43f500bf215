"""A question the bot asked back ("vướng gì?", "bao nhiêu %?") never swallows later text."""

from __future__ import annotations

from tests.helpers import Chat, seed_world


def _task(app, code):
    with app.read() as store:
        return store.find_task(store.current_event(app.now()).id, code)


def _pending(app, handle):
    with app.read() as store:
        return next(u for u in store.users() if u.name == handle).pending


def test_a_command_drops_the_question_and_later_text_is_not_a_reason(app):
    seed_world(app)
    chat = Chat(app)
    t = _task(app, "CB-05")
    assert "vướng gì" in chat.say("stc", callback=f"t:{t.id}:blk")
    assert "Việc của STC" in chat.say("stc", "/viec")  # a command instead of the answer
    assert _pending(app, "stc") is None
    chat.say("stc", "/nv CB-05")
    chat.say("stc", "đã xong 60%")  # later text about the task: progress, not a blocking reason
    t = _task(app, "CB-05")
    assert t.status == "in_progress" and t.percent == 60 and t.blocked_reason is None


def test_no_blocker_is_never_recorded_as_a_blocking_reason(app):
    seed_world(app)
    chat = Chat(app)
    t = _task(app, "CB-05")
    chat.say("stc", callback=f"t:{t.id}:blk")
    reply = chat.say("stc", "Không vướng gì")
    assert "không có vướng mắc" in reply
    t = _task(app, "CB-05")
    assert t.status == "todo" and t.blocked_reason is None
    assert _pending(app, "stc") is None
    # A real reason after asking again is recorded.
    chat.say("stc", callback=f"t:{t.id}:blk")
    chat.say("stc", "chờ Sở Kế hoạch gửi hồ sơ")
    assert _task(app, "CB-05").blocked_reason == "chờ Sở Kế hoạch gửi hồ sơ"


def test_a_report_instead_of_the_answer_is_taken_as_a_report(app):
    seed_world(app)
    chat = Chat(app)
    t = _task(app, "CB-05")
    chat.say("stc", callback=f"t:{t.id}:blk")
    assert "hoàn thành" in chat.say("stc", "xong rồi")
    t = _task(app, "CB-05")
    assert t.status == "done" and t.blocked_reason is None


def test_the_percent_question_is_dropped_by_a_command_and_by_a_non_answer(app):
    seed_world(app)
    chat = Chat(app)
    t = _task(app, "CB-05")
    assert "bao nhiêu phần trăm" in chat.say("stc", callback=f"t:{t.id}:prog")
    chat.say("stc", "/danhan CB-05")
    assert _pending(app, "stc") is None
    assert "bao nhiêu phần trăm" in chat.say("stc", callback=f"t:{t.id}:prog")
    chat.say("stc", "bao giờ họp?")  # a question, not a percent: forwarded, and the bot stops waiting
    assert _pending(app, "stc") is None and _task(app, "CB-05").percent == 0


def test_replying_to_another_task_message_is_about_that_task(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("ca", "/nv NC-11")
    chat.send("ca", "/nv CB-23")
    card_id = str(chat._mid)  # the id the CB-23 card got in this chat
    t = _task(app, "NC-11")
    chat.say("ca", callback=f"t:{t.id}:blk")
    # The contact answers the CB-23 card instead: that is about CB-23, not NC-11's reason.
    chat.say("ca", "xong rồi", reply_to=card_id)
    assert _task(app, "NC-11").blocked_reason is None and _task(app, "NC-11").status != "blocked"
    assert _task(app, "CB-23").status == "done"
