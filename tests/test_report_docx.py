"""The formal report (Báo cáo, Decree 30/2020/NĐ-CP) opened with python-docx: layout, structure, and
every figure equal to one counted here from the JSON export."""

from __future__ import annotations

import io
import json
from datetime import datetime

import docx

from bot.render.export import to_json
from bot.render.report_docx import build_report_docx
from tests.test_reports import NOW, TZ, scenario


def _open(data: dict) -> docx.document.Document:
    return docx.Document(io.BytesIO(build_report_docx(data, now=NOW)))


def _texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def _cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def _expected_by_agency(data: dict, now: datetime) -> dict[str, dict]:
    """Counted from the JSON alone, the way the README's definitions read."""
    out: dict[str, dict] = {}
    for t in data["tasks"]:
        if t["status"] == "cancelled":
            continue
        a = out.setdefault(t["lead"], dict(total=0, on_time=0, late=0, overdue=0, blocked=0))
        a["total"] += 1
        original = datetime.fromisoformat(t["original_deadline"] or t["deadline"])
        if t["status"] == "done":
            done_at = datetime.fromisoformat(t["completed_at"]) if t["completed_at"] else original
            a["on_time" if done_at <= original else "late"] += 1
        else:
            a["overdue"] += datetime.fromisoformat(t["deadline"]) < now
            a["blocked"] += t["status"] == "blocked"
    return out


def test_layout_a4_margins_and_font():
    doc = _open(scenario())
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert [round(m.mm) for m in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)] == [
        20,
        20,
        30,
        15,
    ]
    assert doc.styles["Normal"].font.name == "Times New Roman" and doc.styles["Normal"].font.size.pt == 14
    sizes = {r.font.size.pt for p in doc.paragraphs for r in p.runs if r.font.size}
    assert sizes <= {13, 14} and 14 in sizes
    assert sec.different_first_page_header_footer  # page numbers from page 2
    assert "PAGE" in sec.header._element.xml


def test_structure_of_the_report():
    data = scenario()
    doc = _open(data)
    header = _cells(doc.tables[0])
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header[0][1] and "Độc lập - Tự do - Hạnh phúc" in header[0][1]
    assert "BAN TỔ CHỨC" in header[0][0]
    assert header[1][0].startswith("Số:") and header[1][0].endswith("/BC-BTC")
    assert header[1][1].endswith("ngày 05 tháng 6 năm 2026")  # the report's date, Decree 30 zero padding
    text = "\n".join(_texts(doc))
    name = data["event"]["name"]
    assert "BÁO CÁO" in text and f"Kết quả thực hiện Kế hoạch tổ chức {name}" in text
    headings = [t for t in _texts(doc) if t[:3] in ("I. ", "II.", "III", "IV.", "V. ")]
    assert [h.split(".")[0] for h in headings] == ["I", "II", "III", "IV", "V"]
    assert "(Ban Tổ chức bổ sung)" in text  # proposals are left for the committee to write
    sig = _cells(doc.tables[-1])[0]
    assert sig[0].startswith("Nơi nhận:") and "Lưu: VT" in sig[0]
    assert "TM. BAN TỔ CHỨC" in sig[1] and "TRƯỞNG BAN" in sig[1]


def test_figures_equal_the_json_export():
    data = json.loads(to_json(scenario()))
    doc = _open(data)
    expected = _expected_by_agency(data, NOW)
    agency_table = next(t for t in doc.tables if _cells(t)[0][:2] == ["TT", "Cơ quan, đơn vị"])
    rows = _cells(agency_table)[1:]
    names = {code: (info["name"] if isinstance(info, dict) else info) for code, info in data["agencies"].items()}
    seen = {}
    for row in rows[:-1]:
        code = next((c for c, n in names.items() if n == row[1]), row[1])
        seen[code] = dict(zip(("total", "on_time", "late", "overdue", "blocked"), map(int, row[2:7])))
    assert seen == expected
    total = dict(zip(("total", "on_time", "late", "overdue", "blocked"), map(int, rows[-1][2:7])))
    assert rows[-1][1] == "Tổng cộng"
    assert total == {k: sum(a[k] for a in expected.values()) for k in total}
    text = "\n".join(_texts(doc))
    assert f"Tổng số nhiệm vụ được phân công: {total['total']} nhiệm vụ" in text
    cancelled = sum(t["status"] == "cancelled" for t in data["tasks"])
    assert f"không kể {cancelled} nhiệm vụ đã hủy" in text


def test_blocked_late_and_extended_duties_with_reasons():
    data = scenario()
    doc = _open(data)
    troubled = next(t for t in doc.tables if "Nguyên nhân" in _cells(t)[0])
    codes = {row[1]: row for row in _cells(troubled)[1:]}
    for t in data["tasks"]:
        done_late = (
            t["status"] == "done"
            and t["completed_at"]
            and datetime.fromisoformat(t["completed_at"]) > datetime.fromisoformat(t["original_deadline"])
        )
        overdue = t["status"] not in ("done", "cancelled") and datetime.fromisoformat(t["deadline"]) < NOW
        assert (t["code"] in codes) == bool(t["status"] == "blocked" or overdue or done_late), t["code"]
        if t["status"] == "blocked":
            assert codes[t["code"]][6] == t["blocked_reason"]  # the reason as written (no HTML escaping in Word)
    ext = next(t for t in doc.tables if _cells(t)[0][-1] == "Lý do")
    assert "CB-03" in [row[1] for row in _cells(ext)[1:]]


def test_an_event_with_nothing_wrong_says_so():
    data = scenario()
    data["tasks"] = [t for t in data["tasks"] if t["status"] == "done" and not t["audit"]][:1]
    data["tasks"][0]["completed_at"] = data["tasks"][0]["original_deadline"]
    text = "\n".join(_texts(_open(data)))
    assert "Không có nhiệm vụ vướng mắc hoặc chậm tiến độ." in text and "Không có trường hợp gia hạn." in text


def test_empty_event_builds():
    data = scenario()
    data["tasks"] = []
    assert build_report_docx(data, now=NOW)[:2] == b"PK"


def test_tz_of_dates_is_the_events():
    data = scenario()
    doc = _open(data)
    assert any(NOW.astimezone(TZ).strftime("%H:%M %d/%m/%Y") in p for p in _texts(doc))
