"""Coordinator actions that finish cleanly: cancel/restore a task, confirm ending an event (and
removing a person: bot.commands.people),
and launches/broadcasts that wait for the morning (quiet hours) unless marked urgent.

Buttons here carry "co:<action>:<arg>"; every press re-checks that the presser is staff.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.channels.base import Button, IncomingMessage, Reply
from bot.commands import STAFF, Call, UsageError, command, people
from bot.commands._helpers import notify, task_by_ref
from bot.context import App
from bot.i18n import Texts, strip_html
from bot.uow import UnitOfWork
from workflows import service
from workflows.access import require_staff
from workflows.errors import DutyError
from workflows.reminders import quiet_release

_CB = re.compile(r"^co:(end|keep|now|rm|rmkeep):([a-z0-9]{1,12})$")  # rm*: /xoa (bot.commands.people)
# What "Gửi ngay" releases: the outbox kinds a launch and a broadcast write.
HELD_KINDS = {"launch": ("assignment",), "broadcast": ("broadcast",)}


def quiet_hold(app: App, urgent: bool) -> datetime | None:
    """When a launch or broadcast made now should go out: None (now), or the end of quiet hours."""
    if urgent:
        return None
    from bot.scheduler import base_policy

    now = app.now()
    release = quiet_release(now, base_policy(app).quiet_hours, app.tz)
    return release if release > now else None


def held_reply(texts: Texts, what: str, text: str, hold: datetime | None) -> list[Reply]:
    """The coordinator's answer; when held, it says until when and offers "Gửi ngay"."""
    if hold is None:
        return [Reply(text)]
    note = texts("quiet.held", at=hold)
    return [Reply(text + "\n" + note, buttons=[[Button(texts("quiet.send_now"), f"co:now:{what}")]])]


@command("cancel", "huy", audience=STAFF, menu=("staff",))
def cancel(call: Call) -> list[Reply]:
    if len(call.args) < 2:
        raise UsageError()
    with call.write() as store:
        t = task_by_ref(store, call, call.args[0], lock=True)
        result = service.cancel(store, call.ctx(), t, " ".join(call.args[1:]))
        notify(call, store, result.notices)
    return call.reply("cancel.done", code=t.code, reason=result.detail["reason"])


@command("restore", "khoiphuc", audience=STAFF, menu=("staff",))
def restore(call: Call) -> list[Reply]:
    if len(call.args) != 1:
        raise UsageError()
    with call.write() as store:
        t = task_by_ref(store, call, call.args[0], lock=True)
        result = service.restore(store, call.ctx(), t)
        notify(call, store, result.notices)
    return call.reply(
        "cancel.restored", code=t.code, status=call.texts.status(result.task.status), deadline=result.task.deadline
    )


def confirm_end(call: Call, event) -> list[Reply]:
    """/ketthuc asks first: ending stops every reminder and sends the after-action report."""
    buttons = [
        [
            Button(call.texts("endconfirm.yes"), f"co:end:{event.id}"),
            Button(call.texts("endconfirm.no"), f"co:keep:{event.id}"),
        ]
    ]
    return [Reply(call.texts("endconfirm.ask", id=event.id, name=event.name), buttons=buttons)]


def handle_callback(app: App, msg: IncomingMessage, user, texts: Texts, uow: UnitOfWork | None = None) -> list[Reply]:
    uow = uow or app.unit_of_work()  # None: its own transactions (not in a batch)
    m = _CB.match(msg.callback or "")
    if m is None:
        return [Reply(texts("err.stale_button"), toast=texts("err.stale_button"))]
    require_staff(user)
    action, arg = m.group(1), m.group(2)
    if action == "now":
        kinds = HELD_KINDS.get(arg)
        if kinds is None:
            return [Reply(texts("err.stale_button"), toast=texts("err.stale_button"))]
        with uow.write() as store:
            released = store.release_held(kinds, app.now())
        text = texts("quiet.released", count=released) if released else texts("quiet.nothing_held")
        return [_answer(text, edit=True)]
    if not arg.isdigit():
        return [Reply(texts("err.stale_button"), toast=texts("err.stale_button"))]
    if action in ("rm", "rmkeep"):
        return people.on_press(app, msg, user, texts, action, arg, uow)
    from bot.event_ending import end_event

    with uow.write() as store:
        event = store.get_event(int(arg))
        if event is None:
            raise DutyError("unknown_event", event=arg)
        if event.ended_at is not None:  # a second press, or another coordinator ended it
            return [_answer(texts("endevent.already", id=event.id), edit=True)]
        if action == "keep":
            return [_answer(texts("endconfirm.kept", id=event.id, name=event.name), edit=True)]
        end_event(app, store, event, actor=user, channel=msg.channel)
    return [_answer(texts("endevent.done", id=event.id, name=event.name), edit=True)]


def _answer(text, *, edit: bool) -> Reply:
    return Reply(text, edit=edit, toast=strip_html(text)[:190])
