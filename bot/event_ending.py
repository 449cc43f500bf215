"""Ending an event: reminders stop, and every coordinator gets the after-action report."""

from __future__ import annotations

from bot.actors import SystemActor
from bot.context import App
from bot.i18n import Texts
from bot.notify import channel_for
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
    queued = 0
    for user in store.users_with_role("admin", "coordinator", "observer"):
        ident = channel_for(store, user)
        if ident is None:
            continue
        text = after_action_text(data, Texts(user.language or app.settings.general.language, app.tz), now)
        queued += store.enqueue_values(
            dict(
                dedupe_key=f"aar:{event.id}:{user.id}",
                user_id=user.id,
                channel=ident.channel,
                chat_id=ident.chat_id,
                kind="after_action",
                text=text,
                created_at=now,
                next_attempt_at=now,
            )
        )
    return queued


def end_finished_events(app: App) -> int:
    """Events whose last deadline passed a day ago end by themselves (run with the digest)."""
    now = app.now()
    ended = 0
    with app.write() as store:
        for event in ending.due_to_end(store, now):
            ended += end_event(app, store, event, actor=SystemActor(name="dutybot"), channel="system") > 0
    return ended
