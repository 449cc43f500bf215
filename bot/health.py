"""What an operator (or a load balancer) asks: is the database up, who leads, is mail piling up."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, text
from sqlmodel import select

from bot.instance import WORKER_ID
from storage import leases
from storage.models import Outbox


def health_report(app, runtime=None) -> dict:
    now = datetime.now(timezone.utc)
    report = {"worker": WORKER_ID, "role": getattr(runtime, "role", None), "database": "ok"}
    try:
        with app.db.read() as s:
            s.exec(text("SELECT 1"))
            report["outbox_backlog"] = s.exec(select(func.count()).select_from(Outbox)
                                              .where(Outbox.status == "pending")).one()
            report["outbox_parked"] = s.exec(select(func.count()).select_from(Outbox)
                                             .where(Outbox.status == "parked")).one()
            last = s.exec(select(Outbox.last_error, Outbox.created_at).where(Outbox.last_error.is_not(None))
                          .order_by(Outbox.id.desc()).limit(1)).first()
            report["last_delivery_error"] = last[0] if last else None
        leader = leases.holder(app.db, "scheduler", now)
        report["scheduler_leader"] = leader
        report["is_leader"] = leader == WORKER_ID
    except Exception as exc:  # the point of a health check is to say so, not to crash
        report["database"] = f"error: {type(exc).__name__}"
    return report
