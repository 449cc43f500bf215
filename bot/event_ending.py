"""Ending an event: reminders stop, and every coordinator gets the after-action report."""

from __future__ import annotations

from bot.actors import SystemActor
from bot.context import App
from bot.notify import queue_rendered
from bot.render.aftermath import after_action_text
from workflows import ending
from workflows.ports import Ctx
from workflows.report_model import event_report


def end_event(app: App, store, event, *, actor, channel: str) -> int:
    """End `event` (workflows.ending, in the caller's transaction) and queue the after-action report."""
    now = app.now()
    if ending.end_event(store, Ctx(actor=actor, channel=channel, now=now), event) is None:
        return 0
    data = event_report(store, event, now)
    return queue_rendered(
        store,
        store.users_with_role("admin", "coordinator", "observer"),
        default_lang=app.settings.general.language,
        tz=app.tz,
        now=now,
        kind="after_action",
        dedupe_key=lambda user: f"aar:{event.id}:{user.id}",
        render=lambda texts: after_action_text(data, texts, now),
    )


def end_finished_events(app: App) -> int:
    """Events whose last deadline passed a day ago end by themselves (run with the digest)."""
    now = app.now()
    ended = 0
    with app.write() as store:
        for event in ending.due_to_end(store, now):
            ended += end_event(app, store, event, actor=SystemActor(name="dutybot"), channel="system") > 0
    return ended
