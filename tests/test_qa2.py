"""Defects found by acceptance testing after the engine refactor (branch qa, second sitting)."""

from __future__ import annotations

from tests.helpers import Chat, seed_world
from tests.test_web import board  # noqa: F401  (the web board fixture)


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
    for line in (
        "/doihan NL-01 20/12/2027 10:00 cho đẹp",
        "/huy NL-01 không cần",
        "/giaolai NC-11 SYT",
        "/duyet 1",
        "/doingay 1 20/12/2027",
    ):
        out = chat.say("coord", line)
        assert "đã kết thúc" in out and "Đã " not in out, (line, out)
    assert "đã kết thúc" in chat.say("ca", "/giahan NC-11 20/12/2027 10:00 thiếu người")
    # A request left open at the end can still be turned down (no deadline moves), so it does not hang.
    assert "đã kết thúc" not in chat.say("coord", "/tuchoi 1 sự kiện đã xong")
    with app.read() as store:
        assert {t.code: (t.deadline, t.status, t.lead) for t in store.tasks(1)} == before
        assert store.extension(1).status == "rejected"
        assert store.get_event(1).start == start


def test_a_button_on_an_old_card_does_not_ask_what_it_will_refuse(app):
    seed_world(app)
    chat = Chat(app)
    with app.read() as store:
        nc11 = store.find_task(1, "NC-11").id
        nl01 = store.find_task(1, "NL-01").id
    assert "hoàn thành" in chat.say("ca", callback=f"t:{nc11}:done")
    # The card shown before it was done still has its buttons: pressing them must not ask
    # "how many percent?" / "what blocks it?" only to refuse the answer afterwards.
    for action in ("prog", "blk"):
        out = chat.say("ca", callback=f"t:{nc11}:{action}")
        assert "đã đóng" in out and "?" not in out, (action, out)
    chat.say("coord", "/ketthuc 1")
    chat.say("coord", callback="co:end:1")
    for action in ("prog", "blk"):
        out = chat.say("ca", callback=f"t:{nl01}:{action}")
        assert "đã kết thúc" in out and "?" not in out, (action, out)


def test_an_unclear_reply_about_a_closed_task_says_so_instead_of_offering_buttons(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    assert "hoàn thành" in chat.say("ca", "/xong NC-11")
    chat.say("ca", "/nv NC-11")
    # A bare number (or a word the bot cannot read) about a done task offered the four task
    # buttons, each of which was then refused.
    for text in ("7", "hủy"):
        replies = chat.send("ca", text)
        assert not any(r.buttons for r in replies), (text, [r.text for r in replies])
        assert "đã đóng" in "\n".join(r.text for r in replies), text
    chat.say("coord", "/ketthuc 1")
    chat.say("coord", callback="co:end:1")
    chat.say("ca", "/nv NL-01")
    replies = chat.send("ca", "hủy")
    assert not any(r.buttons for r in replies) and "đã kết thúc" in replies[0].text, replies[0].text


def test_cli_event_move_of_an_ended_event_is_refused_in_one_line(sqlite_app, sqlite_url, monkeypatch, capsys):
    from bot.cli import main

    _ended(sqlite_app)
    monkeypatch.setenv("DUTYBOT_STORAGE__URL", sqlite_url)
    capsys.readouterr()
    code = main(["event", "move", "1", "--start", "2027-01-10"])
    err = capsys.readouterr().err
    assert code == 2 and "ended" in err and "Traceback" not in err, (code, err)


def test_no_manual_reminder_for_an_ended_event(app):
    chat = _ended(app)
    # A reminder with the task buttons for an event that has ended: every press would be refused.
    for ref in ("NC-11", "CA"):
        out = chat.say("coord", f"/nhac {ref}")
        assert "đã kết thúc" in out and "Đã nhắc" not in out, (ref, out)


def test_undoing_someone_elses_report_says_whose_it_is_not_that_time_ran_out(app):
    seed_world(app)
    chat = Chat(app)
    replies = chat.send("ca", "/xong NC-11")
    undo = next(b.data for r in replies for row in r.buttons for b in row if b.data.startswith("u:"))
    # The deputy (same agency) presses the button a moment later: it is not theirs to take back.
    out = chat.say("ca2", callback=undo)
    assert "5 phút" not in out and "người đã báo" in out, out
    assert "Đã hoàn tác" in chat.say("ca", callback=undo)


def test_a_number_that_is_no_percent_is_not_suggested_as_one(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    with app.read() as store:
        nl01 = store.find_task(1, "NL-01").id
    chat.say("ca", "/nv NL-01")
    out = chat.say("ca", "150")  # "write it with a %, e.g. 150%" would then be refused as a bad percent
    assert "150%" not in out and "0–100" in out, out
    chat.say("ca", callback=f"t:{nl01}:prog")  # "how many percent?"
    out = chat.say("ca", "-5")
    assert "-5%" not in out and "0–100" in out, out
    assert "7%" in chat.say("ca", "7")  # in range: the hint still shows how to write it


def test_opening_ones_own_spent_invite_again_says_you_have_joined(app):
    import re

    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    code = re.search(r"/start (\S+)", chat.say("coord", "/moi BAO")).group(1)
    assert "Chào mừng" in chat.say("nhabao", f"/start {code}")
    # The t.me link tapped a second time: not "already used, ask for a new code" to the person who used it.
    again = chat.say("nhabao", f"/start {code}")
    assert "xin mã mới" not in again and "đã tham gia" in again and "BAO" in again, again
    assert "xin mã mới" in chat.say("nguoikhac", f"/start {code}")  # anyone else: spent


async def test_free_text_after_the_launch_messages_is_not_bound_to_a_task_the_agency_only_supports(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    await chat.deliver()  # CA's messages: its own tasks, then the tasks it supports (the last one is BTC's)
    assert chat.channel.sent["ca"][-1].task_id is not None
    # No code: which task? (the last message was about a task CA only supports)
    out = chat.say("ca", "đang làm 50%")
    assert "việc nào" in out and "không thuộc" not in out, out
    # Naming its own task in words: that task, not "this task is not your agency's".
    out = chat.say("ca", "NL-01 xong rồi")
    assert "NL-01" in out and "hoàn thành" in out and "không thuộc" not in out, out


async def test_undoing_a_done_tells_who_was_told_they_could_start_that_they_wait_again(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    await chat.deliver()
    replies = chat.send("ca", "/xong NC-11")  # NL-01 (CA) waits only on NC-11
    await chat.deliver()
    assert "NL-01" in chat.channel.texts("ca")[-1] and "có thể bắt đầu" in chat.channel.texts("ca")[-1]
    undo = next(b.data for r in replies for row in r.buttons for b in row if b.data.startswith("u:"))
    assert "Đã hoàn tác" in chat.say("ca", callback=undo)
    await chat.deliver()
    # A mistaken "Xong" taken back: NL-01's agency must not go on believing it can start.
    last = chat.channel.texts("ca")[-1]
    assert "NL-01" in last and "lại phải chờ" in last and "NC-11" in last, last
    # Done for real a moment later: told again that it can start (not swallowed as a duplicate).
    assert "hoàn thành" in chat.say("ca", "/xong NC-11")
    await chat.deliver()
    last = chat.channel.texts("ca")[-1]
    assert "NL-01" in last and "có thể bắt đầu" in last, last


async def test_the_web_board_sends_no_manual_reminder_for_an_ended_event(board):
    from tests.test_web import sign_in, task_of

    app, event, client = board
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    chat.say("coord", "/ketthuc 1")
    chat.say("coord", callback="co:end:1")
    t = task_of(app, event, "NC-11")
    csrf = await sign_in(app, client, "coord")
    for form in ({"task": str(t.id)}, {"agency": "CA", "event": str(event.id)}):
        resp = await client.post("/web/act", allow_redirects=False, data={"csrf": csrf, "action": "remind", **form})
        assert resp.status >= 400 and "đã kết thúc" in await resp.text(), form


async def test_ending_an_event_drops_its_assignments_and_reminders_not_yet_sent(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")  # 100-odd assignment messages queued, none sent yet
    chat.say("coord", "/nhac NL-01")
    assert "hoàn thành" in chat.say("ca", "/xong NC-11")  # queues news for the coordinators
    chat.say("coord", "/ketthuc 1")
    chat.say("coord", callback="co:end:1")
    await chat.deliver()
    # "Mọi nhắc việc sẽ dừng": no task messages with buttons arrive for an event that has ended...
    for who in ("ca", "stc", "syt", "tdkt", "vpub"):
        assert not any(r.buttons for r in chat.channel.sent.get(who, [])), who
        assert not any("📌" in t or "🔔" in t for t in chat.channel.texts(who)), who
    # ...while what happened before the end still reaches the coordinators, with the after-action report.
    coord = "\n".join(chat.channel.texts("coord"))
    assert "NC-11" in coord and "Rút kinh nghiệm" in coord


def test_a_task_card_of_an_ended_event_offers_no_buttons(app):
    chat = _ended(app)
    replies = chat.send("ca", "/nv NL-01")  # each of Đã nhận / Đang làm / Xong / Vướng would be refused
    assert "NL-01" in replies[0].text and not replies[0].buttons


async def test_restoring_a_cancelled_task_tells_who_could_start_because_of_it_that_they_wait_again(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    await chat.deliver()
    assert "Đã hủy" in chat.say("coord", "/huy NC-11 gộp việc")  # NL-01 (CA) waited only on NC-11
    await chat.deliver()
    assert "NL-01" in chat.channel.texts("ca")[-1] and "có thể bắt đầu" in chat.channel.texts("ca")[-1]
    chat.say("coord", "/khoiphuc NC-11")
    await chat.deliver()
    said = "\n".join(chat.channel.texts("ca")[-2:])
    assert "NL-01" in said and "lại phải chờ" in said and "NC-11" in said, said


def test_a_bare_number_is_no_answer_to_what_blocks_a_task(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("coord", "/trienkhai 1")
    with app.read() as store:
        nl01 = store.find_task(1, "NL-01").id
    assert "vướng gì" in chat.say("ca", callback=f"t:{nl01}:blk")
    out = chat.say("ca", "7")  # a mistyped choice, not a reason: nothing recorded, the choices again
    assert "không phải một lựa chọn" in out, out
    with app.read() as store:
        assert store.find_task(1, "NL-01").status != "blocked"
    assert "Đã ghi nhận vướng mắc" in chat.say("ca", callback=f"t:{nl01}:blk") + chat.say("ca", "thiếu 7 xe")


def test_the_task_list_of_an_ended_event_does_not_invite_updates(app):
    chat = _ended(app)
    out = chat.say("ca", "/viec")
    assert "NL-01" in out and "/xong MÃ" not in out and "đã kết thúc" in out, out


def test_the_status_of_an_ended_event_says_it_has_ended(app):
    chat = _ended(app)
    for lang, word in (("vi", "đã kết thúc"), ("en", "ended")):
        chat.say("coord", f"/lang {lang}")
        first = chat.say("coord", "/tinhhinh").splitlines()[0]
        assert word in first, first
