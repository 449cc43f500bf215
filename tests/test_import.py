"""The plan importer on documents the tests build (python-docx, openpyxl, csv): headings, group rows,
every deadline phrase of issue 16, agencies, several leads, empty and garbage files, random text."""

from __future__ import annotations

import tomllib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.plan_docs import HEAD, INTRO, csv_bytes, docx_bytes, xlsx_bytes
from workflows.importer import Grid, Source, import_plan, import_source, load_registry
from workflows.importer.deadlines import read_deadline, read_start
from workflows.spec import check_template_text

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2027, 5, 19, 7, 0, tzinfo=TZ)
MAKERS = {"docx": docx_bytes, "xlsx": xlsx_bytes, "csv": csv_bytes}


def _duties(result) -> list[dict]:
    assert result.toml is not None, result.error
    spec, problems = check_template_text(result.toml, "t.toml", "t")
    assert spec is not None and not problems, problems
    return tomllib.loads(result.toml)["duties"]


# -- deadlines: every phrase of the issue, and the usual variants -----------------------------
@pytest.mark.parametrize(
    "text, due, cue",
    [
        ("Trước ngày 25/3/2027", "T-55d", False),
        ("Tháng 4/2027", "T-19d", False),  # a month takes its last day (30/4)
        ("Trước 10 ngày tổ chức Lễ", "T-10d", False),
        ("Tổng duyệt 15h00 ngày 17/5/2027", "T-2d 15:00", False),
        ("6h00 ngày 19/5/2027", "T+0 06:00", True),  # run-of-show time on the day: a cue
        ("Sau Lễ 30 ngày", "T+30d", False),
        ("Từ ngày 01/4 đến ngày 19/5/2027", "T+0d", False),  # a range takes its end
        ("Từ ngày 01/4 đến ngày 30/4/2027", "T-19d", False),
        ("Trước 17h00 ngày 10/5/2027", "T-9d 17:00", False),
        ("ngày 18 tháng 5 năm 2027", "T-1d", False),
        ("trong tháng 3 năm 2027", "T-49d", False),
        ("Quý II/2027", "T+42d", False),
        ("Trước 25/3", "T-55d", False),  # the year from the event start
        ("Trước Lễ 01 tuần", "T-7d", False),
        ("Từ 7h00 đến 9h00 ngày 19/5/2027", "T+0 07:00", True),  # a slot on the day: the cue is its start
        ("7 giờ 30 phút ngày 19/5/2027", "T+0 07:30", True),
        ("01-05/4/2027", "T-44d", False),
    ],
)
def test_every_deadline_phrase(text, due, cue):
    got = read_deadline(text, START)
    assert (got.due, got.cue, got.problem) == (due, cue, None)


@pytest.mark.parametrize("text", ["Thường xuyên", "Theo chương trình", "", "xyz", "Theo kế hoạch"])
def test_no_deadline_is_a_problem_never_a_date(text):
    got = read_deadline(text, START)
    assert got.due is None and got.problem


def test_dates_need_the_start_relative_phrases_do_not():
    assert read_deadline("Trước ngày 25/3/2027", None).due is None
    assert read_deadline("Sau Lễ 30 ngày", None).due == "T+30d"


def test_start_read_from_the_document():
    start, line = read_start(["KẾ HOẠCH", "- Thời gian: 07 giờ 00 phút, ngày 19 tháng 5 năm 2027."])
    assert start == datetime(2027, 5, 19, 7, 0) and "07 giờ" in line
    assert read_start(["Thời gian tổ chức: 7h30 ngày 19/5/2027"])[0] == datetime(2027, 5, 19, 7, 30)
    assert read_start(["Căn cứ Kế hoạch số 12 ngày 3/3/2027"])[0] is None


# -- agencies ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cell, codes, vague",
    [
        ("Sở Văn hóa, Thể thao và Du lịch", ["VHTTDL"], []),
        ("Sở VHTTDL", ["VHTTDL"], []),
        ("SỞ VĂN HOÁ, THỂ THAO VÀ DU LỊCH", ["VHTTDL"], []),
        ("so van hoa the thao va du lich", ["VHTTDL"], []),
        ("Sở TT&TT; Đài PT-TH tỉnh Nghệ An", ["STTTT", "DAI"], []),
        ("Sở GTVT, Công an tỉnh Nghệ An và các đơn vị liên quan", ["SGTVT", "CA"], ["các đơn vị liên quan"]),
        ("Bộ CHQS tỉnh, Tỉnh đoàn, Báo Nghệ An", ["BCHQS", "TD", "BAO"], []),
        ("Các sở, ngành liên quan", [], ["Các sở, ngành liên quan"]),
        ("các huyện, thành phố, thị xã", [], ["các huyện, thành phố, thị xã"]),
        ("UBND huyện Nam Đàn, UBND thành phố Vinh", ["UBND-NAMDAN", "UBND-VINH"], []),
        ("- Sở Y tế\n- Sở Tài chính", ["SYT", "STC"], []),
    ],
)
def test_agency_names_accents_case_abbreviations(cell, codes, vague):
    got = load_registry().read_cell(cell)
    assert [a.code for a in got.agencies] == codes and got.vague == vague and got.unknown == []


def test_unknown_agency_gets_a_code_once():
    reg = load_registry()
    first = reg.read_cell("Trung tâm Bảo tồn di sản Hồng Lam, Sở Y tế")
    assert [a.code for a in first.agencies][1] == "SYT" and first.unknown == ["Trung tâm Bảo tồn di sản Hồng Lam"]
    again = reg.read_cell("trung tam bao ton di san hong lam")
    assert again.unknown == [] and again.agencies[0].code == first.agencies[0].code


# -- whole documents ---------------------------------------------------------------------------
ROWS = [
    "I. CÔNG TÁC CHUẨN BỊ",
    [
        "1",
        "Xây dựng kịch bản",
        "Sở Văn hóa, Thể thao và Du lịch",
        "Công an tỉnh và các đơn vị liên quan",
        "Trước ngày 25/3/2027",
        "",
    ],
    ["2", "Tuyên truyền", "Sở TT&TT", "Báo Nghệ An, Đài PT-TH tỉnh", "Từ ngày 01/4 đến ngày 19/5/2027", ""],
    ["3", "Chỉnh trang đô thị", "UBND thành phố Vinh", "Các sở, ngành liên quan", "Tháng 4/2027", ""],
    ["4", "Tổng duyệt", "Sở VHTTDL", "Hội Văn nghệ dân gian tỉnh", "Tổng duyệt 15h00 ngày 17/5/2027", ""],
    "II. TỔ CHỨC LỄ",
    ["5", "Đón đại biểu", "Văn phòng UBND tỉnh", "", "6h00 ngày 19/5/2027", "Cổng chính"],
    ["6", "Bảo vệ an ninh", "Công an tỉnh, Bộ CHQS tỉnh", "", "Thường xuyên", ""],
    ["7", "Chuẩn bị quà", "Sở Tài chính", "", "Trước 10 ngày tổ chức Lễ", ""],
    "III. SAU LỄ",
    ["8", "Báo cáo tổng kết", "Sở VHTTDL", "", "Sau Lễ 30 ngày", ""],
]
EXPECTED = [  # code, lead, supporting, due, cue
    ("CB-01", "VHTTDL", ["CA"], "T-55d", False),
    ("CB-02", "STTTT", ["BAO", "DAI"], "T+0d", False),
    ("CB-03", "UBND-VINH", [], "T-19d", False),
    ("CB-04", "VHTTDL", ["HVNDG"], "T-2d 15:00", False),
    ("TCL-01", "VPUB", [], "T+0 06:00", True),
    ("TCL-02", "CA", ["BCHQS"], "T+0h", False),
    ("TCL-03", "STC", [], "T-10d", False),
    ("SL-01", "VHTTDL", [], "T+30d", False),
]


@pytest.mark.parametrize("kind", ["docx", "xlsx", "csv"])
def test_a_plan_in_each_format(kind):
    data = MAKERS[kind](ROWS)
    result = import_plan(data, f"ke-hoach.{kind}", start=START if kind == "csv" else None)
    duties = _duties(result)
    got = [(d["code"], d["lead"], d.get("supporting", []), d["due"], d.get("cue", False)) for d in duties]
    assert got == EXPECTED
    assert result.start == START
    toml = tomllib.loads(result.toml)
    assert [p["name"] for p in toml["phases"]] == ["Công tác chuẩn bị", "Tổ chức lễ", "Sau lễ"]
    if kind != "csv":
        assert toml["template"]["name"] == "Lễ kỷ niệm 137 năm Ngày sinh Chủ tịch Hồ Chí Minh"
    assert "các sở, ngành liên quan" in duties[2]["note"].lower()  # a vague group is a note
    # the rows it could not read fully: unknown agency (row of duty 4), several leads + no deadline (duty 6)
    by_field = {(i.field, i.message.split(";")[0]) for i in result.issues}
    assert ("supporting", "unknown agency 'Hội Văn nghệ dân gian tỉnh'") in by_field
    assert ("lead", "several lead agencies") in by_field
    assert ("due", "no deadline in 'Thường xuyên'") in by_field
    assert result.rows_to_check == 2
    for line in result.lines():
        assert line.startswith(f"ke-hoach.{kind}:row ")
    assert sum(line.startswith("# check:") for line in result.toml.splitlines()) == len(result.issues)


def test_row_numbers_point_at_the_row_in_the_file():
    rows = ROWS[:2]  # heading, group row, one duty, then the bad row: the 4th row of the table
    for kind, row in (("xlsx", len(INTRO) + 4), ("csv", 4), ("docx", 4)):
        bad = rows + [["2", "Việc", "", "", "Thường xuyên", ""]]
        result = import_plan(MAKERS[kind](bad), f"p.{kind}", start=START)
        assert {i.row for i in result.issues} == {row}, (kind, result.lines())


@pytest.mark.parametrize(
    "head",
    [
        ["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời hạn", "Ghi chú"],
        ["TT", "Công việc", "Chủ trì", "Phối hợp", "Thời gian", "Ghi chú"],
        ["Số TT", "NỘI DUNG", "CƠ QUAN CHỦ TRÌ", "CƠ QUAN PHỐI HỢP", "THỜI GIAN HOÀN THÀNH", "GHI CHÚ"],
        ["tt", "noi dung cong viec", "co quan chu tri", "co quan phoi hop", "thoi gian hoan thanh", "ghi chu"],
        ["TT", "Nội dung", "Cơ quan thực hiện", "Phối hợp", "Tiến độ", ""],
    ],
)
@pytest.mark.parametrize("kind", ["docx", "xlsx", "csv"])
def test_every_heading_variant(head, kind):
    result = import_plan(MAKERS[kind](ROWS, head=head), f"k.{kind}", start=START)
    assert [d["lead"] for d in _duties(result)] == [e[1] for e in EXPECTED]


def test_two_level_headings_and_column_numbers():
    rows = [["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"]] + ROWS
    data = docx_bytes(
        rows,
        header_rows=[
            ["TT", "Nội dung công việc", "Cơ quan", "Cơ quan", "Thời gian", "Ghi chú"],
            ["TT", "Nội dung công việc", "Chủ trì", "Phối hợp", "Thời gian", "Ghi chú"],
        ],
    )
    result = import_plan(data, "two.docx")
    assert [(d["lead"], d.get("supporting", [])) for d in _duties(result)] == [(e[1], e[2]) for e in EXPECTED]


def test_two_tables_and_a_letterhead_table():
    result = import_plan(docx_bytes(ROWS, split_at=6), "split.docx")
    assert len(_duties(result)) == len(EXPECTED)


def test_merged_group_rows_without_numerals_and_sub_items():
    rows = [
        "CÔNG TÁC TUYÊN TRUYỀN",
        ["1", "Treo băng rôn", "Sở VHTTDL", "", "Trước ngày 10/5/2027", ""],
        ["", "- Trên các tuyến phố chính", "", "", "", ""],
        "TỔ CHỨC LỄ",
        ["2", "Đón đại biểu", "VPUB", "", "6h30 ngày 19/5/2027", ""],
    ]
    for kind in ("docx", "xlsx"):
        duties = _duties(import_plan(MAKERS[kind](rows), f"m.{kind}"))
        assert [d["code"] for d in duties] == ["CTTT-01", "TCL-01"] or [d["phase"] for d in duties][0] != "TCL"
        assert "Trên các tuyến phố chính" in duties[0]["title"]
        assert duties[1]["due"] == "T+0 06:30" and duties[1]["cue"] is True


def test_missing_lead_gets_the_committee_and_a_check():
    rows = [["1", "Việc chưa giao", "", "Sở Y tế", "Trước ngày 10/5/2027", ""]]
    result = import_plan(docx_bytes(rows), "x.docx")
    d = _duties(result)[0]
    assert d["lead"] == "BTC" and d["supporting"] == ["SYT"]
    assert any(i.field == "lead" for i in result.issues)


@pytest.mark.parametrize(
    "name, data",
    [
        ("empty.docx", b""),
        ("empty.xlsx", b""),
        ("empty.csv", b""),
        ("blank.csv", b"  \n\n"),
        ("garbage.docx", b"PK\x03\x04 this is not a zip"),
        ("garbage.xlsx", bytes(range(256)) * 40),
        ("garbage.csv", b"\x00\x01\x02 binary"),
        ("notes.csv", "chỉ là ghi chú,không có bảng\n".encode()),
        ("plan.pdf", b"%PDF-1.4"),
    ],
)
def test_empty_and_garbage_files_give_a_clear_error(name, data):
    result = import_plan(data, name, start=START)
    assert result.toml is None and result.error


def test_a_document_without_a_duty_table():
    result = import_plan(docx_bytes([], head=None), "letter.docx")
    assert result.toml is None and "no duty table" in result.error


def test_dates_without_a_start_say_give_start():
    result = import_plan(csv_bytes(ROWS), "p.csv")
    assert result.toml is None and "--start" in result.error


_CELL = st.text(
    alphabet=st.sampled_from(list("0123456789/-.:,;hH ngàyTháng trướcsauLễđếnTừSở VHTT&\n\"'()IVX")), max_size=40
) | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
_HEADS = st.lists(st.sampled_from(HEAD + ["STT", "Nhiệm vụ", "Chủ trì", "Thời hạn", "", "x"]), min_size=1, max_size=7)


@settings(max_examples=200, deadline=None)
@given(_HEADS, st.lists(st.lists(_CELL, max_size=8), max_size=15), st.sampled_from(["docx", "xlsx", "csv"]))
def test_random_cell_text_never_crashes(head, rows, kind):
    """Any cell text after any headings: a valid template or a clear error, never an exception."""
    grid = Grid(rows=[(n, cells) for n, cells in enumerate([head, *rows], 1)], renumber=kind == "docx")
    source = Source(paragraphs=[c for r in rows for c in r][:5], grids=[grid])
    result = import_source(source, f"r.{kind}", start=START if kind == "csv" else None)
    if result.toml is not None:
        spec, problems = check_template_text(result.toml, "r.toml", "r")
        assert spec is not None, problems
    else:
        assert result.error


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_CELL, min_size=1, max_size=6), max_size=8), st.sampled_from(["docx", "xlsx", "csv"]))
def test_random_cells_in_real_files_never_crash(rows, kind):
    data = MAKERS[kind](rows, head=HEAD)
    result = import_plan(data, f"r.{kind}", start=START)
    assert result.toml is not None or result.error
