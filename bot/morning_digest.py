"""The coordinators' morning digest: one message per event and coordinator per day, once."""

from __future__ import annotations

from bot.context import App
from bot.notify import queue_rendered
from workflows.report_model import event_report


def queue_digests(app: App) -> int:
    """Queue today's digest for every coordinator who wants it; returns how many were new."""
    from bot.render.digest import digest_text

    now = app.now()
    day = now.astimezone(app.tz).date().isoformat()
    queued = 0
    with app.write() as store:
        events = [e for e in store.list_events() if e.launched_at is not None and e.ended_at is None]
        staff = [u for u in store.users_with_role("admin", "coordinator") if u.digest]
        for event in events:
            data = event_report(store, event, now)
            queued += queue_rendered(
                store,
                staff,
                default_lang=app.settings.general.language,
                tz=app.tz,
                now=now,
                kind="digest",
                dedupe_key=lambda user, event_id=event.id: f"digest:{event_id}:{day}:{user.id}",
                render=lambda texts, data=data: digest_text(data, texts, now),
            )
    return queued
