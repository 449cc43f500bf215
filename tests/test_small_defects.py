"""Small defects found in use, each as the conversation that showed it."""

from __future__ import annotations

import pytest

from tests.helpers import Chat, seed_world


def _task(app, code):
    with app.read() as store:
        return store.find_task(1, code)


def test_after_the_event_has_ended_status_reports_are_refused_with_a_reason(app):
    seed_world(app)
    chat = Chat(app)
    assert "hoàn thành" in chat.say("ca", "/xong CB-23")
    assert "Đã hủy việc CB-05" in chat.say("coord", "/huy CB-05 gộp vào việc khác")
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
    assert "đã kết thúc" in chat.say("coord", "/huy NC-11 không cần nữa")
    assert "đã kết thúc" in chat.say("coord", "/khoiphuc CB-05")
    assert _task(app, "NC-11").status == before.status and _task(app, "CB-05").status == "cancelled"


def test_a_cancelled_dependency_no_longer_holds_a_task_back(app):
    from bot.render.export import event_export
    from bot.web import model

    seed_world(app)
    chat = Chat(app)
    assert "Chờ: CB-23" in chat.say("ca", "/nv NC-11")  # NC-11 depends only on CB-23
    assert "Đã hủy việc CB-23" in chat.say("coord", "/huy CB-23 không tổ chức nữa")
    card = chat.say("ca", "/nv NC-11")
    assert "Chờ:" not in card and "Chờ việc khác" not in card, card
    with app.read() as store:
        event = store.get_event(1)
        shown = {t["code"]: t["status"] for t in event_export(store, event, app.now())["tasks"]}
        statuses = model.statuses(store.tasks(1))
        nc11 = store.find_task(1, "NC-11")
    assert shown["NC-11"] == statuses[nc11.id] == "todo"


def test_yesterday_is_read_as_a_date_so_the_answer_says_it_has_passed(app):
    seed_world(app)
    chat = Chat(app)
    before = _task(app, "CB-05").deadline
    for text in (
        "/doihan CB-05 hôm qua 17h lùi lịch",
        "/doihan CB-05 hom qua lùi lịch",
        "/doihan CB-05 hôm kia lùi lịch",
    ):
        reply = chat.say("coord", text)
        assert "đã qua" in reply and "Không hiểu" not in reply, (text, reply)
    assert _task(app, "CB-05").deadline == before


def test_yesterday_and_the_day_before_as_parse_when_reads_them():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from workflows.dates import parse_when

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    now = datetime(2026, 5, 20, 3, 0, tzinfo=timezone.utc)  # 10:00 on the 20th in Hà Nội
    for text, day, hour in (
        ("hôm qua", 19, 17),
        ("hom qua 8h", 19, 8),
        ("8h30 hôm qua", 19, 8),
        ("bữa qua 2h chiều", 19, 14),
        ("yesterday 9:00", 19, 9),
        ("hôm kia", 18, 17),
        ("ngày kia", 22, 17),
        ("hôm nay", 20, 17),
    ):
        got = parse_when(text, now=now, tz=tz)
        assert (got.day, got.hour) == (day, hour), text


@pytest.mark.parametrize("name", ["DUTYBOT_TELEGRAMM__TOKEN", "dutybot_storag__url", "DUTYBOT_WEBB__ENABLED"])
def test_an_unknown_section_in_an_environment_variable_stops_start_up_naming_it(monkeypatch, capsys, name):
    from bot.cli import main
    from bot.config import ConfigError, load_settings

    monkeypatch.setenv(name, "x")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert name in str(err.value) and "unknown section" in str(err.value) and "\n" not in str(err.value)
    assert main(["workflow", "list"]) == 2
    assert name in capsys.readouterr().err


def test_other_dutybot_variables_without_a_section_are_still_left_alone(monkeypatch):
    from bot.config import load_settings

    monkeypatch.setenv("DUTYBOT_TEST_SOMETHING", "x")  # the test suite's own, e.g. DUTYBOT_TEST_POSTGRES_URL
    monkeypatch.setenv("DUTYBOT_WEB__ENABLED", "true")
    assert load_settings().web.enabled is True


def _offer_numbered_choices(app, chat, who: str, replies) -> list[str]:
    """What Zalo and the local chat do with buttons: remember them as numbered choices for the chat."""
    choices = [b.data for r in replies for row in (r.buttons or []) for b in row]
    with app.write() as store:
        store.remember_choices(chat.channel_name, who, choices)
    return choices


def _labels(replies) -> list[str]:
    return [b.label for r in replies for row in (r.buttons or []) for b in row]


def test_a_bare_number_that_is_no_offered_choice_is_explained_not_taken_as_a_percent(app):
    seed_world(app)
    chat = Chat(app)
    card = chat.send("ca", "/nv NC-11")
    assert len(_offer_numbered_choices(app, chat, "ca", card)) == 4  # Đã nhận, Đang làm, Xong, Vướng
    before = _task(app, "NC-11")
    replies = chat.send("ca", "7")
    text = "\n".join(r.text for r in replies)
    assert not any("7%" in label for label in _labels(replies)), _labels(replies)
    assert "“7”" in text and "7%" in text, text  # says it is no choice, and how to write a percent
    assert _labels(replies) == _labels(card)  # the same choices again
    after = _task(app, "NC-11")
    assert (after.status, after.percent, after.version) == (before.status, before.percent, before.version)
    # A number that is a choice still picks it; once the bot asked for a percent, a number is one.
    _offer_numbered_choices(app, chat, "ca", replies)
    asked = chat.send("ca", "2")
    assert "bao nhiêu phần trăm" in asked[0].text
    assert "70%" in chat.say("ca", "70") and _task(app, "NC-11").percent == 70


def test_after_a_reminder_asking_for_progress_a_bare_number_is_still_offered_as_a_percent():
    from bot.understanding import understand

    for prompt in ("due", "overdue", "reminder"):
        r = understand("70", last_prompt=prompt)
        assert (r.kind, r.percent) == ("progress", 70), prompt
    for prompt in (None, "task", "assignment", "ask", "asked_done", "checkin"):
        assert understand("7", last_prompt=prompt).kind == "unclear", prompt
    assert understand("được 70", last_prompt=None).percent == 70  # words around it make it a report


async def test_cancelling_the_last_task_another_waits_on_tells_its_agency_it_can_start(app):
    seed_world(app)
    chat = Chat(app)
    assert "Đã hủy việc CB-23" in chat.say("coord", "/huy CB-23 không tổ chức nữa")  # NC-11 (CA) waited on it
    await chat.deliver()
    assert any("NC-11" in t and "có thể bắt đầu" in t for t in chat.channel.texts("ca")), chat.channel.texts("ca")
