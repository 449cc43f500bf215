"""Commands an agency contact uses on their own agency's tasks."""

from __future__ import annotations

from bot.channels.base import Button, Reply
from bot.commands import CONTACT, MEMBER, Call, UsageError, command
from bot.commands._helpers import by_code, current_event, notify, split_when, task_by_ref
from bot.views import history_lines, task_buttons, task_card, task_line
from workflows import reporting, service
from workflows.access import can_read_all
from workflows.errors import DutyError
from workflows.states import CLOSED

_SUPPORTING_CODES = 40  # codes named in /viec before "... and N more"


@command("tasks", "viec", audience=CONTACT, menu=("contact",))
def tasks(call: Call) -> list[Reply]:
    if call.args and call.args != ["all"] and call.args != ["tatca"]:
        raise UsageError()
    show_all = bool(call.args)
    agency = call.user.agency_code
    if agency is None:
        return call.reply("tasks.staff_hint")
    now = call.app.now()
    with call.read() as store:
        event = current_event(store, call)
        codes = by_code(store, event.id)
        mine = [t for t in codes.values() if t.lead == agency and (show_all or t.status not in CLOSED)]
        helping = [t for t in codes.values() if agency in (t.supporting or []) and t.status not in CLOSED]
    mine.sort(key=lambda t: t.deadline)
    lines = [call.texts("tasks.head", agency=agency, event=event.name, count=len(mine))]
    lines += [task_line(call.texts, t, now, codes) for t in mine] or [call.texts("tasks.none")]
    helping.sort(key=lambda t: t.deadline)
    if helping and show_all:  # every supported task, one line each
        lines.append(call.texts("tasks_more.supporting_head", count=len(helping)))
        lines += [task_line(call.texts, t, now, codes) for t in helping]
    elif helping:  # every code, or as many as fit and how many more there are
        lines.append(
            call.texts(
                "tasks.supporting", count=len(helping), codes=", ".join(t.code for t in helping[:_SUPPORTING_CODES])
            )
        )
        if len(helping) > _SUPPORTING_CODES:
            lines.append(call.texts("tasks_more.supporting_more", count=len(helping) - _SUPPORTING_CODES))
    # An ended event's record is final: say so instead of how to update.
    lines.append(call.texts("tasks.footer_ended", event=event.id) if event.ended_at else call.texts("tasks.footer"))
    return [Reply("\n".join(lines))]


@command("task", "nv", audience=MEMBER, menu=("contact", "staff"))
def task(call: Call) -> list[Reply]:
    if len(call.args) != 1:
        raise UsageError()
    now = call.app.now()
    with call.read() as store:
        t = task_by_ref(store, call, call.args[0])
        codes = by_code(store, t.event_id)
        card = task_card(call.texts, t, now, codes, store.evidence_count(t.id))
        history = store.history(t.id) if can_read_all(call.user) else []
        # A group hears no personal data: the history without names, no evidence files.
        private = call.msg.chat_type == "private"
        evidence = store.evidence_of(t.id)[-5:] if can_read_all(call.user) and private else []
        ended = (event := store.get_event(t.event_id)) is not None and event.ended_at is not None
    if history:
        lines = history_lines(call.texts, history[-15:], names=private)
        card = card + "\n" + call.texts("card.history") + "\n" + "\n".join(lines)
    # No buttons where every press would be refused: a closed task, an ended event.
    mine = call.user.role == "contact" and t.lead == call.user.agency_code and t.status not in CLOSED and not ended
    buttons = task_buttons(call.texts, t.id) if mine else []
    replies = [Reply(card, buttons=buttons, task_id=t.id, kind="task")]
    for ev in evidence:  # coordinators get the evidence itself back, newest last
        caption = call.texts("evidence.caption", code=t.code, actor=ev.channel, at=ev.at, caption=ev.caption)
        if ev.kind == "photo" and ev.data:
            replies.append(Reply(caption, photo=ev.data))
        elif ev.data:
            replies.append(Reply(caption, document=(ev.filename or f"{t.code}-{ev.id}", ev.data)))
    return replies


def _report(call: Call, ref: str, kind: str, **kw) -> list[Reply]:
    with call.write() as store:
        t = task_by_ref(store, call, ref, lock=True)
        done = reporting.report_status(store, call.ctx(), t, kind, **kw)
        notify(call, store, done.notices)
    line = task_line(call.texts, done.task, call.app.now(), done.dependencies)
    return [
        Reply(
            call.texts(f"reported.{done.task.status}", code=t.code) + "\n" + line,
            task_id=t.id,
            buttons=[[Button(call.texts("button.undo"), f"u:{done.undo_entry}")]],
        )
    ]


@command("ack", "danhan", audience=CONTACT, menu=("contact",))
def ack(call: Call) -> list[Reply]:
    if len(call.args) < 1:
        raise UsageError()
    return _report(call, call.args[0], "ack", note=" ".join(call.args[1:]) or None)


@command("done", "xong", audience=CONTACT, menu=("contact",))
def done(call: Call) -> list[Reply]:
    if len(call.args) < 1:
        raise UsageError()
    return _report(call, call.args[0], "done", note=" ".join(call.args[1:]) or None)


@command("progress", "tiendo", audience=CONTACT, menu=("contact",))
def progress(call: Call) -> list[Reply]:
    if len(call.args) < 2:
        raise UsageError()
    raw = call.args[1].rstrip("%")
    if not raw.lstrip("-").isdigit():
        raise UsageError()
    if not 0 <= int(raw) <= 100:
        raise DutyError("bad_percent", value=raw)
    return _report(call, call.args[0], "progress", percent=int(raw), note=" ".join(call.args[2:]) or None)


@command("blocked", "vuong", audience=CONTACT, menu=("contact",))
def blocked(call: Call) -> list[Reply]:
    if len(call.args) < 2:
        raise UsageError()
    return _report(call, call.args[0], "blocked", reason=" ".join(call.args[1:]))


@command("extend", "giahan", audience=CONTACT, menu=("contact",))
def extend(call: Call) -> list[Reply]:
    if len(call.args) < 3:
        raise UsageError()
    new_deadline, rest = split_when(call, call.args[1:])
    if not rest:
        raise UsageError()
    with call.write() as store:
        t = task_by_ref(store, call, call.args[0], lock=True)
        result = service.request_extension(store, call.ctx(), t, new_deadline, " ".join(rest))
        notify(call, store, result.notices)
    return call.reply("extend.requested", code=t.code, deadline=new_deadline, request=result.detail["request"])
