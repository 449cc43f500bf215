"""Building plan documents for the import tests (python-docx, openpyxl, csv), as a province writes them."""

from __future__ import annotations

import csv
import io

HEAD = ["TT", "Nội dung công việc", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành", "Ghi chú"]
INTRO = [
    "UBND TỈNH NGHỆ AN",
    "KẾ HOẠCH",
    "Tổ chức Lễ kỷ niệm 137 năm Ngày sinh Chủ tịch Hồ Chí Minh",
    "I. MỤC ĐÍCH, YÊU CẦU",
    "II. THỜI GIAN, ĐỊA ĐIỂM",
    "- Thời gian: 07 giờ 00 phút, ngày 19 tháng 5 năm 2027.",
    "- Địa điểm: Quảng trường Hồ Chí Minh.",
]


def docx_bytes(
    rows: list,
    head: list[str] | None = HEAD,
    intro: list[str] | None = None,
    header_rows: list[list[str]] | None = None,
    split_at: int | None = None,
) -> bytes:
    """A Word plan: intro paragraphs, then one table (two when `split_at` is given). A row that is a
    plain string is a group row merged across the whole table."""
    import docx

    doc = docx.Document()
    for p in INTRO if intro is None else intro:
        doc.add_paragraph(p)
    heads = header_rows if header_rows is not None else ([head] if head else [])
    width = max(len(h) for h in heads) if heads else len(HEAD)
    chunks = [rows] if split_at is None else [rows[:split_at], rows[split_at:]]
    for chunk in chunks:
        table = doc.add_table(rows=0, cols=width)
        for h in heads:
            cells = table.add_row().cells
            for i, text in enumerate(h):
                cells[i].text = text
        for r in chunk:
            cells = table.add_row().cells
            if isinstance(r, str):
                merged = cells[0].merge(cells[width - 1])
                merged.text = r
                continue
            for i, text in enumerate(r):
                cells[i].text = text
        doc.add_paragraph("")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def xlsx_bytes(rows: list, head: list[str] | None = HEAD, intro: list[str] | None = None) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for p in INTRO if intro is None else intro:
        ws.append([p])
    if head:
        ws.append(head)
    width = len(head or HEAD)
    for r in rows:
        if isinstance(r, str):
            ws.append([r])
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=width)
        else:
            ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list, head: list[str] | None = HEAD, delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    if head:
        w.writerow(head)
    for r in rows:
        w.writerow([r] if isinstance(r, str) else r)
    return buf.getvalue().encode("utf-8-sig")
