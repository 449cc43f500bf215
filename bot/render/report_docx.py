"""The formal report (Báo cáo) as a Word file, in the format of Decree 30/2020/NĐ-CP.

`build_report_docx(report)` reads only the event's read model (`workflows.report_model`) through the
shared figures of `workflows.report_figures`, so every number equals the JSON export's and the
workbook's. It returns the .docx bytes: the CLI writes them, the chat sends them, a web page can
offer them as a download.

Layout (Decree 30, Appendix I): A4, margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New
Roman 14 pt body (12-13 pt in the header and tables); a two-column header (issuing body over the
number and symbol left to fill | national title and motto over the place and date line); the
title "BÁO CÁO" and its summary line; sections I-V (overall figures, per-agency table, blocked
and late duties with reasons, extensions granted, proposals left for the committee to write);
"Nơi nhận" and the signature block; page numbers from page 2, centred at the top.
The document is always in Vietnamese: it is addressed to the People's Committee.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from xml.sax.saxutils import escape as xml_escape

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Mm, Pt

from bot.render.aftermath import fmt_rate
from workflows.report_figures import after_action, by_agency, event_tz, parse_time, report_now, views
from workflows.report_model import EventReport, as_report

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 12
DOTS = "…………"
STATUS_VI = {"todo": "Chưa bắt đầu", "acknowledged": "Đã nhận", "waiting": "Chờ việc trước", "in_progress": "Đang làm",
             "blocked": "Vướng mắc", "done": "Hoàn thành", "cancelled": "Đã hủy"}


def _date_line(place: str, when: datetime) -> str:
    # Decree 30: days 1-9 and months 1-2 are written with a leading zero.
    day = f"{when.day:02d}"
    month = f"{when.month:02d}" if when.month < 3 else str(when.month)
    return f"{place}, ngày {day} tháng {month} năm {when.year}"


def _fmt(dt: datetime | None) -> str:
    return dt.strftime("%H:%M %d/%m/%Y") if dt else ""


class _Doc:
    def __init__(self) -> None:
        self.doc = Document()
        normal = self.doc.styles["Normal"]
        normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
        normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)  # Word picks this face for Vietnamese text too
        pf = normal.paragraph_format
        pf.space_before, pf.space_after, pf.line_spacing = Pt(0), Pt(6), 1.15
        for name in ("Table Grid",):
            self.doc.styles[name].font.name = FONT
        table_style = self.doc.styles.add_style("Bang du lieu", WD_STYLE_TYPE.PARAGRAPH)
        table_style.base_style = normal
        table_style.font.size = Pt(TABLE_PT)
        tf = table_style.paragraph_format
        tf.space_after, tf.first_line_indent, tf.line_spacing = Pt(0), Cm(0), 1.0
        self.table_style_id = table_style.style_id
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.top_margin, sec.bottom_margin = Mm(20), Mm(20)
        sec.left_margin, sec.right_margin = Mm(30), Mm(15)
        sec.header_distance = Mm(10)
        sec.different_first_page_header_footer = True
        self._page_number(sec.header.paragraphs[0])

    @staticmethod
    def _page_number(p) -> None:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "2"
        run.append(text)
        field.append(run)
        p._p.append(field)

    def para(self, text: str = "", *, bold=False, italic=False, size=BODY_PT, align=None, indent=True,
             after: float | None = None, container=None, underline=False):
        p = (container or self.doc).add_paragraph()
        if align is None:
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            if indent:
                p.paragraph_format.first_line_indent = Cm(1)
        else:
            p.alignment = align
        if after is not None:
            p.paragraph_format.space_after = Pt(after)
        if text:
            self.run(p, text, bold=bold, italic=italic, size=size, underline=underline)
        return p

    @staticmethod
    def run(p, text: str, *, bold=False, italic=False, size=BODY_PT, underline=False):
        r = p.add_run(text)
        if bold:  # each property set is an XML insertion: only the ones that are on
            r.bold = True
        if italic:
            r.italic = True
        if underline:
            r.underline = True
        r.font.size, r.font.name = Pt(size), FONT
        r._element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
        return r

    def cell_text(self, cell, text: str, *, bold=False, italic=False, size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER,
                  first=True):
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        p.alignment = align
        p.paragraph_format.space_after = Pt(0)
        p.paragraph_format.first_line_indent = None
        if text:
            self.run(p, text, bold=bold, italic=italic, size=size)
        return p

    def table(self, headings: list[str], rows: list[list[str]], widths_cm: list[float], *, left_cols=(),
              bold_last=False):
        t = self.doc.add_table(rows=1, cols=len(headings))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, h in zip(t.rows[0].cells, headings):
            self.cell_text(cell, h, bold=True)
        # the heading row repeats on each page
        trpr = t.rows[0]._tr.get_or_add_trPr()
        head = OxmlElement("w:tblHeader")
        head.set(qn("w:val"), "true")
        trpr.append(head)
        widths = [Cm(w) for w in widths_cm]
        _widths(t, widths)
        # The data rows are written as XML in one go: through python-docx's objects a 5,000-task
        # report took minutes (every cell, run and property is a separate tree search).
        twips = [int(w.twips) for w in widths]
        body = []
        for k, values in enumerate(rows):
            rpr = f'<w:rPr><w:b/><w:sz w:val="{TABLE_PT * 2}"/></w:rPr>' if bold_last and k == len(rows) - 1 else ""
            cells = "".join(
                f'<w:tc><w:tcPr><w:tcW w:w="{twips[i]}" w:type="dxa"/></w:tcPr><w:p><w:pPr>'
                f'<w:pStyle w:val="{self.table_style_id}"/><w:jc w:val="{"left" if i in left_cols else "center"}"/>'
                f'</w:pPr><w:r>{rpr}<w:t xml:space="preserve">{_xml_text(v)}</w:t></w:r></w:p></w:tc>'
                for i, v in enumerate(values))
            body.append(f"<w:tr>{cells}</w:tr>")
        if body:
            fragment = parse_xml(f'<w:tbl {nsdecls("w")}>{"".join(body)}</w:tbl>')
            for tr in list(fragment):
                t._tbl.append(tr)
        self.para(after=0)
        return t

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value) -> str:
    """Cell text for a w:t element: escaped, and without the control characters XML cannot hold."""
    return xml_escape(_XML_BAD.sub("", " ".join(str(value or "").split())))


def _widths(table, widths) -> None:
    """Fixed column widths: Word reads the cells', LibreOffice the grid's; set both."""
    table.autofit = False
    for col, w in zip(table.columns, widths):
        col.width = w
    for row in table.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = w


def _header(d: _Doc, parent: str, issuer: str, symbol: str, place: str, when: datetime) -> None:
    t = d.doc.add_table(rows=2, cols=2)
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(t, [Cm(6.3), Cm(9.7)])
    (l1, r1), (l2, r2) = t.rows[0].cells, t.rows[1].cells
    d.cell_text(l1, parent.upper(), size=13)
    d.cell_text(l1, issuer.upper(), bold=True, size=13, first=False)
    d.cell_text(l1, "_______", bold=True, size=13, first=False)
    d.cell_text(r1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12)
    d.cell_text(r1, "Độc lập - Tự do - Hạnh phúc", bold=True, size=13, first=False)
    d.cell_text(r1, "_______________________", bold=True, size=13, first=False)
    d.cell_text(l2, f"Số:        /{symbol}", size=13)
    d.cell_text(r2, _date_line(place, when), italic=True, size=14)


def build_report_docx(data: EventReport | dict, *, now: datetime | None = None, parent: str = f"UBND TỈNH {DOTS}",
                      issuer: str = "BAN TỔ CHỨC", symbol: str = "BC-BTC", place: str = DOTS,
                      signer: str = "TRƯỞNG BAN", recipients: tuple[str, ...] = ()) -> bytes:
    """The Báo cáo for the event's report (or its export dict) as .docx bytes; figures as of `now`
    (default: the time the report was taken)."""
    data = as_report(data)
    tz = event_tz(data)
    now = report_now(data, now, tz)
    aar = after_action(data, now)
    vs = views(data, now, tz)
    name = data.event.name
    start = parse_time(data.event.start, tz)
    d = _Doc()
    _header(d, parent, issuer, symbol, place, now)

    d.para(after=0)
    d.para("BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    d.para(f"Kết quả thực hiện Kế hoạch tổ chức {name}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    d.para("__________", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    state = "đã kết thúc" if data.event.ended else "đang triển khai"
    d.para(f"Thực hiện Kế hoạch tổ chức {name} (thời gian tổ chức: {_fmt(start)}), {issuer.capitalize()} báo cáo "
           f"kết quả thực hiện các nhiệm vụ được phân công tính đến {_fmt(now)} (sự kiện {state}) như sau:")

    tot = aar.totals
    d.para("I. KẾT QUẢ CHUNG", bold=True, indent=True)
    d.para(f"1. Tổng số nhiệm vụ được phân công: {tot.total} nhiệm vụ"
           + (f" (không kể {tot.cancelled} nhiệm vụ đã hủy)." if tot.cancelled else "."))
    d.para(f"2. Đã hoàn thành: {tot.done} nhiệm vụ, trong đó đúng hạn {tot.on_time}, trễ hạn {tot.late}.")
    d.para(f"3. Chưa hoàn thành: {tot.open} nhiệm vụ, trong đó quá hạn {tot.overdue}, "
           f"đang vướng mắc {tot.blocked}.")
    d.para(f"4. Tỷ lệ hoàn thành đúng hạn: {fmt_rate(tot.on_time_rate)} "
           f"({tot.on_time}/{tot.due} nhiệm vụ đã đến hạn, tính theo thời hạn ban đầu).")

    d.para("II. KẾT QUẢ THEO CƠ QUAN, ĐƠN VỊ CHỦ TRÌ", bold=True)
    rows = []
    for k, (code, t) in enumerate(by_agency(vs), 1):
        rows.append([str(k), data.agency_name(code, "vi"), str(t.total), str(t.on_time), str(t.late),
                     str(t.overdue), str(t.blocked), fmt_rate(t.on_time_rate)])
    rows.append(["", "Tổng cộng", str(tot.total), str(tot.on_time), str(tot.late), str(tot.overdue),
                 str(tot.blocked), fmt_rate(tot.on_time_rate)])
    d.table(["TT", "Cơ quan, đơn vị", "Tổng số", "Đúng hạn", "Trễ hạn", "Quá hạn", "Vướng mắc", "Tỷ lệ đúng hạn"],
            rows, [1.0, 5.6, 1.5, 1.6, 1.5, 1.5, 1.7, 1.9], left_cols=(1,), bold_last=True)

    d.para("III. NHIỆM VỤ VƯỚNG MẮC, CHẬM TIẾN ĐỘ VÀ NGUYÊN NHÂN", bold=True)
    troubled = [v for v in vs if v.status == "blocked" or v.overdue or (v.status == "done" and not v.on_time)]
    if troubled:
        rows = []
        for k, v in enumerate(troubled, 1):
            t = v.task
            state = "Vướng mắc" if v.status == "blocked" else ("Quá hạn" if v.overdue else "Hoàn thành trễ hạn")
            if v.status == "blocked" and v.overdue:
                state = "Vướng mắc, quá hạn"
            reason = t.blocked_reason or t.last_note or ""
            rows.append([str(k), t.code, t.title, data.agency_name(t.lead, "vi"), _fmt(v.original), state, reason])
        d.table(["TT", "Mã", "Nhiệm vụ", "Cơ quan chủ trì", "Hạn ban đầu", "Tình trạng", "Nguyên nhân"], rows,
                [0.8, 1.4, 4.6, 3.0, 2.2, 2.0, 2.3], left_cols=(2, 3, 6))
    else:
        d.para("Không có nhiệm vụ vướng mắc hoặc chậm tiến độ.")

    d.para("IV. CÁC TRƯỜNG HỢP ĐƯỢC GIA HẠN", bold=True)
    if aar.extensions:
        rows = [[str(k), x.code, x.task.title, data.agency_name(x.task.lead, "vi"), _fmt(x.old),
                 _fmt(x.new), x.reason] for k, x in enumerate(aar.extensions, 1)]
        d.table(["TT", "Mã", "Nhiệm vụ", "Cơ quan chủ trì", "Hạn cũ", "Hạn mới", "Lý do"], rows,
                [0.8, 1.4, 4.6, 3.0, 2.2, 2.2, 2.1], left_cols=(2, 3, 6))
    else:
        d.para("Không có trường hợp gia hạn.")

    d.para("V. ĐỀ XUẤT, KIẾN NGHỊ", bold=True)
    d.para("(Ban Tổ chức bổ sung)", italic=True)
    for _ in range(3):
        d.para("…" * 60, indent=False)
    d.para(f"Trên đây là báo cáo kết quả thực hiện Kế hoạch tổ chức {name}, {issuer.capitalize()} kính báo cáo./.")

    sig = d.doc.add_table(rows=1, cols=2)
    left, right = sig.rows[0].cells
    _widths(sig, [Cm(7.5), Cm(8.5)])
    d.cell_text(left, "Nơi nhận:", bold=True, italic=True, size=12, align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in recipients or ("- UBND tỉnh (để báo cáo);", "- Các cơ quan, đơn vị liên quan;", "- Lưu: VT, BTC."):
        d.cell_text(left, line, size=11, align=WD_ALIGN_PARAGRAPH.LEFT, first=False)
    d.cell_text(right, f"TM. {issuer.upper()}", bold=True, size=14)
    d.cell_text(right, signer.upper(), bold=True, size=14, first=False)
    p = d.cell_text(right, "", first=False)
    for _ in range(3):
        p.add_run().add_break(WD_BREAK.LINE)
    d.cell_text(right, DOTS * 2, bold=True, size=14, first=False)
    return d.bytes()
