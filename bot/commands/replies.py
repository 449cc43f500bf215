"""Button presses, free-text replies and attachments: the conversational side of a task.

A reply binds to the task of the bot message it answers (or, where a platform has no
reply threads, to the last task message in that chat). When the reading of a free-text
reply is not certain, the bot asks back with choices instead of guessing.
"""

from __future__ import annotations

import re

from bot.channels.base import Button, IncomingMessage, Reply
from bot.context import App
from bot.i18n import Texts
from bot.repeat_press import no_percent_in, percent_buttons, repeated_percent
from bot.uow import UnitOfWork
from bot.views import task_buttons, task_card
from storage.repositories import SqlStore
from workflows import reporting, service
from workflows.access import can_see_task, require_update
from workflows.errors import DutyError
from workflows.ports import Ctx, Notice
from workflows.quota import check_agency_quota, mib
from workflows.states import CLOSED

_CB = re.compile(r"^(t|p|c):(\d{1,9}):(ack|prog|done|blk|unblk|\d{1,3})$")
_UNDO = re.compile(r"^u:(\d{1,12})$")
_PERCENT = re.compile(r"(\d{1,3})\s*%?")


def _ctx(app: App, msg: IncomingMessage, user) -> Ctx:
    return Ctx(actor=user, channel=msg.channel, now=app.now(), message_ref=msg.ref)


def _apply(app, msg, user, texts, store: SqlStore, task, kind: str, headline=None, **kw) -> Reply:
    done = reporting.report_status(store, _ctx(app, msg, user), task, kind, **kw)
    app.notifier.enqueue(store, done.notices, app.now())
    card = task_card(texts, done.task, app.now(), done.dependencies, store.evidence_count(task.id))
    first = headline(done.task) if headline else texts(f"reported.{done.task.status}", code=task.code)
    buttons = task_buttons(texts, task.id) if done.task.status not in ("done", "cancelled") else []
    # The change just made can be taken back for a while.
    buttons = buttons + [[Button(texts("button.undo"), f"u:{done.undo_entry}")]]
    return Reply(first + "\n\n" + card, buttons=buttons, task_id=task.id, kind="task",
                 toast=texts(f"status.{done.task.status}"))


def _visible_task(store: SqlStore, user, task_id: int):
    task = store.task(task_id, lock=True)
    if task is None or not can_see_task(user, task.lead, task.supporting or []):
        raise DutyError("unknown_task", ref=f"#{task_id}")
    require_update(user, task.lead)  # every press re-checks the presser's agency
    return task


def _undo(app: App, msg: IncomingMessage, user, texts: Texts, entry_id: int, uow: UnitOfWork) -> list[Reply]:
    with uow.write() as store:
        store.user(user.id).pending = None
        entry = store.audit_entry(entry_id)
        if entry is None or entry.task_id is None:
            return [Reply(texts("err.stale_button"), toast=texts("err.stale_button"))]
        _visible_task(store, user, entry.task_id)
        result = service.undo(store, _ctx(app, msg, user), entry)
        app.notifier.enqueue(store, result.notices, app.now())
        codes = {t.code: t for t in store.tasks(result.task.event_id)}
        card = task_card(texts, result.task, app.now(), codes, store.evidence_count(result.task.id))
    text = texts("undo.done", code=result.task.code) + "\n\n" + card
    return [Reply(text, buttons=task_buttons(texts, result.task.id), task_id=result.task.id, kind="task", edit=True,
                  toast=texts("undo.done", code=result.task.code))]


def handle_callback(app: App, msg: IncomingMessage, user, texts: Texts, uow: UnitOfWork | None = None) -> list[Reply]:
    from bot.commands import joining

    uow = uow or app.unit_of_work()  # None: its own transactions (not in a batch)
    if (join := joining.CALLBACK.match(msg.callback or "")) is not None:  # "Chuyển sang …" / "Giữ nguyên"
        return joining.confirm(app, msg, user, texts, int(join.group(1)), join.group(2) == "y", uow)
    undo = _UNDO.match(msg.callback or "")
    if undo is not None:
        return _undo(app, msg, user, texts, int(undo.group(1)), uow)
    m = _CB.match(msg.callback or "")
    if m is None:
        return [Reply(texts("err.stale_button"), toast=texts("err.stale_button"))]
    prefix, task_id, action = m.group(1), int(m.group(2)), m.group(3)
    with uow.write() as store:
        task = _visible_task(store, user, task_id)
        me = store.user(user.id)
        if prefix == "t" and action in ("prog", "blk"):  # a closed task or ended event: refused before asking
            reporting.check_report_status(store, _ctx(app, msg, user), task,
                                          "progress" if action == "prog" else "blocked")
        if prefix == "t" and action == "prog":
            me.pending = {"kind": "percent", "task_id": task.id}
            buttons = [[Button(f"{p}%", f"p:{task.id}:{p}") for p in (25, 50, 75, 90)]]
            return [Reply(texts("ask.percent", code=task.code), buttons=buttons, task_id=task.id, kind="ask")]
        if prefix == "t" and action == "blk":
            me.pending = {"kind": "blocked_reason", "task_id": task.id}
            return [Reply(texts("ask.reason", code=task.code), task_id=task.id, kind="ask")]
        me.pending = None
        if action.isdigit() and repeated_percent(store, user.id, task, min(int(action), 100), app.now()):
            said = texts("qa3.same_percent", code=task.code, percent=task.percent)
            return [Reply(said, task_id=task.id, toast=said)]
        if action.isdigit():  # "p:<id>:<pct>" or a confirmed "c:<id>:<pct>"
            reply = _apply(app, msg, user, texts, store, task, "progress", percent=min(int(action), 100))
        else:
            kind = {"ack": "ack", "done": "done", "unblk": "unblocked"}.get(action)
            if kind is None:
                return [Reply(texts("err.stale_button"), toast=texts("err.stale_button"))]
            reply = _apply(app, msg, user, texts, store, task, kind)
    reply.edit = prefix == "t"
    return [reply]


def drop_pending(app: App, user, uow: UnitOfWork | None = None) -> None:
    """A command (or any move that is not the answer) drops the question the bot asked back."""
    if getattr(user, "pending", None):
        with (uow or app.unit_of_work()).write() as store:
            store.user(user.id).pending = None
        user.pending = None


def _answers_pending(pending: dict | None, text: str) -> bool:
    """Is this text the answer to "vướng gì?" rather than a report of its own ("Không vướng gì", "xong rồi")?"""
    from bot.understanding import understand

    if not pending or pending.get("kind") != "blocked_reason" or not text:
        return False
    reading = understand(text, last_prompt="ask")
    # A bare number ("7", a mistyped choice) is unclear too, but no reason: it is answered as such.
    return reading.kind == "blocked" or (not reading.confident and reading.hint != "bare_number")


def _bound_task_id(store: SqlStore, msg: IncomingMessage, user) -> int | None:
    if msg.reply_to:  # answering a particular task message wins over a question asked earlier
        sent = store.sent_message(msg.channel, msg.chat_id, msg.reply_to)
        if sent is not None and sent.task_id is not None:
            return sent.task_id
    if user.pending and user.pending.get("task_id"):
        return int(user.pending["task_id"])
    last = store.last_task_message(msg.channel, msg.chat_id)
    return last.task_id if last is not None else None


_CAPTION_CODE = re.compile(r"(?<![\w-])([A-Za-z]{1,10}-\d{1,4}[A-Za-z]?)(?![\w-])")


def _task_in_caption(app: App, store: SqlStore, caption: str, user):
    """The task a file's caption names by its code ("CB-05 biên bản"), if any.

    Where no reply thread says which task a file is about (Zalo), the caption is the sender's own
    word for it; it wins over "the last task shown". A code of the sender's agency is preferred
    when live events share codes (a rehearsal and the real one)."""
    codes = _CAPTION_CODE.findall(caption or "")
    if not codes:
        return None
    current = store.current_event(app.now())
    events = [e for e in store.list_events() if e.launched_at is not None and e.ended_at is None] or \
        ([current] if current is not None else [])
    for code in codes:
        found = [t for e in events if (t := store.find_task(e.id, code)) is not None]
        if found:
            mine = [t for t in found if t.lead == getattr(user, "agency_code", None) and t.status not in CLOSED]
            return (mine or found)[0]
    return None


def handle_text(app: App, msg: IncomingMessage, user, texts: Texts, uow: UnitOfWork | None = None) -> list[Reply]:
    if user.role in ("admin", "coordinator", "observer") and not msg.attachment and not user.pending:
        return [Reply(texts("text.staff_hint"))]
    with (uow or app.unit_of_work()).write() as store:
        named = _task_in_caption(app, store, msg.text, user) if msg.attachment is not None else None
        if named is not None and user.role == "contact" and named.lead != user.agency_code:
            # Never filed under another task instead: the person meant this one and is told why not.
            return [Reply(texts("err.evidence_other_agency", code=named.code, agency=named.lead))]
        task_id = named.id if named is not None else _bound_task_id(store, msg, user)
        if task_id is not None and named is None and not msg.reply_to and not user.pending:
            task_id = _own_task_meant(app, store, msg, user, task_id)
        if task_id is None:
            return [Reply(texts("text.which_task"))]
        task = _visible_task(store, user, task_id)
        me = store.user(user.id)
        pending, me.pending = me.pending, None
        if pending and pending.get("task_id") != task.id:
            pending = None  # the question was about another task
        if msg.attachment is not None:
            return [_evidence(app, msg, user, texts, store, task)]
        text = msg.text.strip()
        if _answers_pending(pending, text):
            return [_apply(app, msg, user, texts, store, task, "blocked", reason=text)]
        if pending and pending.get("kind") == "blocked_reason" and _says_no_blocker(text):
            return [Reply(texts("pending.no_blocker", code=task.code), task_id=task.id)]
        if pending and pending.get("kind") == "percent":
            m = _PERCENT.fullmatch(text)
            if m and int(m.group(1)) <= 100:
                return [_apply(app, msg, user, texts, store, task, "progress", percent=int(m.group(1)))]
            if not m and no_percent_in(text):  # "chưa": nothing recorded, asked again
                me.pending = pending
                return [Reply(texts("qa3.no_percent", code=task.code), buttons=percent_buttons(task.id),
                              task_id=task.id, kind="ask")]
            if m:  # a number, but not a percent: say so and keep asking
                me.pending = pending
                return [Reply(texts("err.bad_percent"), task_id=task.id, kind="ask")]
        return [_understood(app, msg, user, texts, store, task, text)]


def _own_task_meant(app: App, store: SqlStore, msg: IncomingMessage, user, task_id: int) -> int | None:
    """The chat's last task message may be one the agency only supports (the launch sends those last):
    a contact's words then mean a task their code names, or none ("which task?"), not a refusal."""
    task = store.task(task_id)
    if user.role != "contact" or task is None or task.lead == user.agency_code:
        return task_id
    named = _task_in_caption(app, store, msg.text, user)
    return named.id if named is not None and named.lead == user.agency_code else None


def _says_no_blocker(text: str) -> bool:
    """ "Không vướng gì", "ko có gì vướng": an answer to "vướng gì?" that records nothing."""
    from bot.understanding import understand

    reading = understand(text, last_prompt="ask")
    return reading.kind in ("progress", "ack") and reading.percent is None


def _understood(app, msg, user, texts, store, task, text: str) -> Reply:
    from bot.commands import understood as u  # the reading → action rules (issue 15)

    reading = u.read(store, msg, text)
    if reading.kind == "chatter":
        return Reply(texts("understood.chatter", code=task.code), task_id=task.id)
    task, note, refusal = u.target_task(store, user, texts, task, reading)
    if refusal is not None:
        return refusal
    if reading.correction and reading.confident and reading.kind in ("done", "progress", "blocked", "unblocked"):
        u.take_back(app, msg, user, store, task)
    if not reading.confident:  # asking back on a closed task or an ended event only leads to a refusal
        kind = "done" if reading.kind == "done" else "progress"
        reporting.check_report_status(store, _ctx(app, msg, user), task, kind)
    if reading.kind == "done" and not reading.confident:  # done needs certainty: confirm first
        return u.confirm_done(texts, task)
    if reading.confident and reading.kind in ("done", "progress", "blocked", "unblocked", "ack"):
        first = u.headline(texts, note, reading.correction)
        if reading.kind == "blocked":
            return _apply(app, msg, user, texts, store, task, "blocked", first, reason=reading.reason or text)
        if reading.kind == "progress":
            return _apply(app, msg, user, texts, store, task, "progress", first, percent=reading.percent, note=text)
        return _apply(app, msg, user, texts, store, task, reading.kind, first, note=text)
    if reading.confident and reading.kind == "question":
        app.notifier.enqueue(store, [Notice(key="question", to="coordinators", task_id=task.id, kind="news",
                                            params={"code": task.code, "text": text, "actor": user.name,
                                                    "agency": task.lead})], app.now())
        return Reply(texts("text.question_forwarded", code=task.code), task_id=task.id)
    # Not sure: offer the plausible readings as buttons (numbered choices on Zalo/console).
    store.user(user.id).pending = {"kind": "blocked_reason", "task_id": task.id} if reading.kind == "blocked" else None
    kinds = [reading.kind, *reading.alternatives]
    buttons = []
    for k in dict.fromkeys(kinds):
        if k == "done":
            buttons.append(Button(texts("button.done"), f"c:{task.id}:done"))
        elif k == "progress":
            data = f"c:{task.id}:{reading.percent}" if reading.percent is not None else f"t:{task.id}:prog"
            label = (texts("ask.progress_n", percent=reading.percent) if reading.percent is not None
                     else texts("button.prog"))
            buttons.append(Button(label, data))
        elif k == "blocked":
            buttons.append(Button(texts("button.blk"), f"t:{task.id}:blk"))
        elif k == "unblocked":
            buttons.append(Button(texts("button.unblk"), f"c:{task.id}:unblk"))
        elif k == "ack":
            buttons.append(Button(texts("button.ack"), f"c:{task.id}:ack"))
    if not buttons:
        buttons = task_buttons(texts, task.id)[0]
    key = f"ask.{reading.hint}" if reading.hint else "ask.unsure"  # e.g. a number that is no choice on offer
    if reading.hint == "bare_number" and not (text.isdigit() and int(text) <= 100):
        key = "ask.bare_number_no_percent"  # "e.g. 150%" would only be refused next
    return Reply(texts(key, code=task.code, text=text), buttons=[buttons], task_id=task.id, kind="ask")


def _evidence(app, msg, user, texts, store, task) -> Reply:
    att = msg.attachment
    if att.data is None and att.size <= app.settings.evidence.max_bytes:  # could not be fetched: keep nothing
        return Reply(texts("evidence.not_received", code=task.code), task_id=task.id)
    if store.evidence_bytes() + att.size > app.settings.limits.evidence_total_bytes:
        app.notifier.enqueue(store, [Notice(key="evidence_full", to="coordinators", kind="news", urgent=True,
                                            params={"limit": mib(app.settings.limits.evidence_total_bytes)},
                                            dedupe_key=f"evidence_full:{app.now().date()}")], app.now())
        return Reply(texts("err.evidence_storage_full", code=task.code), task_id=task.id)
    refusal = check_agency_quota(store, task, att.size, app.settings.limits.evidence_per_agency_bytes)
    if refusal is not None:  # nothing stored; the coordinators hear it once per agency and quota
        app.notifier.enqueue(store, [refusal.notice], app.now())
        return Reply(texts("err.evidence_quota", code=task.code, agency=refusal.agency, size=mib(refusal.size),
                           used=mib(refusal.used), limit=mib(refusal.limit)), task_id=task.id)
    result = service.attach_evidence(
        store, _ctx(app, msg, user), task, kind=att.kind, size=att.size,
        max_bytes=app.settings.evidence.max_bytes, data=att.data, filename=att.filename, mime=att.mime,
        caption=msg.text or "", external_ref=att.file_ref)
    app.notifier.enqueue(store, result.notices, app.now())
    return Reply(texts("evidence.saved", code=task.code, count=store.evidence_count(task.id)), task_id=task.id)
