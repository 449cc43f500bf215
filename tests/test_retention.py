"""Retention: old delivered messages and processed updates go, in small batches, by the
scheduler leader only; what the province must keep (events, tasks, audit, evidence) stays."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from bot.scheduler import Scheduler
from storage import leases, retention
from storage.models import AuditEntry, Evidence, InboundUpdate, Outbox
from tests.helpers import seed_event

KEPT_TABLES = ("event", "task", "auditentry", "evidence", "reminderslot", "user", "identity", "agency")


def _fill(app, *, old_sent: int, per_kind: int = 2) -> None:
    """`old_sent` delivered rows 100 days old, and of each other kind a few that must stay."""
    now = app.now()
    old, recent = now - timedelta(days=100), now - timedelta(days=10)
    with app.db.write() as s:
        task_id = s.execute(select(func.min(text("id"))).select_from(text("task"))).scalar_one()
        s.add(AuditEntry(event_id=1, task_id=task_id, at=old, action="report", detail={"note": "old"}))
        s.add(Evidence(task_id=task_id, kind="photo", filename="p.jpg", data=b"x", at=old))
        for i in range(old_sent):
            s.add(
                Outbox(
                    channel="telegram",
                    chat_id="1",
                    kind="news",
                    text=f"old {i}",
                    status="sent",
                    created_at=old,
                    sent_at=old,
                )
            )
        for _ in range(per_kind):
            s.add(
                Outbox(
                    channel="telegram",
                    chat_id="1",
                    kind="news",
                    text="recent",
                    status="sent",
                    created_at=recent,
                    sent_at=recent,
                )
            )
            s.add(
                Outbox(
                    channel="telegram",
                    chat_id="1",
                    kind="news",
                    text="old, never sent",
                    status="pending",
                    created_at=old,
                    next_attempt_at=old,
                )
            )
            s.add(
                Outbox(
                    channel="telegram", chat_id="1", kind="news", text="old, parked", status="parked", created_at=old
                )
            )
        for i in range(30):  # 30 telegram updates done 100 days ago
            s.add(
                InboundUpdate(
                    channel="telegram", update_key=str(1000 + i), status="done", received_at=old, processed_at=old
                )
            )
        # zalo: two old ones, a failed and a done (the newest of its channel)
        s.add(
            InboundUpdate(
                channel="zalo", update_key="z-1", status="failed", received_at=old, processed_at=old, error="x"
            )
        )
        s.add(InboundUpdate(channel="zalo", update_key="z-2", status="done", received_at=old, processed_at=old))
        s.add(
            InboundUpdate(channel="telegram", update_key="2000", status="done", received_at=recent, processed_at=recent)
        )
        s.add(InboundUpdate(channel="telegram", update_key="3000", status="pending", received_at=old))


def _counts(app) -> dict[str, int]:
    with app.db.read() as s:
        return {t: s.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in SQLModel.metadata.tables}


def test_prune_deletes_old_traffic_in_batches_and_keeps_the_record(app):
    seed_event(app)
    _fill(app, old_sent=23)
    before = _counts(app)
    pruned = retention.prune(app.db, app.now(), 90, batch=5)
    assert (pruned.outbox, pruned.inbox) == (23, 31)  # the 30 old telegram updates and zalo's older one
    after = _counts(app)
    assert {t: after[t] for t in KEPT_TABLES} == {t: before[t] for t in KEPT_TABLES}
    with app.db.read() as s:
        left = [(o.status, o.text) for o in s.exec(select(Outbox).order_by(Outbox.id)).scalars()]
        keys = sorted((u.channel, u.update_key) for u in s.exec(select(InboundUpdate)).scalars())
    assert sorted(set(left)) == [("parked", "old, parked"), ("pending", "old, never sent"), ("sent", "recent")]
    assert len(left) == 6
    # the recent one, the pending one, and the newest of each channel (a poller resumes after it) stay
    assert keys == [("telegram", "2000"), ("telegram", "3000"), ("zalo", "z-2")]
    assert retention.prune(app.db, app.now(), 90, batch=5).total == 0  # a second pass finds nothing


def test_a_pass_is_bounded_and_the_next_one_goes_on(app):
    seed_event(app)
    _fill(app, old_sent=12)
    first = retention.prune(app.db, app.now(), 90, batch=5, max_batches=1)
    assert first.outbox == 5
    rest = retention.prune(app.db, app.now(), 90, batch=5)
    assert rest.outbox == 7


def test_only_the_scheduler_leader_prunes(app):
    seed_event(app)
    _fill(app, old_sent=3)
    app.settings.storage.retention_days = 30
    # another instance leads (leases run on the wall clock): this one prunes nothing
    assert leases.acquire(app.db, "scheduler", "another-instance", timedelta(seconds=60), datetime.now(timezone.utc))
    follower = Scheduler(app)
    assert asyncio.run(follower.prune()) is None
    assert _counts(app)["outbox"] == 9
    leases.release(app.db, "scheduler", "another-instance")  # it stopped: this one leads and prunes
    pruned = asyncio.run(follower.prune())
    assert pruned is not None and pruned.outbox == 3 and _counts(app)["outbox"] == 6
