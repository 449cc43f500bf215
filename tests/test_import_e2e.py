"""Tried as a new user would: the Quảng Trị plan in tests/data (another ceremony, other agencies than
the bundled template) imported with the CLI, checked, made an event with no hand edit, and its export's
deadlines checked row by row against the plan; then the formal report of that event."""

from __future__ import annotations

import io
import json
import re
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pytest

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN = Path(__file__).parent / "data" / "ke-hoach-le-ky-niem-80-nam-ttls-quang-tri.docx"
UNKNOWN = "?"  # the code the import makes for "Ban Quản lý các Nghĩa trang liệt sĩ quốc gia"


def d(day: int, month: int, hour: int = 17, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=TZ)


# STT → (lead, supporting, deadline) as a person reads the plan (start 20:00 26/7/2027; day-only
# deadlines at 17:00). None: the row has no deadline ("Theo chương trình", "Thường xuyên").
EXPECTED = {
    1: ("SLDTBXH", ["VHTTDL", "VPUB"], d(15, 5)),
    2: ("SLDTBXH", ["SNV"], d(20, 5)),
    3: ("STC", ["SLDTBXH"], d(31, 5)),
    4: ("VPUB", ["SLDTBXH", "SNGV"], d(26, 6)),
    5: ("MTTQ", ["HLHPN", "TD", "HCCB"], d(25, 7)),
    6: (UNKNOWN, ["SXD", "UBND-GIOLINH"], d(10, 7)),
    7: ("UBND-DONGHA", ["SXD", "STNMT"], d(21, 7)),
    8: ("DL", ["UBND-DONGHA"], d(20, 7)),
    9: ("VNPT", ["VIETTEL", "DAI"], d(22, 7)),
    10: ("SGTVT", ["CA"], d(16, 7)),
    11: ("CA", ["BCHQS", "BDBP"], d(10, 7)),
    12: ("SYT", ["BVDK"], d(20, 7)),
    13: ("VHTTDL", ["TD", "NHNT"], d(30, 6)),
    14: ("VHTTDL", ["UBND-DONGHA", "TTVH"], d(23, 7)),
    15: ("BTG", ["STTTT", "SLDTBXH"], d(31, 5)),
    16: ("STTTT", ["BAO", "DAI"], d(27, 7)),
    17: ("UBND-DONGHA", [], d(20, 7)),
    18: ("HCCB", ["BAO"], d(30, 6)),
    19: ("DAI", ["VNPT"], None),
    20: ("VHTTDL", [], d(24, 7, 19)),
    21: ("VPUB", ["BCHQS", UNKNOWN], d(26, 7, 7)),
    22: ("VPUB", ["TD"], d(26, 7, 18, 30)),
    23: ("CA", ["BCHQS"], None),
    24: ("VHTTDL", ["NHNT"], d(26, 7, 20, 15)),
    25: ("TD", ["HLHPN"], d(26, 7, 21, 30)),
    26: ("SYT", [], d(26, 7, 19)),
    27: ("UBND-DONGHA", ["VHTTDL"], d(29, 7)),
    28: ("STC", [], d(25, 8)),
    29: ("SLDTBXH", ["VPUB"], d(10, 8)),
    30: ("SNV", ["TDKT"], d(31, 8)),
}
CUES = {21, 22, 24, 25, 26}  # a time on the ceremony day


def test_the_quang_tri_plan_end_to_end(cli, tmp_path):
    out = tmp_path / "le-ttls.toml"
    code, stdout, err = cli("workflow", "import", str(PLAN), "--out", str(out))
    assert code == 0 and stdout == ""
    problems = [line for line in err.splitlines() if re.match(rf"{re.escape(PLAN.name)}:row \d+: ", line)]
    template = tomllib.loads(out.read_text(encoding="utf-8"))
    duties = template["duties"]
    assert len(duties) == len(EXPECTED) == 30
    # each duty's source row: "# row N" above its block; STT order = document order
    text = out.read_text(encoding="utf-8")
    blocks = text.split("[[duties]]")[1:]
    checked_rows = {int(m) for m in re.findall(r":row (\d+): ", "\n".join(problems))}
    rows = [int(re.findall(r"# row (\d+)", before)[-1]) for before in text.split("[[duties]]")[:-1]]
    assert len(rows) == len(blocks) == 30
    unknown = next(a["code"] for a in template["agencies"] if a["name"].startswith("Ban Quản lý các Nghĩa trang"))

    code, _, err2 = cli("workflow", "check", str(out))
    assert code == 0, err2
    # No --start, no hand edit: the plan's own start.
    code, event_id, err3 = cli("event", "create", str(out), "--allow-past")
    assert code == 0, err3
    code, exported, _ = cli("export", event_id.strip(), "--format", "json")
    data = json.loads(exported)
    assert data["event"]["start"] == d(26, 7, 20).isoformat()
    tasks = {t["code"]: t for t in data["tasks"]}

    fully = 0
    for stt, duty, row in zip(sorted(EXPECTED), duties, rows):
        lead, supporting, deadline = EXPECTED[stt]
        lead = unknown if lead == UNKNOWN else lead
        supporting = [unknown if s == UNKNOWN else s for s in supporting]
        task = tasks[duty["code"]]
        right = (
            (task["lead"], task["supporting"]) == (lead, supporting)
            and deadline is not None
            and datetime.fromisoformat(task["deadline"]) == deadline
        )
        if row in checked_rows:
            continue  # reported on stderr and marked "# check:" in the template
        assert right, (stt, task["lead"], task["supporting"], task["deadline"])
        assert duty.get("cue", False) == (stt in CUES), stt
        fully += 1
    assert fully / len(EXPECTED) >= 0.9, f"{fully}/{len(EXPECTED)} rows read fully"
    # every row not read fully is on stderr and marked in the file
    for stt in (6, 19, 23):
        row = rows[stt - 1]
        assert row in checked_rows, stt
        assert f"# row {row}\n# check: " in text
    assert "# check:" not in text.split("# row ")[1]  # row of STT 1: nothing to check

    code, _, _ = cli("export", event_id.strip(), "--format", "docx", "--out", str(tmp_path / "bc.docx"))
    assert code == 0
    report = docx.Document(io.BytesIO((tmp_path / "bc.docx").read_bytes()))
    body = "\n".join(p.text for p in report.paragraphs)
    assert "Kết quả thực hiện Kế hoạch tổ chức Lễ kỷ niệm 80 năm Ngày Thương binh - Liệt sĩ" in body
    assert "Tổng số nhiệm vụ được phân công: 30 nhiệm vụ." in body


@pytest.mark.parametrize(
    "name, data", [("empty.docx", b""), ("junk.xlsx", b"not a workbook at all"), ("junk.csv", b"\x00\x00\x00")]
)
def test_unusable_files_exit_2_and_write_nothing(cli, tmp_path, name, data):
    src = tmp_path / name
    src.write_bytes(data)
    out = tmp_path / "out.toml"
    code, stdout, err = cli("workflow", "import", str(src), "--out", str(out))
    assert code == 2 and not out.exists() and stdout == ""
    assert f"{name}: error: " in err and "nothing written" in err


def test_import_to_stdout_and_a_bad_start(cli, tmp_path):
    code, stdout, err = cli("workflow", "import", str(PLAN), "--start", "1/8/2027 19:30")
    assert code == 0 and stdout.startswith("# dutybot workflow template")
    assert 'start = "2027-08-01 19:30"' in stdout
    code, stdout, err = cli("workflow", "import", str(PLAN), "--start", "ngày nào đó")
    assert code == 2 and stdout == "" and "cannot read the date" in err
    code, _, err = cli("workflow", "import", str(tmp_path / "missing.docx"))
    assert code == 2 and "cannot read" in err


def test_event_create_without_a_start_needs_one(cli):
    code, _, err = cli("event", "create", "ceremony")
    assert code == 2 and "--start" in err
