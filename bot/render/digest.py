"""The coordinators' morning digest: one short message, readable on a phone.

done/total, what is due today, overdue and blocked work by agency (with reasons), and what
changed since yesterday (from the audit entries in the export). Every line is a catalogue
string rendered through `texts(...)`, so task titles, reasons and names are escaped; lists are
capped with "+N more" so the 58-task ceremony stays well under ~1,500 characters.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.i18n import Safe, Texts
from bot.render.aftermath import capped, short
from workflows.report_figures import TaskView, by_agency, event_tz, parse_time, report_now, tally, views
from workflows.report_model import AuditLine, EventReport, as_report

BUDGET = 1500  # characters of the message (HTML), a phone screen or two
# (agencies listed with overdue/blocked work, task codes per list, blocked reasons per agency):
# the first level whose message fits the budget is used.
LEVELS = ((6, 4, 2), (5, 3, 2), (4, 3, 1), (4, 2, 1), (3, 1, 1))


def digest_text(
    data: EventReport | dict, texts: Texts, now: datetime | None = None, *, since: datetime | None = None
) -> str:
    """The morning message for coordinators (Telegram HTML), about BUDGET characters at most."""
    data = as_report(data)
    tz = event_tz(data, texts.tz)
    now = report_now(data, now, tz)
    since = parse_time(since, tz) if since is not None else now - timedelta(hours=24)
    vs = views(data, now, tz)
    changes = _changed(data, since, now, tz)
    text = ""
    for level in LEVELS:
        text = _compose(texts, data, vs, now, since, changes, *level)
        if len(text) <= BUDGET:
            break
    return text


def _compose(
    texts: Texts,
    data: EventReport,
    vs: list[TaskView],
    now: datetime,
    since: datetime,
    changes: tuple[int, dict[str, list[str]]],
    max_agencies: int,
    max_codes: int,
    max_reasons: int,
) -> str:
    lines: list[str] = [texts("rpt.digest.head", date=now.strftime("%d/%m"), event=short(data.event.name, 80))]
    tot = tally(vs)
    if not tot.total:
        lines.append(texts("rpt.common.no_tasks"))
        return "\n".join(lines)
    pct = round(100 * tot.done / tot.total)
    lines.append(
        texts("rpt.digest.overall", done=tot.done, total=tot.total, pct=pct, overdue=tot.overdue, blocked=tot.blocked)
    )

    today = [v for v in vs if v.is_open and v.deadline is not None and v.deadline.date() == now.date()]
    today.sort(key=lambda v: v.deadline)
    if today:
        items = [
            texts("rpt.digest.due_item", code=v.task.code, lead=v.task.lead, time=v.deadline.strftime("%H:%M"))
            for v in today
        ]
        lines.append(texts("rpt.digest.due_today", count=len(today), items=capped(texts, items, max_codes + 2)))
    else:
        lines.append(texts("rpt.digest.due_none"))

    lines.append("")
    lines += _problems(texts, vs, max_agencies, max_codes, max_reasons)
    lines.append("")
    lines += _changes(texts, since, changes, max_codes + 1)
    return "\n".join(lines)


def _problems(texts: Texts, vs: list[TaskView], max_agencies: int, max_codes: int, max_reasons: int) -> list[str]:
    groups: dict[str, list[TaskView]] = {}
    for v in vs:
        groups.setdefault(v.task.lead or "?", []).append(v)
    rows = [(code, t) for code, t in by_agency(vs) if t.overdue or t.blocked]
    if not rows:
        return [texts("rpt.digest.all_clear")]
    rows.sort(key=lambda r: (-(r[1].overdue + r[1].blocked), r[0]))
    out = [texts("rpt.digest.problems_head")]
    for code, _t in rows[:max_agencies]:
        mine = sorted(groups[code], key=lambda v: (v.deadline is None, v.deadline or 0, v.task.code))
        parts = []
        late = [v.task.code for v in mine if v.overdue and v.status != "blocked"]
        if late:
            parts.append(texts("rpt.digest.overdue_part", count=len(late), codes=capped(texts, late, max_codes)))
        stuck = [v for v in mine if v.status == "blocked"]
        if stuck:
            items = [
                texts("rpt.digest.blocked_item", code=v.task.code, reason=short(v.task.blocked_reason, 40))
                for v in stuck
            ]
            parts.append(
                texts("rpt.digest.blocked_part", count=len(stuck), items=capped(texts, items, max_reasons, "; "))
            )
        out.append(texts("rpt.digest.agency_line", agency=code, parts=Safe(" · ".join(parts))))
    if len(rows) > max_agencies:
        out.append(texts("rpt.digest.more_agencies", count=len(rows) - max_agencies))
    return out


# audit action (and status target) → digest line key, in display order
_CHANGE_KINDS = (
    "done",
    "blocked",
    "progress",
    "acknowledged",
    "extension",
    "deadline",
    "reassign",
    "evidence",
    "extension_requested",
)


def _changed(data: EventReport, since: datetime, now: datetime, tz) -> tuple[int, dict[str, list[str]]]:
    """(number of updates, task codes per kind of change) from the audit entries in [since, now]."""
    found: dict[str, list[str]] = {k: [] for k in _CHANGE_KINDS}
    count = 0
    for t in data.tasks:
        code = t.code
        for e in t.audit:
            kind = _kind(e)
            if kind is None:
                continue
            at = parse_time(e.at, tz)
            if at is None or not since <= at <= now:
                continue
            count += 1
            if code not in found[kind]:
                found[kind].append(code)
    return count, found


def _changes(texts: Texts, since: datetime, changes: tuple[int, dict[str, list[str]]], max_codes: int) -> list[str]:
    count, found = changes
    if not count:
        return [texts("rpt.digest.no_changes", since=since)]
    out = [texts("rpt.digest.changes_head", since=since, count=count)]
    for kind in _CHANGE_KINDS:
        if found[kind]:
            out.append(texts(f"rpt.change.{kind}", count=len(found[kind]), codes=capped(texts, found[kind], max_codes)))
    return out


def _kind(entry: AuditLine) -> str | None:
    action, detail = entry.action, entry.detail
    if action == "status":
        to = detail.get("to")
        return {"done": "done", "blocked": "blocked", "in_progress": "progress", "acknowledged": "acknowledged"}.get(to)
    return {
        "extension_approved": "extension",
        "deadline": "deadline",
        "reassign": "reassign",
        "evidence": "evidence",
        "extension_requested": "extension_requested",
    }.get(action)
