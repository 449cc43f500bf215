"""The machine-readable truth of an event (PRODUCT.md "export"), as JSON, CSV and rows.

Times are ISO 8601 in the event's time zone with their UTC offset; `status` includes the
derived `waiting`; `overdue` is derived from now.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from storage.repositories import SqlStore
from workflows.spec import load_template
from workflows.states import effective_status, is_overdue

log = logging.getLogger(__name__)

# The workbook's tasks sheet, column for column (bot/render/xlsx.py builds its headings from this).
CSV_FIELDS = ("code", "title", "lead", "supporting", "phase", "original_deadline", "deadline", "status",
              "overdue", "percent", "blocked_reason", "completed_at", "evidence_count", "last_note")


def _iso(dt: datetime | None, tz: ZoneInfo) -> str | None:
    return dt.astimezone(tz).isoformat() if dt else None


def event_export(store: SqlStore, event, now: datetime) -> dict:
    """Everything about `event`: its tasks with derived status, evidence counts and audit trail."""
    tz = ZoneInfo(event.timezone)
    tasks = store.tasks(event.id)
    by_code = {t.code: t for t in tasks}
    counts = store.evidence_counts(event.id)
    audit_by_task: dict[int, list] = {}
    for entry in store.event_audit(event.id):
        if entry.task_id is not None:
            audit_by_task.setdefault(entry.task_id, []).append(entry)
    out = []
    for t in sorted(tasks, key=lambda t: t.number):
        deps_done = all(by_code.get(c) is not None and by_code[c].status == "done" for c in t.depends_on or [])
        entries = audit_by_task.get(t.id, [])
        notes = [e.detail.get("note") for e in entries if e.detail.get("note")]
        out.append({
            "number": t.number, "code": t.code, "title": t.title, "title_en": t.title_en or "", "phase": t.phase,
            "lead": t.lead,
            "supporting": list(t.supporting or []), "depends_on": list(t.depends_on or []),
            "deadline": _iso(t.deadline, tz), "original_deadline": _iso(t.original_deadline, tz),
            "status": effective_status(t.status, dependencies_done=deps_done),
            "overdue": is_overdue(t.status, t.deadline, now), "percent": t.percent,
            "blocked_reason": t.blocked_reason, "completed_at": _iso(t.completed_at, tz),
            "evidence_count": counts.get(t.id, 0), "last_note": notes[-1] if notes else None,
            "audit": [{"at": _iso(e.at, tz), "actor": e.actor, "channel": e.channel, "action": e.action,
                       "detail": e.detail} for e in entries],
        })
    agencies = {a.code: {"name": a.name, "name_en": a.name_en or ""} for a in store.agencies()}
    return {"event": {"id": event.id, "name": event.name, "template": event.template_id,
                      "start": _iso(event.start, tz), "launched": event.launched_at is not None,
                      "ended": event.ended_at is not None, "ended_at": _iso(event.ended_at, tz),
                      "timezone": event.timezone, "exported_at": _iso(now, tz)},
            "agencies": {code: agencies[code] for code in sorted({t["lead"] for t in out} & set(agencies))},
            "phases": _phases(event, out),
            "tasks": out}


def _phases(event, tasks: list[dict]) -> list[dict]:
    """The event's phases in template order (names from its template file; bare codes if it is gone)."""
    used = list(dict.fromkeys(t["phase"] for t in tasks))
    named: list[dict] = []
    try:
        named = [{"code": p.code, "name": p.name, "name_en": p.name_en or ""}
                 for p in load_template(event.template_path).phases]
    except Exception as exc:  # a moved or edited template must not break a report
        log.info("phases of event %s: template %s unreadable (%s)", event.id, event.template_path, exc)
    known = {p["code"] for p in named}
    return [p for p in named if p["code"] in used] + [{"code": c, "name": c, "name_en": ""}
                                                      for c in used if c not in known]


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


# A spreadsheet runs a cell that starts with one of these as a formula (`=cmd|' /C calc'!A0`).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """User text that would start a formula is written with a leading ' (shown as text)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(data: dict) -> str:
    """The tasks sheet as CSV: machine names (status, agency codes), ISO times, `overdue` true/false.

    Starts with a UTF-8 byte order mark, so Excel on Windows reads the diacritics right."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in data["tasks"]:
        writer.writerow({key: _cell(value) for key, value in
                         {**row, "supporting": " ".join(row["supporting"]),
                          "overdue": "true" if row["overdue"] else "false"}.items()})
    return buf.getvalue()
