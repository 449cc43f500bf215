"""The machine-readable truth of an event (PRODUCT.md "export"), as JSON, CSV and rows.

Times are ISO 8601 in the event's time zone with their UTC offset; `status` includes the
derived `waiting`; `overdue` is derived from now.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from workflows.report_model import EventReport, event_report

# The workbook's tasks sheet, column for column (bot/render/xlsx.py builds its headings from this).
CSV_FIELDS = (
    "code",
    "title",
    "lead",
    "supporting",
    "phase",
    "original_deadline",
    "deadline",
    "status",
    "overdue",
    "percent",
    "blocked_reason",
    "completed_at",
    "evidence_count",
    "last_note",
)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def event_export(store, event, now: datetime) -> dict:
    """The export dict of `event` at `now` (see `to_export`)."""
    return to_export(event_report(store, event, now))


def to_export(report: EventReport) -> dict[str, Any]:
    """The read model in the export's shape (PRODUCT.md "export"): plain JSON values, ISO times."""
    ev = report.event
    tasks = [
        {
            "number": t.number,
            "code": t.code,
            "title": t.title,
            "title_en": t.title_en,
            "phase": t.phase,
            "lead": t.lead,
            "supporting": list(t.supporting),
            "depends_on": list(t.depends_on),
            "deadline": _iso(t.deadline),
            "original_deadline": _iso(t.original_deadline),
            "status": t.status,
            "overdue": t.overdue,
            "percent": t.percent,
            "blocked_reason": t.blocked_reason,
            "completed_at": _iso(t.completed_at),
            "evidence_count": t.evidence_count,
            "last_note": t.last_note,
            "audit": [
                {"at": _iso(e.at), "actor": e.actor, "channel": e.channel, "action": e.action, "detail": e.detail}
                for e in t.audit
            ],
        }
        for t in report.tasks
    ]
    return {
        "event": {
            "id": ev.id,
            "name": ev.name,
            "template": ev.template,
            "start": _iso(ev.start),
            "launched": ev.launched,
            "ended": ev.ended,
            "ended_at": _iso(ev.ended_at),
            "timezone": ev.timezone,
            "exported_at": _iso(ev.exported_at),
        },
        "agencies": {code: {"name": a.name, "name_en": a.name_en} for code, a in report.agencies.items()},
        "phases": [{"code": p.code, "name": p.name, "name_en": p.name_en} for p in report.phases],
        "tasks": tasks,
    }


def _plain(data: EventReport | dict) -> dict:
    return to_export(data) if isinstance(data, EventReport) else data


def to_json(data: EventReport | dict) -> str:
    return json.dumps(_plain(data), ensure_ascii=False, indent=2)


# A spreadsheet runs a cell that starts with one of these as a formula (`=cmd|' /C calc'!A0`).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """User text that would start a formula is written with a leading ' (shown as text)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(data: EventReport | dict) -> str:
    """The tasks sheet as CSV: machine names (status, agency codes), ISO times, `overdue` true/false.

    Starts with a UTF-8 byte order mark, so Excel on Windows reads the diacritics right."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in _plain(data)["tasks"]:
        writer.writerow(
            {
                key: _cell(value)
                for key, value in {
                    **row,
                    "supporting": " ".join(row["supporting"]),
                    "overdue": "true" if row["overdue"] else "false",
                }.items()
            }
        )
    return buf.getvalue()
