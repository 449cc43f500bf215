"""What an operator (or a load balancer) asks: is the database up, are the loops alive, who
leads, is mail piling up. `healthy` is False (HTTP 503) when the database does not answer, a
loop is dead, stuck or failing for a while, or a due outbox row has waited too long."""

from __future__ import annotations

from bot.instance import WORKER_ID
from storage import leases
from storage.health import outbox_health
from workflows.clock import utc_now


def health_report(app, runtime=None) -> dict:
    now = utc_now()
    cfg = app.settings.server
    report = {
        "healthy": True,
        "problems": [],
        "worker": WORKER_ID,
        "role": getattr(runtime, "role", None),
        "database": "ok",
    }
    liveness = getattr(runtime, "liveness", None)
    if liveness is not None:
        report["loops"] = liveness.report(cfg.health_stuck_after, cfg.health_failing_after)
        for name, state in report["loops"].items():
            if not state["healthy"]:
                what = "dead" if state["dead"] else "stuck" if state["stuck"] else "failing"
                report["problems"].append(f"loop {name} {what}")
    try:
        outbox = outbox_health(app.db, app.now())
        report["outbox_backlog"] = outbox.backlog
        report["outbox_parked"] = outbox.parked
        report["last_delivery_error"] = outbox.last_error
        # How long the most overdue message has been waiting to go: a stalled delivery shows here first.
        oldest = outbox.oldest_due
        age = max((app.now() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        report["oldest_due_seconds"] = round(age, 1)
        if age > cfg.health_max_due_age:
            report["problems"].append(f"outbox: a due message has waited {age:.0f} s")
        leader = leases.holder(app.db, "scheduler", now)
        report["scheduler_leader"] = leader
        report["is_leader"] = leader == WORKER_ID
    except Exception as exc:  # the point of a health check is to say so, not to crash
        report["database"] = f"error: {type(exc).__name__}"
        report["problems"].append("database unreachable")
    report["healthy"] = not report["problems"]
    return report
