"""What each page shows, built from one read transaction (no HTML here).

Statuses are counted the way the JSON export states them (`waiting` derived from
dependencies, `overdue` from the deadline and now), so the board and the export agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage import web as web_store
from storage.repositories import SqlStore
from workflows.access import can_read_all, can_see_task
from workflows.states import dependency_met, effective_status, is_overdue

STATUSES = ("todo", "waiting", "acknowledged", "in_progress", "blocked", "done", "cancelled")
LIST_LIMIT = 30  # rows per list on the board; the rest are counted ("+N more")


@dataclass
class AgencyCounts:
    code: str
    name: str = ""
    counts: dict = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    overdue: int = 0
    done_on_time: int = 0

    @property
    def total(self) -> int:  # cancelled duties are not part of the work
        return sum(self.counts.values()) - self.counts["cancelled"]

    @property
    def percent(self) -> int:
        return round(100 * self.counts["done"] / self.total) if self.total else 0

    @property
    def on_time(self) -> int | None:
        done = self.counts["done"]
        return round(100 * self.done_on_time / done) if done else None


def statuses(tasks: list, all_tasks: list | None = None) -> dict[int, str]:
    """The shown status of each task (waiting while a dependency is not done or cancelled)."""
    done = {t.code for t in (all_tasks or tasks) if dependency_met(t.status)}
    return {t.id: effective_status(t.status, dependencies_done=set(t.depends_on or []) <= done) for t in tasks}


def agency_counts(rows: list[tuple], waiting: list[tuple], names: dict[str, str]) -> list[AgencyCounts]:
    """Per lead agency from the database's counts; `waiting` moved out of todo/acknowledged."""
    out: dict[str, AgencyCounts] = {}
    for lead, counts, overdue, on_time in rows:
        r = out[lead] = AgencyCounts(lead, names.get(lead, lead))
        r.counts.update(counts)
        r.overdue, r.done_on_time = overdue, on_time
    for lead, status, n in waiting:
        out[lead].counts[status] -= n
        out[lead].counts["waiting"] += n
    # Trouble first: the rows a committee asks about are the ones with overdue or blocked work.
    return sorted(out.values(), key=lambda r: (-(r.overdue + r.counts["blocked"]), r.code))


def board(store: SqlStore, viewer, event, now: datetime, lang: str) -> dict:
    """Counts per agency, overdue and blocked lists, extension requests: computed by the
    database and capped, so the page costs the same for 50 tasks and for 5,000."""
    s = store.s
    # A contact's board is their own agency's work (what they support shows on their agency page).
    scope = None if can_read_all(viewer) else viewer.agency_code
    names = {c: (e or n) if lang == "en" else n for c, (n, e) in web_store.agency_names(s).items()}
    rows = agency_counts(
        web_store.status_counts(s, event.id, now, scope), web_store.waiting_counts(s, event.id, scope), names
    )
    total = AgencyCounts("*")
    for r in rows:
        for k, v in r.counts.items():
            total.counts[k] += v
        total.overdue += r.overdue
        total.done_on_time += r.done_on_time
    blocked = web_store.blocked_tasks(s, event.id, LIST_LIMIT, scope)
    since = store.last_reports_of([t.id for t in blocked]) if blocked else {}
    blocked_since = sorted(
        ((t, since.get(t.id) or t.updated_at) for t in blocked),
        key=lambda p: p[1].timestamp() if p[1] else float("inf"),
    )
    extensions, extensions_total = web_store.waiting_extensions(s, event.id, LIST_LIMIT, scope)
    return {
        "rows": rows,
        "total": total,
        "statuses": STATUSES,
        "overdue": web_store.overdue_tasks(s, event.id, now, LIST_LIMIT, scope),
        "overdue_more": max(0, total.overdue - LIST_LIMIT),
        "blocked": blocked_since,
        "blocked_more": max(0, total.counts["blocked"] - LIST_LIMIT),
        "extensions": extensions,
        "extensions_total": extensions_total,
    }


def run_of_show(store: SqlStore, viewer, event, now: datetime) -> list[dict]:
    """The ceremony day's cues in time order, each with its check-in state."""
    scope = None if can_read_all(viewer) else viewer.agency_code
    cues = web_store.cue_rows(store.s, event.id, scope)
    slots = store.slot_keys_of([t.id for t in cues]) if cues else {}
    out = []
    for t in cues:
        keys = slots.get(t.id, frozenset())
        escalated = any(k.startswith("escalation:checkin") for k in keys)
        if t.status == "done":
            state = "ready"
        elif t.status == "cancelled":
            state = "cancelled"
        elif escalated:
            state = "escalated"
        elif any(k.startswith("checkin") for k in keys) or t.deadline <= now:
            state = "asked"
        else:
            state = "upcoming"
        out.append(
            {"task": t, "state": state, "escalated": escalated and t.status != "done", "blocked": t.status == "blocked"}
        )
    return out


def visible_rows(store: SqlStore, viewer, event_id: int) -> list:
    if can_read_all(viewer):
        return web_store.task_rows(store.s, event_id, supporting=False)
    return [t for t in web_store.task_rows(store.s, event_id) if can_see_task(viewer, t.lead, t.supporting or [])]


def shown_statuses(store: SqlStore, event_id: int, rows: list) -> dict[int, str]:
    """The shown status of each row: `waiting` decided by the database over the whole event (a
    contact's dependency on another agency's task counts, though they do not see that task)."""
    waiting = web_store.waiting_ids(store.s, event_id)
    return {t.id: "waiting" if t.id in waiting else t.status for t in rows}


def timeline(store: SqlStore, viewer, event, now: datetime, phases: list[dict]) -> dict:
    """Per phase: its span and each task as a dot at its deadline (positions in % of the whole)."""
    tasks = visible_rows(store, viewer, event.id)
    if not tasks:
        return {"phases": [], "ticks": []}
    lo = min(min(t.deadline for t in tasks), event.start, now) - timedelta(days=1)
    hi = max(max(t.deadline for t in tasks), now) + timedelta(days=1)
    span = (hi - lo).total_seconds()

    def pos(dt: datetime) -> float:
        return round(100 * (dt - lo).total_seconds() / span, 2)

    order = [p["code"] for p in phases] + sorted({t.phase for t in tasks} - {p["code"] for p in phases})
    shown = shown_statuses(store, event.id, tasks)
    by_phase: dict[str, list] = {}
    for t in tasks:
        by_phase.setdefault(t.phase, []).append(t)
    out = []
    for code in order:
        mine = by_phase.get(code)
        if not mine:
            continue
        first, last = min(t.deadline for t in mine), max(t.deadline for t in mine)
        dots = [
            {
                "task": t,
                "x": pos(t.deadline),
                "state": "overdue" if is_overdue(t.status, t.deadline, now) else shown[t.id],
            }
            for t in mine
        ]
        out.append(
            {
                "code": code,
                "phase": next((p for p in phases if p["code"] == code), None),
                "left": pos(first),
                "width": max(pos(last) - pos(first), 0.6),
                "dots": dots,
                "done": sum(t.status == "done" for t in mine),
                "total": len(mine),
            }
        )
    return {"phases": out, "now": pos(now), "start": pos(event.start)}


def task_page(store: SqlStore, task) -> dict:
    codes = store.task_statuses(task.event_id, task.depends_on or [])
    return {
        "history": store.history(task.id),
        "evidence": store.evidence_of(task.id),
        "depends": [(c, codes.get(c)) for c in task.depends_on or []],
        "extensions": [r for r in store.pending_extensions(task.event_id) if r.task_id == task.id],
    }


def since_text(texts, delta: timedelta) -> str:
    """'3 ngày 4 giờ' / '2 giờ 5 phút': how long something has lasted, for people."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return texts("web.dur.dh", d=days, h=hours)
    if hours:
        return texts("web.dur.hm", h=hours, m=mins)
    return texts("web.dur.m", m=mins)
