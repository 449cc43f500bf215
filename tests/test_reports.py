"""Reports (issue 5): workbook, charts, morning digest, after-action review, CSV/JSON fields.

Most tests build the export dict by hand (`scenario()`): a small event whose outcomes are known
in advance (on time, late, overdue, blocked, extended, cancelled, due today), so the figures
can be checked exactly. One test drives the real engine through the chat and reports on it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.i18n import Texts, strip_html
from bot.render.aftermath import after_action_text
from bot.render.chart import chart_png, progress_chart_png, timeline_chart_png
from bot.render.digest import digest_text
from bot.render.export import CSV_FIELDS, to_csv, to_json
from bot.render.xlsx import workbook_bytes
from workflows.report_figures import after_action
from workflows.report_model import from_export

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 6, 5, 8, 0, tzinfo=TZ)
VI = Texts("vi", TZ)
EN = Texts("en", TZ)


def at(day: int, hour: int = 17, minute: int = 0, month: int = 6) -> str:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ).isoformat()


def entry(when: str, action: str, actor: str = "ca", **detail) -> dict:
    return {"at": when, "actor": actor, "channel": "telegram", "action": action, "detail": detail}


def task(
    number: int,
    code: str,
    lead: str,
    deadline: str,
    *,
    original: str | None = None,
    status: str = "todo",
    percent: int = 0,
    completed: str | None = None,
    reason: str | None = None,
    phase: str | None = None,
    audit: list | None = None,
    supporting=(),
    evidence: int = 0,
    note: str | None = None,
) -> dict:
    original = original or deadline
    overdue = status not in ("done", "cancelled") and datetime.fromisoformat(deadline) < NOW
    return {
        "number": number,
        "code": code,
        "title": f"Nhiệm vụ {code} của {lead}",
        "title_en": f"Duty {code}",
        "phase": phase or code.split("-")[0],
        "lead": lead,
        "supporting": list(supporting),
        "depends_on": [],
        "deadline": deadline,
        "original_deadline": original,
        "status": status,
        "overdue": overdue,
        "percent": 100 if status == "done" else percent,
        "blocked_reason": reason,
        "completed_at": completed,
        "evidence_count": evidence,
        "last_note": note,
        "audit": audit or [],
    }


def scenario(ended: bool = False) -> dict:
    """13 tasks, 4 agencies; `now` is 05/06/2026 08:00 (the event starts 11/06 07:00)."""
    tasks = [
        task(
            1,
            "CB-01",
            "VPUB",
            at(20, month=5),
            status="done",
            completed=at(19, 10, month=5),
            supporting=["BTC", "CA"],
            evidence=2,
            audit=[
                entry(
                    at(19, 10, month=5),
                    "status",
                    "vpub",
                    **{"from": "todo", "to": "done", "percent": 100, "note": "đã ban hành"},
                )
            ],
            note="đã ban hành",
        ),
        task(
            2,
            "CB-02",
            "VPUB",
            at(25, month=5),
            status="done",
            completed=at(27, 9, month=5),
            audit=[
                entry(
                    at(22, 9, month=5),
                    "status",
                    "vpub",
                    **{"from": "todo", "to": "blocked", "percent": 0, "reason": "chờ duyệt mẫu"},
                ),
                entry(at(23, 9, month=5), "status", "vpub", **{"from": "blocked", "to": "in_progress", "percent": 50}),
                entry(at(27, 9, month=5), "status", "vpub", **{"from": "in_progress", "to": "done", "percent": 100}),
            ],
        ),
        # extended by an approved request (28/05 → 02/06), done 01/06: on time for the new
        # deadline, late against the original one
        task(
            3,
            "CB-03",
            "CA",
            at(2),
            original=at(28, month=5),
            status="done",
            completed=at(1, 12),
            audit=[
                entry(at(27, 8, month=5), "extension_requested", request=1, to=at(2), reason="nhà in giao chậm"),
                entry(at(27, 10, month=5), "extension_approved", "coord", request=1, to=at(2)),
                entry(at(1, 12), "status", **{"from": "todo", "to": "done", "percent": 100}),
                entry(at(1, 12, 5), "evidence", kind="photo", size=1000, filename="anh.jpg"),
            ],
        ),
        task(
            4,
            "NC-11",
            "CA",
            at(3),
            status="in_progress",
            percent=40,
            audit=[
                entry(at(4, 15), "status", **{"from": "acknowledged", "to": "in_progress", "percent": 40}),
                entry(at(4, 16), "extension_requested", request=2, to=at(9), reason="thiếu người"),
                entry(at(4, 18), "extension_rejected", "coord", request=2, to=at(9)),
            ],
        ),
        task(
            5,
            "NC-12",
            "STC",
            at(8),
            status="blocked",
            reason="chờ kinh phí <gấp> & bổ sung",
            audit=[
                entry(
                    at(4, 9),
                    "status",
                    "stc",
                    **{"from": "todo", "to": "blocked", "percent": 0, "reason": "chờ kinh phí <gấp> & bổ sung"},
                )
            ],
        ),
        task(
            6,
            "NC-13",
            "SYT",
            at(4),
            status="blocked",
            reason="thiếu xe cứu thương",
            audit=[
                entry(
                    at(2, 10),
                    "status",
                    "syt",
                    **{"from": "todo", "to": "blocked", "percent": 0, "reason": "thiếu xe cứu thương"},
                )
            ],
        ),
        # brought forward by a coordinator (11/06 06:00 → 10/06 17:00): not an extension
        task(
            7,
            "NL-01",
            "SYT",
            at(10),
            original=at(11, 6),
            audit=[entry(at(3, 9), "deadline", "coord", **{"from": at(11, 6), "to": at(10), "reason": "sớm hơn"})],
        ),
        task(8, "NL-02", "CA", at(11, 7, 30), status="waiting"),
        task(9, "SL-01", "STC", at(18), status="cancelled"),
        task(10, "NC-14", "VPUB", at(5), status="acknowledged"),
        # moved later by a coordinator (01/06 → 06/06), the "from" written in UTC
        task(
            11,
            "CB-04",
            "STC",
            at(6),
            original=at(1),
            status="in_progress",
            percent=50,
            audit=[
                entry(
                    at(31, 9, month=5),
                    "deadline",
                    "coord",
                    **{"from": "2026-06-01T10:00:00+00:00", "to": at(6), "reason": "đổi địa điểm"},
                )
            ],
        ),
        task(12, "CB-05", "STC", at(30, month=5), status="done", completed=at(30, 16, 59, month=5)),
        task(13, "CB-06", "VPUB", at(10), status="done", completed=at(2, 9)),  # done early
    ]
    return {
        "event": {
            "id": 7,
            "name": "Lễ kỷ niệm <70 năm> & biểu dương",
            "template": "ceremony",
            "start": at(11, 7),
            "launched": True,
            "ended": ended,
            "ended_at": None,
            "timezone": "Asia/Ho_Chi_Minh",
            "exported_at": NOW.isoformat(),
        },
        "agencies": {
            "CA": {"name": "Công an tỉnh", "name_en": "Provincial Police"},
            "SYT": {"name": "Sở Y tế", "name_en": "Department of Health"},
            "STC": {"name": "Sở Tài chính", "name_en": "Department of Finance"},
            "VPUB": {"name": "Văn phòng UBND tỉnh", "name_en": "People's Committee Office"},
        },
        "phases": [
            {"code": "CB", "name": "Chuẩn bị", "name_en": "Preparation"},
            {"code": "NC", "name": "Những ngày cuối", "name_en": "Final days"},
            {"code": "NL", "name": "Ngày lễ", "name_en": "Ceremony day"},
            {"code": "SL", "name": "Sau lễ", "name_en": "After the ceremony"},
        ],
        "tasks": tasks,
    }


def open_wb(data, texts=VI, **kw):
    return load_workbook(io.BytesIO(workbook_bytes(data, texts, **kw)))


def rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


# -- workbook ---------------------------------------------------------------------------------
def test_workbook_sheets_and_summary_figures():
    wb = open_wb(scenario())
    assert wb.sheetnames == ["Tổng hợp", "Nhiệm vụ", "Nhật ký", "Rút kinh nghiệm"]
    ws = wb["Tổng hợp"]
    head, *body = rows(ws)
    assert head == [
        "Mã đơn vị",
        "Đơn vị",
        "Tổng số",
        "Xong đúng hạn",
        "Xong trễ hạn",
        "Quá hạn",
        "Vướng",
        "Đang mở",
        "Đã hủy",
        "Tỷ lệ đúng hạn",
    ]
    by = {r[0]: r for r in body[:5]}
    #             total on_time late overdue blocked open cancelled rate
    assert by["CA"][2:] == [3, 0, 1, 1, 0, 2, 0, 0.0]
    assert by["STC"][2:] == [3, 1, 0, 0, 1, 2, 1, 0.5]
    assert by["SYT"][2:] == [2, 0, 0, 1, 1, 2, 0, 0.0]
    assert by["VPUB"][1] == "Văn phòng UBND tỉnh"
    assert by["VPUB"][2:9] == [4, 2, 1, 0, 0, 1, 0] and by["VPUB"][9] == pytest.approx(2 / 3)
    assert by["Tổng cộng"][2:] == [12, 3, 2, 2, 2, 7, 1, 3 / 8]
    assert [r[0] for r in body[:4]] == ["CA", "STC", "SYT", "VPUB"]
    assert ws["J3"].number_format == "0%" and ws["J3"].value == 0.5  # STC, a fraction shown as 50%
    assert ws.freeze_panes == "A2"
    info = {r[0]: r[1] for r in body if r and r[0] in ("Sự kiện", "Bắt đầu", "Số liệu lúc")}
    assert info == {
        "Sự kiện": "Lễ kỷ niệm <70 năm> & biểu dương",
        "Bắt đầu": datetime(2026, 6, 11, 7, 0),
        "Số liệu lúc": datetime(2026, 6, 5, 8, 0),
    }


def test_workbook_tasks_sheet_values_types_and_styles():
    wb = open_wb(scenario())
    ws = wb["Nhiệm vụ"]
    head = [c.value for c in ws[1]]
    assert head == [
        "Mã",
        "Nhiệm vụ",
        "Chủ trì",
        "Phối hợp",
        "Giai đoạn",
        "Hạn ban đầu",
        "Hạn hiện tại",
        "Trạng thái",
        "Quá hạn",
        "Tiến độ %",
        "Lý do vướng",
        "Hoàn thành lúc",
        "Minh chứng",
        "Ghi chú cuối",
    ]
    assert len(head) == len(CSV_FIELDS)
    assert ws.max_row == 14 and ws.freeze_panes == "B2" and ws.auto_filter.ref == "A1:N14"
    by = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    cb01 = [c.value for c in by["CB-01"]]
    assert cb01 == [
        "CB-01",
        "Nhiệm vụ CB-01 của VPUB",
        "VPUB",
        "BTC, CA",
        "Chuẩn bị",
        datetime(2026, 5, 20, 17),
        datetime(2026, 5, 20, 17),
        "Xong",
        None,
        100,
        None,
        datetime(2026, 5, 19, 10),
        2,
        "đã ban hành",
    ]
    # dates are real, naive local wall-clock datetimes shown dd/mm/yyyy hh:mm
    assert by["CB-01"][5].is_date and by["CB-01"][5].number_format == "dd/mm/yyyy hh:mm"
    assert by["CB-03"][5].value == datetime(2026, 5, 28, 17) and by["CB-03"][6].value == datetime(2026, 6, 2, 17)
    assert by["NC-11"][7].value == "Đang làm" and by["NC-11"][8].value == "Có" and by["NC-11"][9].value == 40
    assert isinstance(by["NC-11"][9].value, int)
    assert by["NC-12"][10].value == "chờ kinh phí <gấp> & bổ sung"  # not HTML-escaped in a cell
    assert by["NL-02"][7].value == "Chờ việc trước" and by["SL-01"][7].value == "Đã hủy"
    # overdue rows red, blocked rows amber (overdue wins), others plain
    assert by["NC-11"][0].fill.fgColor.rgb.endswith("F8CBAD")
    assert by["NC-13"][3].fill.fgColor.rgb.endswith("F8CBAD")
    assert by["NC-12"][13].fill.fgColor.rgb.endswith("FFE699")
    assert by["CB-01"][0].fill.fill_type is None
    assert ws[1][0].font.b and ws.column_dimensions["B"].width >= 40


def test_workbook_audit_trail_in_time_order_with_readable_details():
    ws = open_wb(scenario())["Nhật ký"]
    head, *body = rows(ws)
    assert head == ["Mã", "Thời điểm", "Người thực hiện", "Kênh", "Thao tác", "Chi tiết"]
    assert len(body) == sum(len(t["audit"]) for t in scenario()["tasks"]) == 15
    times = [r[1] for r in body]
    assert times == sorted(times) and all(isinstance(t, datetime) for t in times)
    blocked = next(r for r in body if r[0] == "NC-12")
    assert blocked[4] == "trạng thái" and "Chưa bắt đầu → Vướng" in blocked[5]
    assert "lý do: chờ kinh phí <gấp> & bổ sung" in blocked[5]
    moved = next(r for r in body if r[0] == "CB-04")
    assert moved[4] == "đổi hạn" and "01/06/2026 17:00 → 06/06/2026 17:00" in moved[5]
    assert ws.freeze_panes == "A2"


def test_workbook_after_action_sheet():
    ws = open_wb(scenario())["Rút kinh nghiệm"]
    values = rows(ws)
    flat = [v for r in values for v in r if v is not None]
    assert values[0][0] == "Rút kinh nghiệm: Lễ kỷ niệm <70 năm> & biểu dương"
    assert "Sự kiện chưa kết thúc: số liệu tạm tính." in flat
    delays_head = next(i for i, r in enumerate(values) if str(r[0]).startswith("Chậm nhiều nhất"))
    first = values[delays_head + 2]
    assert first[0] == "CB-03" and first[6] == pytest.approx(3.79, abs=0.01)
    assert [values[delays_head + 2 + i][0] for i in range(5)] == ["CB-03", "CB-04", "CB-02", "NC-11", "NC-13"]
    ext_head = next(i for i, r in enumerate(values) if str(r[0]).startswith("Gia hạn đã cấp"))
    ext = [r for r in values[ext_head + 2 :] if r[0]]
    assert [(r[0], r[3], r[4], r[6], r[7]) for r in ext] == [
        ("CB-03", datetime(2026, 5, 28, 17), datetime(2026, 6, 2, 17), 5.0, "nhà in giao chậm"),
        ("CB-04", datetime(2026, 6, 1, 17), datetime(2026, 6, 6, 17), 5.0, "đổi địa điểm"),
    ]
    ended = open_wb(scenario(ended=True))["Rút kinh nghiệm"]
    assert "Sự kiện chưa kết thúc: số liệu tạm tính." not in [v for r in rows(ended) for v in r]


def test_workbook_in_english():
    wb = open_wb(scenario(), EN)
    assert wb.sheetnames == ["Summary", "Tasks", "Audit", "After action"]
    tasks = wb["Tasks"]
    assert [c.value for c in tasks[1]][:3] == ["Code", "Duty", "Lead"]
    row = next(r for r in tasks.iter_rows(min_row=2, values_only=True) if r[0] == "NC-11")
    assert row[1] == "Duty NC-11" and row[4] == "Final days" and row[7] == "In progress" and row[8] == "Yes"
    assert rows(wb["Summary"])[1][1] == "Provincial Police"


def test_workbook_of_an_event_without_tasks_is_valid():
    data = {**scenario(), "tasks": []}
    wb = open_wb(data)
    assert wb.sheetnames == ["Tổng hợp", "Nhiệm vụ", "Nhật ký", "Rút kinh nghiệm"]
    assert rows(wb["Nhiệm vụ"]) == [[c.value for c in wb["Nhiệm vụ"][1]]]
    assert "Sự kiện chưa có việc nào." in [r[0] for r in rows(wb["Tổng hợp"])]
    assert "Sự kiện chưa có việc nào." in after_action_text(data, VI)
    assert "Sự kiện chưa có việc nào." in digest_text(data, VI)


def test_workbook_now_defaults_to_the_export_time_and_can_be_overridden():
    data = scenario()
    later = NOW + timedelta(days=2)  # 07/06 08:00: NC-12 is still not overdue, CB-04 (06/06) now is
    ws = open_wb(data, now=later)["Tổng hợp"]
    by = {r[0]: r for r in rows(ws)}
    assert by["STC"][5] == 1 and by["Số liệu lúc"][1] == datetime(2026, 6, 7, 8, 0)


# -- after-action review ----------------------------------------------------------------------
def test_after_action_figures():
    aar = after_action(from_export(scenario()))
    assert aar.as_of == NOW and not aar.ended
    rates = {a.agency: a.on_time_rate for a in aar.agencies}
    assert rates == {"CA": 0.0, "SYT": 0.0, "STC": 0.5, "VPUB": pytest.approx(2 / 3)}
    assert [a.agency for a in aar.agencies][-1] == "VPUB"  # lowest first
    delays = {d.code: d for d in aar.delays}
    assert list(delays) == ["CB-03", "CB-04", "CB-02", "NC-11", "NC-13"]
    assert delays["CB-03"].delay == timedelta(days=3, hours=19) and not delays["CB-03"].open
    assert delays["CB-04"].delay == timedelta(days=3, hours=15) and delays["CB-04"].open
    blocked = [(b.code, b.reason, b.still, b.duration) for b in aar.blocked]
    assert blocked == [
        ("CB-02", "chờ duyệt mẫu", False, timedelta(days=1)),
        ("NC-13", "thiếu xe cứu thương", True, timedelta(days=2, hours=22)),
        ("NC-12", "chờ kinh phí <gấp> & bổ sung", True, timedelta(hours=23)),
    ]
    ext = [(x.code, x.kind, x.added, x.reason, x.actor) for x in aar.extensions]
    assert ext == [
        ("CB-03", "approved", timedelta(days=5), "nhà in giao chậm", "coord"),
        ("CB-04", "set", timedelta(days=5), "đổi địa điểm", "coord"),
    ]


def test_after_action_text_is_escaped_and_complete():
    text = after_action_text(scenario(ended=True), VI)
    assert "&lt;70 năm&gt; &amp; biểu dương" in text and "<70" not in text
    assert "chờ kinh phí &lt;gấp&gt; &amp; bổ sung" in text
    plain = strip_html(text)
    assert "Đúng hạn 3/8 việc đến hạn (38%)" in plain
    assert "CB-03 (CA) trễ 3,8 ngày" in plain and "CB-04 (STC) chưa xong, đã trễ 3,6 ngày" in plain
    assert "28/05/2026 17:00 → 02/06/2026 17:00 (+5 ngày) · nhà in giao chậm" in plain
    assert "tạm tính" not in plain
    en = strip_html(after_action_text(scenario(), EN))
    assert "On time 3/8 tasks due (38%)" in en and "3.8 days late" in en and "figures so far" in en


# -- digest -------------------------------------------------------------------------------------
def test_digest_content():
    text = digest_text(scenario(), VI, NOW)
    plain = strip_html(text)
    assert "Bản tin sáng 05/06" in plain
    assert "Xong 5/12 (42%) · quá hạn 2 · vướng 2" in plain
    assert "Đến hạn hôm nay (1): NC-14 (VPUB) 17:00" in plain
    assert "• CA: quá hạn 1: NC-11" in plain
    assert "• STC: vướng 1: NC-12 (chờ kinh phí <gấp> & bổ sung)" in plain
    assert "• SYT: vướng 1: NC-13 (thiếu xe cứu thương)" in plain
    assert "chờ kinh phí &lt;gấp&gt; &amp; bổ sung" in text  # escaped in the HTML
    # since yesterday 08:00: NC-12 blocked, NC-11 progress and an extension request (its rejection is not listed)
    assert "Từ 04/06/2026 08:00 (3 cập nhật)" in plain
    assert "Vướng mới 1: NC-12" in plain and "Cập nhật tiến độ 1: NC-11" in plain
    assert "Xin gia hạn 1: NC-11" in plain and "Xong" not in plain.split("cập nhật)")[1]


def test_digest_since_and_quiet_day():
    since = datetime(2026, 5, 31, 0, 0, tzinfo=TZ)
    plain = strip_html(digest_text(scenario(), EN, NOW, since=since))
    assert "Done 1: CB-03" in plain and "Deadline changed 2: NL-01, CB-04" in plain
    quiet = strip_html(digest_text(scenario(), VI, NOW + timedelta(days=3)))
    assert "Không có cập nhật nào từ" in quiet


def _big_event(n: int) -> dict:
    """`n` tasks over 17 agencies, every fifth overdue, every seventh blocked, with an audit each."""
    agencies = [f"DV{i:02d}" for i in range(17)]
    tasks = []
    for i in range(n):
        lead = agencies[i % 17]
        deadline = at(1 + i % 28, 8 + i % 9)
        status = "blocked" if i % 7 == 0 else "done" if i % 3 == 0 else "in_progress"
        t = task(
            i + 1,
            f"T-{i + 1:04d}",
            lead,
            deadline,
            status=status,
            percent=30,
            completed=at(1 + i % 28, 7) if status == "done" else None,
            reason=f"lý do {i} " * 3 if status == "blocked" else None,
            phase=("CB", "NC", "NL")[i % 3],
            audit=[entry(at(4, 9 + i % 12), "status", lead.lower(), **{"from": "todo", "to": status, "percent": 30})],
        )
        tasks.append(t)
    return {**scenario(), "agencies": {}, "tasks": tasks}


def test_digest_is_short_for_the_ceremony_size_and_caps_lists():
    data = _big_event(58)
    text = digest_text(data, VI, NOW)
    assert len(text) <= 1500, len(text)
    assert "khác" in strip_html(text)  # lists capped with "+N khác" / "… và N đơn vị khác"
    assert len(digest_text(_big_event(5000), VI, NOW)) <= 1500


# -- charts -------------------------------------------------------------------------------------
def _png_stats(png: bytes):
    import numpy as np
    from matplotlib import image

    img = image.imread(io.BytesIO(png), format="png")
    rgb = img[..., :3]
    non_white = float((rgb.min(axis=2) < 0.95).mean())
    packed = (rgb * 255).astype(np.uint32).reshape(-1, 3) @ np.array([65536, 256, 1], dtype=np.uint32)
    colours = len(np.unique(packed))
    return img.shape, non_white, colours, rgb


@pytest.mark.parametrize("fn", [progress_chart_png, timeline_chart_png, chart_png])
def test_charts_render_non_blank_pngs(fn):
    png = fn(scenario(), VI, NOW)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and 5_000 < len(png) < 600_000
    (h, w, _), non_white, colours, rgb = _png_stats(png)
    assert w >= 1000 and h >= 250
    assert 0.02 < non_white < 0.9 and colours > 20
    # the stacked-bar colours are there: red (overdue), orange (blocked), green (on time)
    if fn is not timeline_chart_png:
        pixels = (rgb * 255).astype(int).reshape(-1, 3)
        for hexcol in ("E53935", "FB8C00", "2E7D32"):
            target = [int(hexcol[i : i + 2], 16) for i in (0, 2, 4)]
            assert (abs(pixels - target).sum(axis=1) < 12).sum() > 500, hexcol


def test_chart_text_uses_a_font_with_vietnamese_letters():
    from matplotlib import font_manager

    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"), fallback_to_default=False)
    from matplotlib.ft2font import FT2Font

    font = FT2Font(path)
    cmap = font.get_charmap()
    assert all(ord(ch) in cmap for ch in "ỆệỮữơưđĐảạầẩẫậắằẳẵặếềểễệỉịốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


def test_chart_of_an_event_without_tasks_and_of_a_huge_one():
    empty = chart_png({**scenario(), "tasks": []}, VI, NOW)
    assert empty[:4] == b"\x89PNG" and _png_stats(empty)[1] > 0.001
    big = _big_event(2000)
    for i, t in enumerate(big["tasks"]):
        t["lead"] = f"DV{i % 45:02d}"  # more agencies than bars: the smallest are summed into "Others"
    png = chart_png(big, EN, NOW)
    (h, w, _), non_white, _, _ = _png_stats(png)
    assert h < 4000 and non_white > 0.02


def test_workbook_of_a_huge_event():
    data = _big_event(5000)
    wb = load_workbook(io.BytesIO(workbook_bytes(data, VI)), read_only=True)
    assert sum(1 for _ in wb["Nhiệm vụ"].iter_rows(min_row=2)) == 5000
    assert sum(1 for _ in wb["Nhật ký"].iter_rows(min_row=2)) == 5000
    total = next(r for r in rows(wb["Tổng hợp"]) if r[0] == "Tổng cộng")
    assert total[2] == 5000 and total[3] + total[4] == sum(t["status"] == "done" for t in data["tasks"])


# -- CSV and JSON ---------------------------------------------------------------------------------
def test_csv_has_exactly_the_tasks_sheet_fields():
    data = scenario()
    text = to_csv(data)
    assert text.startswith("\ufeff")  # the BOM: Excel on Windows reads UTF-8 only with it
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    assert tuple(reader.fieldnames) == CSV_FIELDS
    got = {r["code"]: r for r in reader}
    assert len(got) == 13
    assert got["CB-01"]["supporting"] == "BTC CA" and got["NC-11"]["overdue"] == "true"
    assert got["CB-01"]["overdue"] == "false" and got["NC-12"]["blocked_reason"] == "chờ kinh phí <gấp> & bổ sung"
    ws = open_wb(data)["Nhiệm vụ"]
    assert ws.max_column == len(CSV_FIELDS)
    loaded = json.loads(to_json(data))
    assert all(set(CSV_FIELDS) <= set(t) for t in loaded["tasks"])


# -- the real engine -------------------------------------------------------------------------------
def test_reports_from_a_real_event(sqlite_app):
    from bot.render.export import event_export
    from tests.helpers import Chat, seed_world

    event = seed_world(sqlite_app)
    chat = Chat(sqlite_app)
    chat.say("ca", "/xong CB-23 đã xong")
    chat.say("stc", "/vuong CB-05 chờ <b>UBND</b> bố trí vốn")
    chat.say("stc", "/giahan CB-05 25/5/2026 17h chờ hồ sơ bổ sung")
    chat.say("coord", "/duyet 1")
    unknown = chat.say("coord", "/baocao 999")
    with sqlite_app.read() as store:
        ev = store.get_event(event.id)
        data = event_export(store, ev, sqlite_app.now())
    assert len(data["tasks"]) == 58 and "Không có sự kiện 999" in unknown
    assert data["event"]["timezone"] == "Asia/Ho_Chi_Minh" and data["event"]["ended"] is False
    assert [p["code"] for p in data["phases"]] == ["CB", "NC", "NL", "SL"] and data["phases"][0]["name"] == "Chuẩn bị"
    assert data["agencies"]["CA"]["name"]
    wb = open_wb(data)
    tasks = {r[0]: r for r in wb["Nhiệm vụ"].iter_rows(min_row=2, values_only=True)}
    assert len(tasks) == 58 and tasks["CB-23"][7] == "Xong" and tasks["CB-05"][7] == "Vướng"
    assert tasks["CB-05"][10] == "chờ <b>UBND</b> bố trí vốn"
    assert isinstance(tasks["CB-05"][5], datetime) and tasks["CB-05"][6] > tasks["CB-05"][5]
    audit = rows(wb["Nhật ký"])
    assert any(r[0] == "CB-05" and r[4] == "duyệt gia hạn" for r in audit)
    aar = after_action(from_export(data))
    assert [x.code for x in aar.extensions] == ["CB-05"]
    assert aar.extensions[0].reason == "chờ hồ sơ bổ sung"
    assert [b.code for b in aar.blocked] == ["CB-05"]
    text = digest_text(data, VI)
    assert "CB-23" in text and "chờ &lt;b&gt;UBND&lt;/b&gt; bố trí vốn" in text and len(text) <= 1500
    assert chart_png(data, VI)[:4] == b"\x89PNG"
    assert re.search(r"Xong \d+/58", strip_html(text))


def test_cli_exports_and_an_unknown_event(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("DUTYBOT_STORAGE__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["event", "create", "ceremony", "--start", "11/6/2026 07:00", "--allow-past"]) == 0
    event_id = capsys.readouterr().out.strip()
    out = tmp_path / "r.xlsx"
    code = main(["export", event_id, "--format", "xlsx", "--out", str(out)])
    assert code == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["Tổng hợp", "Nhiệm vụ", "Nhật ký", "Rút kinh nghiệm"] and wb["Nhiệm vụ"].max_row == 59
    capsys.readouterr()
    assert main(["export", event_id, "--format", "csv"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header == "\ufeff" + ",".join(CSV_FIELDS)
    assert main(["export", "999", "--format", "xlsx", "--out", str(tmp_path / "x.xlsx")]) != 0
    assert "no event 999" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()


def test_workbook_keeps_hostile_user_text_as_plain_text():
    data = scenario()
    data["tasks"][0]["last_note"] = '=HYPERLINK("http://evil","bấm")'
    data["tasks"][1]["blocked_reason"] = "kinh phí\x0b\x00 chưa về"
    data["tasks"][2]["title"] = "x" * 40_000
    ws = open_wb(data)["Nhiệm vụ"]
    assert ws["N2"].value == '=HYPERLINK("http://evil","bấm")' and ws["N2"].data_type == "s"
    assert ws["K3"].value == "kinh phí chưa về"
    assert len(ws["B4"].value) <= 32_767


def test_chart_draws_dollar_signs_and_markup_literally():
    data = scenario()
    data["event"]["name"] = "Chi phí $\\frac{$ <b>x</b>"
    data["phases"][0]["name"] = "Giai đoạn $1$"
    for t in data["tasks"][:3]:
        t["lead"] = "$A$"
    assert chart_png(data, VI, NOW)[:4] == b"\x89PNG"
