"""The coordinators' morning digest: one message per event and coordinator per day, once."""

from __future__ import annotations

from bot.context import App
from bot.i18n import Texts
from bot.notify import channel_for
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
            for user in staff:
                ident = channel_for(store, user)
                if ident is None:
                    continue
                text = digest_text(data, Texts(user.language or app.settings.general.language, app.tz), now)
                queued += store.enqueue_values(
                    dict(
                        dedupe_key=f"digest:{event.id}:{day}:{user.id}",
                        user_id=user.id,
                        channel=ident.channel,
                        chat_id=ident.chat_id,
                        kind="digest",
                        text=text,
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
    return queued
