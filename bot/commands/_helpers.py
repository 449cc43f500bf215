"""Small pieces the command modules share: finding events and tasks, dates, notices."""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import datetime, timezone

from bot.channels.base import Button, Reply
from bot.commands import AskBack, Call, UsageError
from storage.repositories import SqlStore
from workflows.access import can_see_task
from workflows.dates import DateParseError, parse_when
from workflows.errors import DutyError
from workflows.ports import Notice
from workflows.states import CLOSED

_TASK_REF = re.compile(r"^(#?\d{1,6}|[A-Za-z]{1,10}-?\d{1,4}[A-Za-z]?)$")
# The event the person picked when asked "which event?" (bot.commands.replies re-runs the command).
CHOSEN_EVENT: ContextVar[int | None] = ContextVar("chosen_event", default=None)


def live_events(store: SqlStore) -> list:
    return [e for e in store.list_events() if e.launched_at is not None and e.ended_at is None]


def current_event(store: SqlStore, call: Call):
    event = store.current_event(call.app.now())
    if event is None:
        raise DutyError("no_event")
    return event


def event_by_ref(store: SqlStore, call: Call, ref: str | None):
    if not ref:
        return current_event(store, call)
    if not ref.lstrip("#").isdigit():
        raise UsageError()
    event = store.get_event(int(ref.lstrip("#")))
    if event is None:
        raise DutyError("unknown_event", event=ref)
    return event


def task_by_ref(store: SqlStore, call: Call, ref: str, *, lock: bool = False):
    """A task this user may see, by code or number; otherwise 'no such task'.

    With one live event, the task of the current event. With several (a rehearsal and the real
    one share codes): the only event where the task is open for the person (for a contact: led
    by their agency); when several qualify the bot asks which, with a button per event.
    A contact asking for another agency's task gets the same answer as for a task that
    does not exist, so the check reveals nothing.
    """
    if not _TASK_REF.match(ref or ""):
        raise UsageError()
    event = _event_for(store, call, ref)
    task = store.find_task(event.id, ref, lock=lock)
    if task is None or not can_see_task(call.user, task.lead, task.supporting or []):
        raise DutyError("unknown_task", ref=ref)
    return task


def _event_for(store: SqlStore, call: Call, ref: str):
    chosen = CHOSEN_EVENT.get()
    if chosen is not None and (event := store.get_event(chosen)) is not None:
        return event
    live = live_events(store)
    if len(live) < 2:
        return current_event(store, call)
    agency = getattr(call.user, "agency_code", None) if getattr(call.user, "role", None) == "contact" else None
    open_in = []
    for e in live:
        t = store.find_task(e.id, ref)
        if t is not None and t.status not in CLOSED and (agency is None or t.lead == agency):
            open_in.append(e)
    if len(open_in) == 1:
        return open_in[0]
    if len(open_in) > 1:
        texts = call.texts
        buttons = [[Button(texts("which.button", id=e.id, name=e.name[:40]), f"w:{e.id}")] for e in open_in]
        raise AskBack(
            [Reply(texts("which.ask", ref=ref.upper()), buttons=buttons, kind="ask")],
            {"kind": "which_event", "text": call.msg.text, "events": [e.id for e in open_in]},
        )
    return current_event(store, call)


def when(call: Call, text: str, *, default_time=None) -> datetime:
    """A Vietnamese-style date typed by a person, as aware UTC."""
    kwargs = {"default_time": default_time} if default_time else {}
    local = parse_when(text, now=call.app.now(), tz=call.app.tz, **kwargs)
    return local.astimezone(timezone.utc)


def split_when(call: Call, args: list[str], *, max_words: int = 3, default_time=None) -> tuple[datetime, list[str]]:
    """Take the longest leading run of words that parses as a date; return it and the rest."""
    if not args:
        raise UsageError()
    for n in range(min(max_words, len(args)), 0, -1):
        try:
            return when(call, " ".join(args[:n]), default_time=default_time), args[n:]
        except ValueError:
            continue
    # Every command taking a date answers an unreadable one the same way: the formats that work.
    raise DateParseError(args[0], f"cannot read {args[0]!r} as a date")


def notify(call: Call, store: SqlStore, notices: list[Notice]) -> int:
    return call.app.notifier.enqueue(store, notices, call.app.now())


def by_code(store: SqlStore, event_id: int) -> dict:
    return {t.code: t for t in store.tasks(event_id)}
