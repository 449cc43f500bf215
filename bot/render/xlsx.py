"""The coordinators' workbook (openpyxl, write-only so 5,000 tasks build in about a second).

Sheets (Vietnamese names and headings; English with /lang en):
1. "Tổng hợp" / "Summary": one row per lead agency (total, done on time, done late, overdue,
   blocked, open, cancelled, on-time rate against the original deadline), a total row, then
   the event's name, start and the time the figures were taken;
2. "Nhiệm vụ" / "Tasks": one row per task, the same fields as the CSV export
   (`bot.render.export.CSV_FIELDS`), overdue rows red, blocked rows amber, with a filter;
3. "Nhật ký" / "Audit": the audit trail in time order;
4. "Rút kinh nghiệm" / "After action": always present (figures "so far" while the event
   runs): on-time rate per agency, longest delays, blocked reasons, extensions granted.

Times are real Excel dates: the local wall-clock time in the event's zone (Excel has no time
zones), formatted dd/mm/yyyy hh:mm. Percent is a number 0–100; rates are fractions shown as %.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from bot.i18n import Texts, strip_html
from bot.render.export import CSV_FIELDS
from workflows.report_figures import after_action, by_agency, event_tz, parse_time, report_now, tally, views
from workflows.report_model import EventReport, as_report

DATE_FMT = "dd/mm/yyyy hh:mm"
RATE_FMT = "0%"
DAYS_FMT = "0.0"
MAX_AAR_ROWS = 50            # rows per after-action section (the chat message shows fewer)
MAX_CELL = 32000             # Excel's limit is 32,767 characters per cell

# Named explicitly: a bold font without a name makes LibreOffice fall back to a serif face.
_BOLD = Font(name="Calibri", size=11, bold=True)
_TITLE = Font(name="Calibri", size=14, bold=True)
_LEFT = Alignment(horizontal="left")
_HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")
_SECTION_FILL = PatternFill("solid", fgColor="BDD7EE")
_RED = PatternFill("solid", fgColor="F8CBAD")      # overdue
_AMBER = PatternFill("solid", fgColor="FFE699")    # blocked
_GREEN = PatternFill("solid", fgColor="C6EFCE")
_THIN = Border(bottom=Side(style="thin", color="8EA9DB"))

# tasks sheet: CSV field → (heading key, width)
_TASK_COLUMNS = {
    "code": ("rpt.col.code", 9), "title": ("rpt.col.title", 70), "lead": ("rpt.col.lead", 9),
    "supporting": ("rpt.col.supporting", 24), "phase": ("rpt.col.phase", 16),
    "original_deadline": ("rpt.col.original_deadline", 17), "deadline": ("rpt.col.deadline", 17),
    "status": ("rpt.col.status", 15), "overdue": ("rpt.col.overdue", 10), "percent": ("rpt.col.percent", 11),
    "blocked_reason": ("rpt.col.blocked_reason", 30), "completed_at": ("rpt.col.completed_at", 17),
    "evidence_count": ("rpt.col.evidence_count", 12), "last_note": ("rpt.col.last_note", 40),
}
assert tuple(_TASK_COLUMNS) == CSV_FIELDS, "the tasks sheet and the CSV export must keep the same fields"

_SUMMARY_COLUMNS = (("rpt.col.agency_code", 12), ("rpt.col.agency", 58), ("rpt.col.total", 9),
                    ("rpt.col.on_time", 15), ("rpt.col.late", 14), ("rpt.col.overdue", 10),
                    ("rpt.col.blocked", 10), ("rpt.col.open", 10), ("rpt.col.cancelled", 10),
                    ("rpt.col.on_time_rate", 16))
_AUDIT_COLUMNS = (("rpt.col.code", 9), ("rpt.col.at", 17), ("rpt.col.actor", 20), ("rpt.col.channel", 10),
                  ("rpt.col.action", 18), ("rpt.col.detail", 80))
_AAR_WIDTHS = (13, 50, 12, 17, 17, 17, 12, 40, 18)


def plain(texts: Texts, key: str, **params) -> str:
    """A catalogue string as plain text (for cells and chart labels)."""
    return strip_html(texts(key, **params))


def _sheet_title(texts: Texts, key: str) -> str:
    title = plain(texts, key)
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31]


class _Sheet:
    """A write-only sheet with cheap cell styling helpers."""

    def __init__(self, wb: Workbook, title: str, widths, *, repeat_header: bool = True, a3: bool = False) -> None:
        self.ws = ws = wb.create_sheet(title)
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        # printed: landscape, one page wide (A3 for the wide tasks sheet), headings on every page
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = 8 if a3 else 9  # A3 / A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        if repeat_header:
            ws.print_title_rows = "1:1"
        self.rows = 0

    def cell(self, value, *, fmt: str | None = None, font=None, fill=None, border=None, align=None):
        if isinstance(value, str):
            # user text: no control characters (openpyxl refuses them), no formulas ("=…" stays text)
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if len(value) > MAX_CELL:
                value = value[:MAX_CELL] + "…"
        c = WriteOnlyCell(self.ws, value)
        if c.data_type == "f":
            c.data_type = "s"
        if fmt and value is not None:
            c.number_format = fmt
        if font is not None:
            c.font = font
        if fill is not None:
            c.fill = fill
        if border is not None:
            c.border = border
        if align is not None:
            c.alignment = align
        return c

    def append(self, values) -> None:
        self.ws.append([v if isinstance(v, Cell) else self.cell(v) for v in values])
        self.rows += 1

    def header(self, headings) -> None:
        self.append([self.cell(h, font=_BOLD, fill=_HEAD_FILL, border=_THIN) for h in headings])


def workbook_bytes(data: EventReport | dict, texts: Texts, *, now: datetime | None = None,
                   summary_only: bool = False) -> bytes:
    """The .xlsx file for the event's report (or its export dict), headings in `texts.lang`.

    `summary_only`: just the per-agency counts (for a group chat: no names, notes or audit)."""
    data = as_report(data)
    tz = event_tz(data, texts.tz)
    now = report_now(data, now, tz)
    vs = views(data, now, tz)
    wb = Workbook(write_only=True)

    def local(value) -> datetime | None:
        dt = parse_time(value, tz)
        return dt.replace(tzinfo=None) if dt else None

    _summary(wb, texts, data, vs, now, local)
    if not summary_only:
        _tasks(wb, texts, data, vs, local)
        _audit(wb, texts, data, local)
        _after_action(wb, texts, data, now, local)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _summary(wb, texts, data, vs, now, local) -> None:
    sh = _Sheet(wb, _sheet_title(texts, "rpt.sheet.summary"), [w for _, w in _SUMMARY_COLUMNS])
    sh.ws.freeze_panes = "A2"
    sh.header([plain(texts, k) for k, _ in _SUMMARY_COLUMNS])

    def row(code, name, t, font=None):
        cells = [sh.cell(code, font=font), sh.cell(name, font=font)]
        for key in ("total", "on_time", "late", "overdue", "blocked", "open", "cancelled"):
            value = getattr(t, key)
            fill = (_RED if key == "overdue" else _AMBER if key == "blocked" else None) if value else None
            cells.append(sh.cell(value, font=font, fill=fill))
        cells.append(sh.cell(t.on_time_rate, fmt=RATE_FMT, font=font))
        sh.append(cells)

    for code, t in by_agency(vs):
        row(code, data.agency_name(code, texts.lang), t)
    row(plain(texts, "rpt.xlsx.total_row"), "", tally(vs), _BOLD)
    sh.append([])
    info = [("rpt.xlsx.event", data.event.name, None),
            ("rpt.xlsx.start", local(data.event.start), DATE_FMT),
            ("rpt.xlsx.as_of", now.replace(tzinfo=None), DATE_FMT)]
    for key, value, fmt in info:
        sh.append([sh.cell(plain(texts, key), font=_BOLD), sh.cell(value, fmt=fmt, align=_LEFT)])
    if not data.tasks:
        sh.append([sh.cell(plain(texts, "rpt.common.no_tasks"), font=_BOLD)])
    sh.append([sh.cell(plain(texts, "rpt.xlsx.rate_note"))])


def _tasks(wb, texts, data, vs, local) -> None:
    lang = texts.lang
    sh = _Sheet(wb, _sheet_title(texts, "rpt.sheet.tasks"), [w for _, w in _TASK_COLUMNS.values()], a3=True)
    sh.ws.freeze_panes = "B2"
    sh.header([plain(texts, k) for k, _ in _TASK_COLUMNS.values()])
    yes = plain(texts, "rpt.xlsx.yes")
    phases = {}
    for v in vs:
        t = v.task
        fill = _RED if v.overdue else _AMBER if v.status == "blocked" else None
        if t.phase not in phases:
            phases[t.phase] = data.phase_name(t.phase, lang)
        values = (t.code, t.title_in(lang), t.lead, ", ".join(t.supporting), phases[t.phase],
                  local(t.original_deadline), local(t.deadline), texts.status(v.status), yes if v.overdue else "",
                  t.percent, t.blocked_reason, local(t.completed_at) if v.status == "done" else None,
                  t.evidence_count, t.last_note)
        sh.append([sh.cell(val, fill=fill, fmt=DATE_FMT if isinstance(val, datetime) else None) for val in values])
    last = get_column_letter(len(_TASK_COLUMNS))
    sh.ws.auto_filter.ref = f"A1:{last}{max(sh.rows, 2)}"


def _audit(wb, texts, data, local) -> None:
    sh = _Sheet(wb, _sheet_title(texts, "rpt.sheet.audit"), [w for _, w in _AUDIT_COLUMNS])
    sh.ws.freeze_panes = "A2"
    sh.header([plain(texts, k) for k, _ in _AUDIT_COLUMNS])
    rows = []
    for t in data.tasks:
        for e in t.audit:
            rows.append((local(e.at), t.number, t.code, e))
    rows.sort(key=lambda r: (r[0] is None, r[0] or datetime.min, r[1]))
    for at, _, code, e in rows:
        action = e.action
        sh.append([code, sh.cell(at, fmt=DATE_FMT), e.actor, e.channel,
                   plain(texts, f"action.{action}") if texts.has(f"action.{action}") else action,
                   _detail_text(texts, action, e.detail, local)])
    sh.ws.auto_filter.ref = f"A1:{get_column_letter(len(_AUDIT_COLUMNS))}{max(sh.rows, 2)}"


def _detail_text(texts: Texts, action: str, detail: dict, local) -> str:
    """An audit entry's detail in words: 'Đang làm → Xong (100%) · ghi chú: ...'."""
    def when(v):
        dt = local(v) if isinstance(v, str) else None
        return dt.strftime("%d/%m/%Y %H:%M") if dt else str(v)

    parts = []
    if action == "status":
        parts.append(f"{texts.status(str(detail.get('from', '')))} → {texts.status(str(detail.get('to', '')))}"
                     f" ({detail.get('percent', 0)}%)")
    elif action in ("deadline", "deadline_moved", "extension_approved", "extension_requested", "reassign"):
        if "from" in detail:
            parts.append(f"{when(detail['from']) if action != 'reassign' else detail['from']} → "
                         f"{when(detail.get('to')) if action != 'reassign' else detail.get('to')}")
        elif "to" in detail:
            parts.append(f"→ {when(detail['to'])}")
        if "request" in detail:
            parts.append(plain(texts, "rpt.detail.request", request=detail["request"]))
    elif action == "evidence":
        parts.append(" ".join(str(x) for x in (detail.get("kind"), detail.get("filename")) if x))
    else:
        parts += [f"{k}: {v}" for k, v in detail.items()]
    for key in ("reason", "note"):
        if detail.get(key):
            parts.append(plain(texts, f"rpt.detail.{key}", text=detail[key]))
    return " · ".join(p for p in parts if p)


def _days(td: timedelta | None) -> float | None:
    return round(td.total_seconds() / 86400, 2) if td is not None else None


def _after_action(wb, texts, data, now, local) -> None:
    lang = texts.lang
    aar = after_action(data, now)
    sh = _Sheet(wb, _sheet_title(texts, "rpt.sheet.aar"), _AAR_WIDTHS, repeat_header=False)
    sh.append([sh.cell(plain(texts, "rpt.xlsx.aar_title", event=aar.event.name), font=_TITLE)])
    sh.append([sh.cell(plain(texts, "rpt.xlsx.as_of")), sh.cell(now.replace(tzinfo=None), fmt=DATE_FMT, align=_LEFT)])
    if not aar.ended:
        sh.append([sh.cell(plain(texts, "rpt.aar.provisional"))])

    def section(title_key, heads, rows, total):
        sh.append([])
        sh.append([sh.cell(plain(texts, title_key, count=total), font=_BOLD, fill=_SECTION_FILL)]
                  + [sh.cell(None, fill=_SECTION_FILL) for _ in heads[1:]])
        if not rows:
            sh.append([sh.cell(plain(texts, "rpt.xlsx.none"))])
            return
        sh.header([plain(texts, h) for h in heads])
        for values, fill in rows[:MAX_AAR_ROWS]:
            sh.append([sh.cell(v, fill=fill, fmt=(DATE_FMT if isinstance(v, datetime) else fmt))
                       for v, fmt in values])
        if len(rows) > MAX_AAR_ROWS:
            sh.append([sh.cell(plain(texts, "rpt.more", count=len(rows) - MAX_AAR_ROWS))])

    rates = [([(a.agency, None), (data.agency_name(a.agency, lang), None), (a.due, None),
               (a.on_time, None), (a.late, None), (a.on_time_rate, RATE_FMT)],
              _GREEN if a.on_time_rate == 1 else None) for a in aar.agencies]
    section("rpt.xlsx.sec_rates", ("rpt.col.agency_code", "rpt.col.agency", "rpt.col.due", "rpt.col.on_time",
                                   "rpt.col.late", "rpt.col.on_time_rate"), rates, len(rates))
    delays = [([(d.code, None), (d.task.title_in(lang), None), (d.task.lead, None),
                (local(d.original_deadline), None), (local(d.deadline), None),
                (local(d.completed_at), None), (_days(d.delay), DAYS_FMT),
                (plain(texts, "rpt.xlsx.still_open") if d.open else "", None)],
               _RED if d.open else None) for d in aar.delays]
    section("rpt.xlsx.sec_delays", ("rpt.col.code", "rpt.col.title", "rpt.col.lead", "rpt.col.original_deadline",
                                    "rpt.col.deadline", "rpt.col.completed_at", "rpt.col.delay_days",
                                    "rpt.col.state"), delays, len(delays))
    blocked = [([(b.code, None), (b.task.title_in(lang), None), (b.task.lead, None), (local(b.at), None),
                 (local(b.until), None), (b.actor, None), (_days(b.duration), DAYS_FMT), (b.reason, None)],
                _AMBER if b.still else None) for b in aar.blocked]
    section("rpt.xlsx.sec_blocked", ("rpt.col.code", "rpt.col.title", "rpt.col.lead", "rpt.col.blocked_at",
                                     "rpt.col.unblocked_at", "rpt.col.actor", "rpt.col.blocked_days",
                                     "rpt.col.reason"), blocked, len(blocked))
    ext = [([(x.code, None), (x.task.title_in(lang), None), (x.task.lead, None), (local(x.old), None),
             (local(x.new), None), (local(x.at), None), (_days(x.added), DAYS_FMT), (x.reason, None),
             (x.actor, None)], None) for x in aar.extensions]
    section("rpt.xlsx.sec_ext", ("rpt.col.code", "rpt.col.title", "rpt.col.lead", "rpt.col.old_deadline",
                                 "rpt.col.new_deadline", "rpt.col.granted_at", "rpt.col.added_days",
                                 "rpt.col.reason", "rpt.col.granted_by"), ext, len(ext))
