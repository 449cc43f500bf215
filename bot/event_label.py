"""Which event a task message is about, said on the message when more than one event is live.

A rehearsal and the real ceremony share task codes: "CB-05 đã xong" must say which CB-05.
With one live event nothing is added (the common case costs one small query, and only for
answers or notices that are about a task).
"""

from __future__ import annotations

from bot.i18n import Safe, Texts


def live_event_names(store) -> dict[int, str]:
    """Event id -> name of the launched, not ended events, when there are two or more."""
    live = {e.id: e.name for e in store.list_events() if e.launched_at is not None and e.ended_at is None}
    return live if len(live) > 1 else {}


def label_for(texts: Texts, store, task_id: int, live: dict[int, str]) -> str:
    task = store.task(task_id)
    if task is None or task.event_id not in live:
        return ""
    return texts("which.label", id=task.event_id, name=live[task.event_id])


def label_events(app, texts: Texts, replies: list, uow=None) -> list:
    """Prefix each answer about a task with its event's name when several events are live."""
    if not any(r.task_id is not None for r in replies):
        return replies
    with (uow or app.unit_of_work()).read() as store:
        live = live_event_names(store)
        if not live:
            return replies
        for r in replies:
            if r.task_id is not None and (label := label_for(texts, store, r.task_id, live)):
                r.text = Safe(label + "\n" + r.text)
    return replies
