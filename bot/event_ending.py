"""Ending an event: reminders stop, and every coordinator gets the after-action report."""

from __future__ import annotations

from datetime import timedelta

from bot.actors import SystemActor
from bot.context import App
from bot.i18n import Texts
from bot.notify import channel_for
from bot.render.aftermath import after_action_text
from bot.render.export import event_export
from storage.models import Outbox
from workflows.ports import Ctx

# An event with no explicit end ends this long after its last deadline.
AUTO_END_AFTER = timedelta(days=1)


def end_event(app: App, store, event, *, actor, channel: str) -> int:
    """Mark `event` ended (in the caller's transaction) and queue the after-action report."""
    now = app.now()
    event.ended_at = now
    for t in store.tasks(event.id):
        t.next_reminder_at = None  # an ended event is no longer chased
    store.audit(event_id=event.id, task_id=None, ctx=Ctx(actor=actor, channel=channel, now=now),
                action="event_ended", detail={})
    data = event_export(store, event, now)
    queued = 0
    for user in store.users_with_role("admin", "coordinator", "observer"):
        ident = channel_for(store, user)
        if ident is None:
            continue
        text = after_action_text(data, Texts(user.language or app.settings.general.language, app.tz), now)
        queued += store.enqueue(Outbox(dedupe_key=f"aar:{event.id}:{user.id}", user_id=user.id,
                                       channel=ident.channel, chat_id=ident.chat_id, kind="after_action",
                                       text=text, created_at=now, next_attempt_at=now))
    return queued


def end_finished_events(app: App) -> int:
    """Events whose last deadline passed a day ago end by themselves (run with the digest)."""
    now = app.now()
    ended = 0
    with app.write() as store:
        for event in store.list_events():
            if event.launched_at is None or event.ended_at is not None:
                continue
            tasks = store.tasks(event.id)
            if tasks and max(t.deadline for t in tasks) + AUTO_END_AFTER < now:
                ended += end_event(app, store, event, actor=SystemActor(name="dutybot"), channel="system") > 0
    return ended
