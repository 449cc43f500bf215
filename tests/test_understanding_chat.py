"""Free-text replies through the real router (issue 15): what the bot does with a reading, and says back.

Telegram, Zalo and the local chat all hand a text reply to `replies.handle_text`, so one set of
dialogs covers them (the Telegram and Zalo end-to-end tests send "xong rồi" over real HTTP too).
"""

from __future__ import annotations

from tests.helpers import Chat, seed_world


def _task(app, code):
    with app.read() as store:
        return store.find_task(store.current_event(app.now()).id, code)


def _open(chat, who, code) -> str:
    """Show the task card to `who` and return the id of the bot message a reply can quote."""
    chat.say(who, f"/nv {code}")
    return str(chat._mid)


def test_what_was_understood_is_said_back(app):
    seed_world(app)
    chat = Chat(app)
    card = _open(chat, "ca", "NC-11")
    reply = chat.say("ca", "đang làm, được tám mươi phần trăm rồi", reply_to=card)
    assert "Đã ghi nhận: NC-11 đang làm, 80%" in reply
    t = _task(app, "NC-11")
    assert (t.status, t.percent) == ("in_progress", 80)
    assert "Đã ghi nhận: NC-11 đang vướng" in chat.say("ca", "tạm ngưng vì chưa gặp được chủ nhà hàng", reply_to=card)
    assert _task(app, "NC-11").blocked_reason == "tạm ngưng vì chưa gặp được chủ nhà hàng"


def test_a_done_that_is_not_certain_is_confirmed_first(app):
    seed_world(app)
    chat = Chat(app)
    card = _open(chat, "ca", "NC-11")
    for text in ("chắc là xong rồi", "không phải là chưa xong", "xong được thì tốt quá"):
        replies = chat.send("ca", text, reply_to=card)
        assert _task(app, "NC-11").status == "todo", text  # nothing applied
    replies = chat.send("ca", "hình như xong rồi", reply_to=card)
    assert [r.text for r in replies] == ["Xác nhận việc NC-11 đã hoàn thành?"]
    buttons = [(b.label, b.data) for row in replies[0].buttons for b in row]
    t = _task(app, "NC-11")
    assert buttons == [("Xong", f"c:{t.id}:done"), ("Chưa", f"t:{t.id}:prog")]
    assert "bao nhiêu phần trăm" in chat.say("ca", callback=f"t:{t.id}:prog")  # "Chưa": how far then?
    assert _task(app, "NC-11").status == "todo"
    chat.send("ca", "hình như xong rồi", reply_to=card)
    asked = str(chat._mid)
    assert "hoàn thành" in chat.say("ca", "dạ rồi", reply_to=asked)  # "rồi" to "Xác nhận …?" is a yes
    assert _task(app, "NC-11").status == "done"


def test_future_hoped_and_questioned_completions_never_mark_done(app):
    seed_world(app)
    chat = Chat(app)
    card = _open(chat, "ca", "NC-11")
    for text in ("chắc thứ 6 mới xong", "sẽ hoàn thành trong tuần", "xong chưa nhỉ?", "mong là kịp xong"):
        chat.say("ca", text, reply_to=card)
        assert _task(app, "NC-11").status != "done", text


def test_a_code_in_the_text_decides_the_task(app):
    seed_world(app)
    chat = Chat(app)
    card = _open(chat, "ca", "NC-11")
    # Own agency's other task: applied there, and said so.
    reply = chat.say("ca", "CB-23 bên em xong rồi", reply_to=card)
    assert "CB-23" in reply and "không phải NC-11" in reply and "hoàn thành" in reply
    assert _task(app, "CB-23").status == "done" and _task(app, "NC-11").status == "todo"
    # Another agency's task: refused, nothing changes anywhere.
    reply = chat.say("ca", "CB-05 xong rồi", reply_to=card)
    assert "CB-05 không do đơn vị đồng chí chủ trì" in reply
    assert _task(app, "CB-05").status == "todo" and _task(app, "NC-11").status == "todo"
    # Unknown or several codes: ask, change nothing.
    assert "Không tìm thấy việc ZZ-99" in chat.say("ca", "ZZ-99 đang làm 50%", reply_to=card)
    assert "nhiều mã việc" in chat.say("ca", "NC-11 và CB-23 xong rồi", reply_to=card)
    assert _task(app, "NC-11").status == "todo"
    # A question may name another agency's task: it is forwarded, nothing refused or changed.
    assert "Đã chuyển câu hỏi" in chat.say("ca", "CB-05 bên Sở Tài chính bao giờ xong ạ?", reply_to=card)
    assert _task(app, "CB-05").status == "todo"
    # Its own code is simply its own task.
    assert "NC-11 đang làm, 60%" in chat.say("ca", "nc-11 đang làm 60%", reply_to=card)


def test_chatter_records_nothing_and_a_correction_replaces_the_report(app):
    seed_world(app)
    chat = Chat(app)
    card = _open(chat, "ca", "NC-11")
    assert "chưa ghi nhận gì" in chat.say("ca", "em đang ở ngoài, lát nói sau", reply_to=card)
    assert _task(app, "NC-11").status == "todo"
    chat.say("ca", "xong rồi ạ", reply_to=card)
    assert _task(app, "NC-11").status == "done"
    reply = chat.say("ca", "em báo nhầm, việc này chưa xong, mới được 50% thôi", reply_to=card)
    assert "Đã sửa" in reply and "NC-11 đang làm, 50%" in reply
    t = _task(app, "NC-11")
    assert (t.status, t.percent) == ("in_progress", 50)


def test_the_replied_to_check_in_gives_a_bare_yes_its_meaning(app):
    seed_world(app)
    chat = Chat(app)
    t = _task(app, "NC-11")
    with app.write() as store:
        store.remember_sent("fake", "ca", "checkin-1", t.id, "checkin", app.now())  # "Sẵn sàng?"
        store.remember_sent("fake", "ca", "assign-1", t.id, "assignment", app.now())
    assert "đã nhận việc NC-11" in chat.say("ca", "Dạ", reply_to="assign-1")
    assert "NC-11 hoàn thành" in chat.say("ca", "Dạ", reply_to="checkin-1")
    assert _task(app, "NC-11").status == "done"
