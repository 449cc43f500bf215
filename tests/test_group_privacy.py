"""Groups hear no personal data: /task without names or evidence files, /report as the summary sheet only."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.channels.base import Attachment, IncomingMessage
from tests.helpers import Chat, seed_world


def _in_group(chat: Chat, who: str, text: str):
    chat._mid += 1
    return chat.router.handle(
        IncomingMessage(
            channel="fake",
            user_id=who,
            chat_id="-100777",
            chat_type="supergroup",
            text=text,
            message_id=str(chat._mid),
            display_name=who,
        )
    )


def _with_evidence(app) -> Chat:
    seed_world(app)
    chat = Chat(app)
    chat.say("ca", "/tiendo NC-11 40 đã họp với anh Tuấn")
    chat.send(
        "ca",
        "ảnh buổi họp",
        attachment=Attachment(kind="document", file_ref="f1", size=5, filename="bien-ban.pdf", data=b"%PDF-"),
    )
    return chat


def test_task_in_a_group_shows_history_without_names_and_no_files(app):
    chat = _with_evidence(app)
    private = chat.send("coord", "/nv NC-11")
    assert len(private) == 2 and private[1].document is not None  # the coordinator's own chat: the file too
    assert "ca (fake)" in private[0].text

    group = _in_group(chat, "coord", "/nv NC-11")
    assert len(group) == 1 and group[0].document is None and group[0].photo is None
    text = group[0].text
    assert "Lịch sử" in text and "40%" in text
    assert "ca (fake)" not in text and "(fake)" not in text and "bien-ban.pdf" not in text


def test_report_in_a_group_is_the_summary_sheet_only(app):
    chat = _with_evidence(app)
    full = chat.send("coord", "/baocao")[0]
    assert len(load_workbook(io.BytesIO(full.document[1])).sheetnames) == 4

    reply = _in_group(chat, "boss", "/baocao")[0]
    name, data = reply.document
    assert name.endswith("-summary.xlsx") and "chat riêng" in reply.text
    wb = load_workbook(io.BytesIO(data))
    assert len(wb.sheetnames) == 1
    cells = " ".join(str(c.value) for row in wb.worksheets[0].iter_rows() for c in row if c.value is not None)
    assert "CA" in cells and "ca (" not in cells and "anh Tuấn" not in cells


def test_people_are_listed_and_removed_only_in_a_private_chat(app):
    seed_world(app)
    chat = Chat(app)
    for text in ("/xoa", "/xoa CA", "/xoa #5", "/huylienket fake"):
        answer = _in_group(chat, "coord", text)[0].text
        assert "tin nhắn riêng" in answer and "#" not in answer, text
    assert "ca" in chat.say("coord", "/xoa CA")
