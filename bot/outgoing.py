"""What leaves through the outbox, as the delivery worker sends it: a row read back as a
Reply (files and grouped news included), a reply queued as a row (a file travels with it, so
it survives a retry), and a chat's waiting answers merged into one message.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.channels.base import Button, Reply
from bot.context import App
from bot.i18n import Texts
from bot.notify import GROUP_SEP, grouped_text
from storage.outbox import OutboxRow as Outbox

# Answers to one chat that wait together go as one message: at most this many, within
# Telegram's limits for one message (characters; rows of buttons).
MERGE_MAX = 20
MERGE_SEP = "\n\n"
MAX_TEXT = 4096
MAX_KEYBOARD_ROWS = 100
ANSWER_MARK = "answer:"  # bot.answers.key_for


def reply_from_row(row: Outbox, tz: ZoneInfo) -> Reply:
    buttons = [[Button(b["label"], b["data"]) for b in r] for r in row.payload.get("buttons", [])]
    text = row.text
    if GROUP_SEP in text:  # news grouped while it waited (bot.notify): its header is written now
        text = grouped_text(Texts(row.payload.get("lang", "vi"), tz), text, row.created_at)
    document = photo = None
    if (doc := row.payload.get("document")) is not None:
        document = (doc["name"], base64.b64decode(doc["b64"]))
    if (pic := row.payload.get("photo")) is not None:
        photo = base64.b64decode(pic)
    return Reply(
        text,
        buttons=buttons,
        task_id=row.task_id,
        kind=row.kind,
        reply_to=row.payload.get("reply_to"),
        document=document,
        photo=photo,
    )


def mergeable(row: Outbox) -> bool:
    """An answer to a person (not news, not a file): several waiting for one chat go as one."""
    return (
        (row.dedupe_key or "").startswith(ANSWER_MARK) and "document" not in row.payload and "photo" not in row.payload
    )


def merge_run(head: Outbox, after: list[Outbox]) -> list[Outbox]:
    """The answers right behind `head` that fit in one message with it (text and keyboard)."""
    size, rows, run = len(head.text), len(head.payload.get("buttons", [])), []
    for row in after:
        size += len(MERGE_SEP) + len(row.text)
        rows += len(row.payload.get("buttons", []))
        if not mergeable(row) or size > MAX_TEXT or rows > MAX_KEYBOARD_ROWS:
            break
        run.append(row)
    return run


def merged_reply(rows: list[Outbox], tz: ZoneInfo) -> Reply:
    """One message for a chat's waiting answers, in order: their texts, their buttons, and a
    reply to the first message they answer. One answer is sent as it is."""
    replies = [reply_from_row(row, tz) for row in rows]
    if len(replies) == 1:
        return replies[0]
    first = replies[0]
    return Reply(
        MERGE_SEP.join(r.text for r in replies),
        buttons=[b for r in replies for b in r.buttons],
        kind=first.kind,
        reply_to=first.reply_to,
    )


def queue_reply(app: App, channel: str, chat_id: str, reply: Reply, retry_after: float | None) -> None:
    """An answer that could not go at once goes through the outbox, after the wait it was given."""
    now = app.now()
    payload = {"buttons": [[{"label": b.label, "data": b.data} for b in row] for row in reply.buttons]}
    # The file travels with its caption (a workbook, a chart: tens of KB). In the row's JSON as
    # base64 rather than a column of its own: only these rare queued answers carry one, and a
    # row that outlives a restart still has it.
    if reply.document is not None:
        name, data = reply.document
        payload["document"] = {"name": name, "b64": base64.b64encode(data).decode("ascii")}
    if reply.photo is not None:
        payload["photo"] = base64.b64encode(reply.photo).decode("ascii")
    with app.write() as store:
        store.enqueue_values(
            dict(
                channel=channel,
                chat_id=str(chat_id),
                kind=reply.kind,
                text=reply.text,
                payload=payload,
                task_id=reply.task_id,
                urgent=True,
                created_at=now,
                next_attempt_at=now + timedelta(seconds=retry_after or 1),
            )
        )
