"""The coordinators' workbook (openpyxl): tasks sheet and audit trail, from the export data."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from bot.i18n import Texts

_HEADERS = {
    "vi": ("Mã", "Nhiệm vụ", "Giai đoạn", "Chủ trì", "Phối hợp", "Hạn", "Hạn ban đầu", "Trạng thái",
           "Quá hạn", "%", "Lý do vướng", "Hoàn thành lúc", "Minh chứng", "Ghi chú cuối"),
    "en": ("Code", "Duty", "Phase", "Lead", "Supporting", "Deadline", "Original deadline", "Status",
           "Overdue", "%", "Blocked reason", "Done at", "Evidence", "Last note"),
}
_RED = PatternFill("solid", fgColor="F8CBAD")
_AMBER = PatternFill("solid", fgColor="FFE699")


def _local(iso: str | None):
    # Excel has no time zones: write the local wall-clock time as a real date.
    return datetime.fromisoformat(iso).replace(tzinfo=None) if iso else None


def workbook_bytes(data: dict, texts: Texts) -> bytes:
    lang = texts.lang if texts.lang in _HEADERS else "vi"
    wb = Workbook()
    ws = wb.active
    ws.title = "Nhiệm vụ" if lang == "vi" else "Tasks"
    ws.append(_HEADERS[lang])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for t in data["tasks"]:
        ws.append([t["code"], t["title"], t["phase"], t["lead"], ", ".join(t["supporting"]), _local(t["deadline"]),
                   _local(t["original_deadline"]), texts.status(t["status"]), t["overdue"], t["percent"],
                   t["blocked_reason"], _local(t["completed_at"]), t["evidence_count"], t["last_note"]])
        fill = _RED if t["overdue"] else _AMBER if t["status"] == "blocked" else None
        if fill:
            for cell in ws[ws.max_row]:
                cell.fill = fill
    for col in ("F", "G", "L"):
        for cell in ws[col][1:]:
            cell.number_format = "dd/mm/yyyy hh:mm"
    for col, width in zip("ABCDEFGHIJKLMN", (8, 60, 8, 8, 20, 17, 17, 14, 8, 6, 30, 17, 10, 30)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    audit = wb.create_sheet("Nhật ký" if lang == "vi" else "Audit")
    audit.append(("Mã", "Lúc", "Người", "Kênh", "Thao tác", "Chi tiết") if lang == "vi"
                 else ("Code", "At", "Actor", "Channel", "Action", "Detail"))
    for cell in audit[1]:
        cell.font = Font(bold=True)
    for t in data["tasks"]:
        for e in t["audit"]:
            audit.append([t["code"], _local(e["at"]), e["actor"], e["channel"], e["action"], str(e["detail"])])
    audit.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
