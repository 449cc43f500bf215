"""A free-text reply's reading becomes an action (issue 15): the glue between `bot.understanding` and chat.

The same function serves Telegram, Zalo and the local chat. Rules:
- a task code written in the text decides the task: the sender's own task → apply there and say so;
  another agency's → refuse, change nothing; unknown or several codes → ask which task;
- chatter and off-topic messages record nothing (and say so);
- a correction ("em báo nhầm, …") first takes back the sender's own last change if it still can;
- a done is applied only when the reading is certain; otherwise "Xác nhận việc NC-05 đã hoàn thành?"
  with Xong / Chưa buttons. Every applied reading is echoed ("Đã ghi nhận: NC-05 đang làm, 60%").
"""

from __future__ import annotations

from bot.channels.base import Button, Reply
from bot.understanding import Reading, understand
from workflows import service
from workflows.access import can_see_task, require_update
from workflows.errors import DutyError
from workflows.ports import Ctx


def prompt_of(store, msg) -> str | None:
    """The kind of bot message this reply answers: the one quoted, else the chat's last task message."""
    if msg.reply_to:
        sent = store.sent_message(msg.channel, msg.chat_id, msg.reply_to)
        if sent is not None and sent.task_id is not None:
            return sent.kind
    last = store.last_task_message(msg.channel, msg.chat_id)
    return last.kind if last is not None else None


def read(store, msg, text: str) -> Reading:
    return understand(text, last_prompt=prompt_of(store, msg))


def target_task(store, user, texts, task, reading: Reading):
    """(task to act on, a note to show, or None and a refusal Reply) from the codes written in the text.

    A question ("CB-05 bên Sở xong chưa ạ?") may name any task: it is forwarded about the bound task."""
    if not reading.codes or reading.codes == (task.code.upper(),) or reading.kind == "question":
        return task, None, None
    found = store.tasks_by_codes(task.event_id, reading.codes)
    if len(reading.codes) > 1 or len(found) != 1:
        key = "understood.which_task" if len(reading.codes) > 1 else "understood.unknown_code"
        return None, None, Reply(texts(key, codes=", ".join(reading.codes), code=task.code), task_id=task.id)
    other = found[0]
    try:
        if not can_see_task(user, other.lead, other.supporting or []):
            raise DutyError("forbidden")
        require_update(user, other.lead)
    except DutyError:  # someone else's task: refuse, change nothing
        return None, None, Reply(texts("understood.not_yours", code=other.code, current=task.code), task_id=task.id)
    locked = store.task(other.id, lock=True)
    return locked, texts("understood.by_code", code=other.code, current=task.code), None


def headline(texts, note: str | None, correction: bool):
    """What the bot understood, as the first line(s) of its answer, so a misreading is seen and undone at once."""

    def line(task) -> str:
        if task.status == "in_progress" and task.percent:
            said = texts("understood.recorded_percent", code=task.code, percent=task.percent)
        else:
            said = texts(f"understood.recorded.{task.status}", code=task.code)
        extra = [note] if note else []
        extra += [texts("understood.corrected")] if correction else []
        return "\n".join([*extra, said])

    return line


def take_back(app, msg, user, store, task) -> None:
    """A correction replaces the sender's own last change when it still can (same rules as the undo button)."""
    entry_id = store.last_audit_id(task.id)
    entry = store.audit_entry(entry_id) if entry_id is not None else None
    if entry is None or entry.action != "status" or entry.actor_id != getattr(user, "id", None):
        return
    try:
        result = service.undo(store, Ctx(actor=user, channel=msg.channel, now=app.now(), message_ref=msg.ref), entry)
    except DutyError:
        return  # too late or changed since: the new report still goes through the normal rules
    app.notifier.enqueue(store, result.notices, app.now())


def confirm_done(texts, task) -> Reply:
    buttons = [
        [Button(texts("button.done"), f"c:{task.id}:done"), Button(texts("understood.not_yet"), f"t:{task.id}:prog")]
    ]
    return Reply(texts("understood.confirm_done", code=task.code), buttons=buttons, task_id=task.id, kind="asked_done")
