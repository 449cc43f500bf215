"""bot.understanding: free-text status replies.

Measured on the shared development set (status_phrases_dev.md, parsed at test time) and on a
held-out set written here before the classifier was built. Run with `-s` to see the figures.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.understanding import Reading, understand

DEV_FILE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "status_phrases_dev.md"
KINDS = {"done", "progress", "blocked", "unblocked", "question", "ack", "unclear"}
ANY = object()  # "don't care" for a percent


# ---------------------------------------------------------------- the development set
@dataclass
class DevRow:
    section: str
    number: int
    text: str
    kinds: set[str]  # accepted kinds
    percent: int | None = None  # expected percent when the file gives a number
    percent_tolerance: int = 0
    codes: set[str] = field(default_factory=set)
    ambiguous: bool = False
    trap: bool = False


# The file's labels are task states; an `unblocked` reading also puts the task in progress.
_LABEL_KINDS = {"done": {"done"}, "in_progress": {"progress", "unblocked"}, "blocked": {"blocked"},
                "question": {"question"}, "ack": {"ack"}}


def _kinds_of(label: str) -> tuple[set[str], set[str]]:
    m = re.match(r"\s*([a-z_]+)\??\s*(?:\(([^)]*)\))?", label)
    if not m or m.group(1) not in _LABEL_KINDS:
        raise ValueError(f"unknown label {label!r} in {DEV_FILE.name}")
    codes = set(re.split(r"[/,\s]+", m.group(2))) - {""} if m.group(2) else set()
    return _LABEL_KINDS[m.group(1)], codes


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def load_dev_rows(path: Path = DEV_FILE) -> list[DevRow]:
    rows: list[DevRow] = []
    section = ""
    header: list[str] = []
    trap_range: tuple[int, int] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section, header, trap_range = line[3:].strip(), [], None
            continue
        m = re.search(r"Rows (\d+)\s*[–-]\s*(\d+).*trap", line, re.I)
        if m:
            trap_range = (int(m.group(1)), int(m.group(2)))
        if not line.startswith("|"):
            continue
        cells = _cells(line)
        if cells and cells[0] == "#":
            header = [c.lower() for c in cells]
            continue
        if not header or not cells[0].isdigit():
            continue
        rec = dict(zip(header, cells))
        number = int(cells[0])
        note = rec.get("ghi chú", "")
        trap = "trap" in note.lower() or bool(trap_range and trap_range[0] <= number <= trap_range[1])
        if "nhãn" in rec:  # sections A–D
            kinds, codes = _kinds_of(rec["nhãn"])
            param = rec.get("tham số", "")
            if kinds == {"blocked"} and not codes and param not in ("", "–", "-"):
                codes = set(re.split(r"[/,\s]+", param)) - {""}
            pm = re.fullmatch(r"(~?)(\d{1,3})\??", param)
            texts = [rec["tin nhắn"]]
            percent = int(pm.group(2)) if pm else None
            tolerance = 10 if pm and pm.group(1) else 0
            ambiguous = rec.get("mơ hồ", "N").upper().startswith("Y")
        else:  # section E: "Likely meaning" column, every row ambiguous
            kinds = _LABEL_KINDS.get(re.match(r"\w+", rec.get("likely meaning", "")).group(0), set())
            codes, percent, tolerance, ambiguous = set(), None, 0, True
            texts = [t.strip() for t in rec["tin nhắn"].split(" / ")]
        for text in texts:
            rows.append(DevRow(section, number, text, kinds, percent, tolerance, codes, ambiguous, trap))
    return rows


def _percent_ok(reading: Reading, row: DevRow) -> bool:
    return reading.percent is not None and abs(reading.percent - row.percent) <= row.percent_tolerance


@pytest.fixture(scope="module")
def dev_rows() -> list[DevRow]:
    if not DEV_FILE.exists():
        pytest.skip(f"development set not found at {DEV_FILE} (it lives in the shared/ folder beside the repo)")
    rows = load_dev_rows()
    assert len(rows) >= 30, f"parsed only {len(rows)} rows from {DEV_FILE}"
    return rows


def test_dev_set(dev_rows: list[DevRow]) -> None:
    by_section: dict[str, list] = defaultdict(list)
    unamb_hits = unamb_total = 0
    confident_wrong_ambiguous: list[str] = []
    confident_wrong_traps: list[str] = []
    pct_hits = pct_total = code_hits = code_total = 0
    for row in dev_rows:
        r = understand(row.text)
        ok = r.kind in row.kinds
        by_section[row.section].append(ok)
        if not row.ambiguous:
            unamb_total += 1
            unamb_hits += ok
        if not ok and r.confident:
            line = f"#{row.number} {row.text!r}: expected {sorted(row.kinds)}, got {r}"
            (confident_wrong_ambiguous if row.ambiguous else []).append(line)
            if row.trap:
                confident_wrong_traps.append(line)
        if row.percent is not None:
            pct_total += 1
            pct_hits += _percent_ok(r, row)
        if row.codes and ok:
            code_total += 1
            code_hits += r.reason_code in row.codes
        flag = "ok " if ok else "BAD"
        print(f"  {flag} #{row.number:<3} {row.text!r:<70} -> {r.kind} p={r.percent} code={r.reason_code}"
              f" confident={r.confident} alt={r.alternatives}")
    print("\nDev set accuracy by section (kind):")
    for section, oks in by_section.items():
        print(f"  {section:<45} {sum(oks)}/{len(oks)} = {sum(oks) / len(oks):.2f}")
    accuracy = unamb_hits / unamb_total
    print(f"  unambiguous rows: {unamb_hits}/{unamb_total} = {accuracy:.2f}")
    print(f"  percent where given: {pct_hits}/{pct_total}; reason code where given: {code_hits}/{code_total}")
    assert accuracy >= 0.85, f"dev kind accuracy on unambiguous rows {accuracy:.2f} < 0.85"
    assert not confident_wrong_ambiguous, "confident wrong answers on ambiguous rows:\n" + "\n".join(
        confident_wrong_ambiguous)
    assert not confident_wrong_traps, "confident wrong answers on trap rows:\n" + "\n".join(confident_wrong_traps)


def test_dev_section_e_with_context(dev_rows: list[DevRow]) -> None:
    """The context-dependent acknowledgements resolve once the bot's last message is known."""
    texts = {row.text for row in dev_rows if row.section.startswith("E")}
    assert {"ok", "rồi"} <= texts
    assert understand("ok", last_prompt="assignment") == Reading("ack")
    for text in ("r", "rồi"):
        assert understand(text, last_prompt="asked_done").kind == "done"
        assert understand(text, last_prompt="asked_done").confident
        assert understand(text, last_prompt="assignment").kind == "ack"
        assert not understand(text).confident
    vang = [t for t in texts if t.lower().startswith("vâng")]
    assert vang and all(understand(t, last_prompt="assignment").kind == "ack" for t in vang)


# ---------------------------------------------------------------- held-out phrasings
# None of these is in the dev file. (text, last_prompt, kinds, percent, codes)
# HELD_OUT was written before the classifier (but with it in mind). LATER_BATCHES were written after,
# each measured blind first (0.90 and 0.96 on kind) and the general causes of its misses then fixed.
HELD_OUT: list[tuple[str, str | None, set[str], object, set[str]]] = [
    ("xong r nhé", None, {"done"}, ANY, set()),
    ("Da hoan thanh", None, {"done"}, ANY, set()),
    ("Đã hoàn tất ạ", None, {"done"}, ANY, set()),
    ("em đã gửi công văn cho VP rồi ạ", None, {"done"}, ANY, set()),
    ("xong xuôi hết rồi anh ơi", None, {"done"}, ANY, set()),
    ("finished", None, {"done"}, ANY, set()),
    ("All done.", None, {"done"}, ANY, set()),
    ("100% rồi nhé", None, {"done"}, 100, set()),
    ("da treo xong bang ron", None, {"done"}, ANY, set()),
    ("Hoàn thành rồi nha", None, {"done"}, ANY, set()),
    ("xonggg", None, {"done"}, ANY, set()),
    ("Da xog", None, {"done"}, ANY, set()),
    ("mần xong rồi", None, {"done"}, ANY, set()),
    ("Done, photos sent", None, {"done"}, ANY, set()),
    ("đang làm anh ạ", None, {"progress"}, ANY, set()),
    ("dg lam", None, {"progress"}, ANY, set()),
    ("Đang triển khai, được khoảng 60%", None, {"progress"}, 60, set()),
    ("được 40 phần trăm", None, {"progress"}, 40, set()),
    ("dc 2/3 roi", None, {"progress"}, 67, set()),
    ("xong 5/10 phòng", None, {"progress"}, 50, set()),
    ("hoan thanh 9/10", None, {"progress"}, 90, set()),
    ("được một nửa rồi", None, {"progress"}, 50, set()),
    ("80 %", None, {"progress"}, 80, set()),
    ("chx xong", None, {"progress"}, None, set()),
    ("chua hoan thanh a", None, {"progress"}, None, set()),
    ("in progress", None, {"progress"}, ANY, set()),
    ("50% done", None, {"progress"}, 50, set()),
    ("sap xong roi", None, {"progress"}, ANY, set()),
    ("Em đang in giấy mời, mai xong", None, {"progress"}, ANY, set()),
    ("dừ đang mần đây", None, {"progress"}, ANY, set()),
    ("khong vuong gi, dang lam binh thuong", None, {"progress"}, ANY, set()),
    ("Không có vướng mắc gì ạ", None, {"progress"}, ANY, set()),
    ("ko vướng j", None, {"progress"}, ANY, set()),
    ("đã hết vướng, tiếp tục triển khai", None, {"unblocked", "progress"}, ANY, set()),
    ("Vướng dự toán chưa được duyệt", None, {"blocked"}, ANY, {"budget", "approval"}),
    ("vuong kinh phi a", None, {"blocked"}, ANY, {"budget"}),
    ("het tien roi anh", None, {"blocked"}, ANY, {"budget"}),
    ("nỏ có kinh phí", None, {"blocked"}, ANY, {"budget"}),
    ("Thiếu người, cần thêm 5 TNV", None, {"blocked"}, ANY, {"staffing"}),
    ("thieu nhan luc", None, {"blocked"}, ANY, {"staffing"}),
    ("chờ lãnh đạo ký", None, {"blocked"}, ANY, {"approval"}),
    ("Đang trình ký, lãnh đạo đi công tác chưa về", None, {"blocked"}, ANY, {"approver_away"}),
    ("Sếp đi họp cả tuần nên chưa ký được", None, {"blocked"}, ANY, {"approver_away"}),
    ("Mưa bão quá, chưa dựng được rạp", None, {"blocked"}, ANY, {"weather"}),
    ("troi mua to qua chua treo dc", None, {"blocked"}, ANY, {"weather"}),
    ("Loa bị hỏng, đang chờ thay", None, {"blocked"}, ANY, {"equipment"}),
    ("mat dien, chua chay thu duoc", None, {"blocked"}, ANY, {"equipment"}),
    ("Nhà cung cấp chưa giao hoa", None, {"blocked"}, ANY, {"vendor"}),
    ("delayed, the printer hasn't delivered", None, {"blocked"}, ANY, {"vendor"}),
    ("khong kip anh oi", None, {"blocked"}, ANY, {"time"}),
    ("Sợ không kịp hạn ạ", None, {"blocked"}, ANY, {"time"}),
    ("Chưa nhận được số liệu từ các xã", None, {"blocked"}, ANY, {"missing_input"}),
    ("đang chờ Công an tỉnh phản hồi", None, {"blocked"}, ANY, {"dependency"}),
    ("stuck waiting for approval", None, {"blocked"}, ANY, {"approval"}),
    ("blocked: budget", None, {"blocked"}, ANY, {"budget"}),
    ("hẹn đến 20/6 mới có kinh phí", None, {"blocked"}, None, {"budget"}),
    ("Bao giờ thì phải nộp ạ?", None, {"question"}, ANY, set()),
    ("gửi file cho ai ạ", None, {"question"}, ANY, set()),
    ("Nộp ở đâu anh", None, {"question"}, ANY, set()),
    ("Mẫu báo cáo lấy ở đâu?", None, {"question"}, ANY, set()),
    ("co can dong dau khong a", None, {"question"}, ANY, set()),
    ("Hạn là 15/6 phải không anh?", None, {"question"}, None, set()),
    ("Bên Sở VH xong chưa ạ?", None, {"question"}, ANY, set()),
    ("When is the deadline?", None, {"question"}, ANY, set()),
    ("Răng lâu rứa, chưa thấy bên Sở gửi?", None, {"question"}, ANY, set()),
    ("ok em", "assignment", {"ack"}, ANY, set()),
    ("oke a", "assignment", {"ack"}, ANY, set()),
    ("Dạ em nhận ạ", None, {"ack"}, ANY, set()),
    ("Đã nhận nhiệm vụ", None, {"ack"}, ANY, set()),
    ("rồi", "asked_done", {"done"}, ANY, set()),
    ("dạ rồi", "asked_done", {"done"}, ANY, set()),
    ("vâng ạ", "asked_done", {"done"}, ANY, set()),
]


LATER_BATCHES: list[tuple[str, str | None, str]] = [
    ("Em xong việc rồi nhé anh", None, "done"),
    ("đã in xong 600 thẻ đại biểu", None, "done"),
    ("Bên em đã bố trí đủ xe đưa đón rồi ạ", None, "done"),
    ("xong het r a", None, "done"),
    ("Hoàn thành nhiệm vụ.", None, "done"),
    ("completed", None, "done"),
    ("It's done now", None, "done"),
    ("ok rồi anh, xong hết", None, "done"),
    ("Đã lắp đặt xong sân khấu", None, "done"),
    ("xong 100%", None, "done"),
    ("Đang tập kết vật tư", None, "progress"),
    ("đang xử lý a", None, "progress"),
    ("Khoảng 30% thôi anh", None, "progress"),
    ("mới được 20%", None, "progress"),
    ("được 7/10 rồi", None, "progress"),
    ("con 2 ngay nua xong", None, "progress"),
    ("Vẫn đang làm, chưa xong", None, "progress"),
    ("chua xong dau anh", None, "progress"),
    ("đang làm dở", None, "progress"),
    ("still working on it", None, "progress"),
    ("mọi thứ bình thường, đúng tiến độ", None, "progress"),
    ("Khó khăn về kinh phí ạ", None, "blocked"),
    ("chưa có tiền tạm ứng", None, "blocked"),
    ("thieu xe cho doan dai bieu", None, "blocked"),
    ("Sở chưa phê duyệt kế hoạch", None, "blocked"),
    ("Anh ơi bên in ấn trễ hẹn rồi", None, "blocked"),
    ("mưa quá không dựng rạp được", None, "blocked"),
    ("âm thanh bị lỗi, chưa khắc phục được", None, "blocked"),
    ("không đủ người trực", None, "blocked"),
    ("đợi UBND huyện gửi danh sách", None, "blocked"),
    ("lãnh đạo đi vắng chưa ký", None, "blocked"),
    ("can't finish in time", None, "blocked"),
    ("hong kip dau anh oi", None, "blocked"),
    ("ai phụ trách khâu này vậy anh", None, "question"),
    ("Em gửi báo cáo qua email nào ạ?", None, "question"),
    ("cho em hỏi hạn chót là khi nào", None, "question"),
    ("Có phải nộp bản cứng không", None, "question"),
    ("Mấy giờ tập trung ạ?", None, "question"),
    ("what format should the report be in", None, "question"),
    ("đi mô rứa anh", None, "question"),
    ("Em đã nhận được thông tin", "assignment", "ack"),
    ("dạ vâng", "assignment", "ack"),
    ("OK anh", "reminder", "ack"),
    ("Rõ ạ", None, "ack"),
    ("Dạ xong rồi", "asked_done", "done"),
    ("chưa ạ", "asked_done", "progress"),
    ("Vướng mắc đã được giải quyết", None, "unblocked"),
    ("Đã có kinh phí, tiếp tục làm", None, "progress"),
    # second batch
    ("Báo cáo anh, bên em đã hoàn thành việc trang trí hội trường", None, "done"),
    ("xong roi nha a", None, "done"),
    ("dạ đã gửi danh sách đại biểu qua zalo rồi ạ", None, "done"),
    ("Đã xong toàn bộ", None, "done"),
    ("ready", None, "done"),
    ("xong cả rồi", None, "done"),
    ("hoàn thành 10/10 hạng mục", None, "done"),
    ("Vừa xong anh ạ", None, "done"),
    ("Đang gấp rút hoàn thiện", None, "progress"),
    ("dang in thiep moi", None, "progress"),
    ("khoảng 2/3 rồi anh", None, "progress"),
    ("mới xong phần khung, còn phần trang trí", None, "progress"),
    ("tiến độ 60%", None, "progress"),
    ("đạt 45 %", None, "progress"),
    ("chưa xong anh ơi, đang cố", None, "progress"),
    ("Em làm được một nửa rồi", None, "progress"),
    ("half done", None, "progress"),
    ("đang liên hệ đơn vị cho thuê", None, "progress"),
    ("ổn anh, đang làm theo kế hoạch", None, "progress"),
    ("Kinh phí chưa về nên chưa triển khai được", None, "blocked"),
    ("Đang kẹt vì chưa có mặt bằng", None, "blocked"),
    ("thiếu 10 tình nguyện viên", None, "blocked"),
    ("Bên điện lực chưa cắt điện để đấu nối", None, "blocked"),
    ("Máy chiếu hư rồi anh", None, "blocked"),
    ("xe bị hỏng giữa đường", None, "blocked"),
    ("Mưa suốt từ sáng, chưa làm được gì", None, "blocked"),
    ("chờ giám đốc ký tờ trình", None, "blocked"),
    ("đồng chí phó chủ tịch đi công tác nên chưa duyệt", None, "blocked"),
    ("e ko kip dau a", None, "blocked"),
    ("The venue hasn't confirmed, we're blocked", None, "blocked"),
    ("Chưa nhận được maket từ Ban Tuyên giáo", None, "blocked"),
    ("xin gia hạn thêm 2 ngày", None, "blocked"),
    ("Nộp cho ai vậy anh?", None, "question"),
    ("Địa điểm tập kết ở đâu ạ", None, "question"),
    ("có cần đóng dấu đỏ k a", None, "question"),
    ("hạn nộp là bao giờ", None, "question"),
    ("Cần bao nhiêu bản ạ?", None, "question"),
    ("Ai ký xác nhận?", None, "question"),
    ("răng phải làm lại rứa", None, "question"),
    ("em nhận nhiệm vụ ạ", "assignment", "ack"),
    ("ok e", "assignment", "ack"),
    ("Đã nắm được", None, "ack"),
    ("vâng", "reminder", "ack"),
    ("roi a", "asked_done", "done"),
    ("chưa anh", "asked_done", "progress"),
    ("đã hết vướng mắc", None, "unblocked"),
    ("Không có vấn đề gì", None, "progress"),
]
HELD_OUT += [(t, p, {k, "progress", "unblocked"} if k in ("progress", "unblocked") else {k}, ANY, set())
             for t, p, k in LATER_BATCHES]


def _held_out_ok(r: Reading, kinds: set[str], percent: object, codes: set[str]) -> bool:
    if r.kind not in kinds:
        return False
    if percent is not ANY and r.percent != percent:
        return False
    return not codes or r.reason_code in codes


def test_held_out_set() -> None:
    hits, confident_wrong = 0, []
    for text, prompt, kinds, percent, codes in HELD_OUT:
        r = understand(text, last_prompt=prompt)
        ok = _held_out_ok(r, kinds, percent, codes)
        hits += ok
        if not ok:
            print(f"  BAD {text!r} [{prompt}] -> {r}")
            if r.confident and r.kind not in kinds:
                confident_wrong.append(text)
    accuracy = hits / len(HELD_OUT)
    print(f"\nHeld-out accuracy (kind + percent + reason code): {hits}/{len(HELD_OUT)} = {accuracy:.2f};"
          f" confident wrong kind: {len(confident_wrong)}")
    assert len(HELD_OUT) >= 40
    assert accuracy >= 0.8, f"held-out accuracy {accuracy:.2f} < 0.80; misses printed above"


# ---------------------------------------------------------------- specific behaviours
@pytest.mark.parametrize(
    "text, kind, percent",
    [
        ("xong chưa?", "question", None),
        ("chưa xong", "progress", None),
        ("xong 80%", "progress", 80),
        ("không vướng gì", "progress", None),
        ("chưa vướng", "progress", None),
        ("hết vướng", "unblocked", None),
        ("không kịp", "blocked", None),
        ("chưa kịp", "blocked", None),
        ("100%", "done", 100),
        ("done", "done", 100),
    ],
)
def test_traps(text: str, kind: str, percent: int | None) -> None:
    r = understand(text)
    assert r.kind == kind, r
    assert r.percent == percent, r


def test_blocked_keeps_the_users_own_words() -> None:
    r = understand("  Vướng   kinh phí, chờ Sở Tài chính.  ")
    assert r.kind == "blocked" and r.reason_code == "budget"
    assert r.reason == "Vướng   kinh phí, chờ Sở Tài chính."


def test_question_keeps_the_text() -> None:
    assert understand("Hạn chót là ngày nào anh?").reason == "Hạn chót là ngày nào anh?"


def test_dates_are_not_progress() -> None:
    for text in ("nhà in hẹn ngày 3/6 giao", "đến 8/10 mới xong", "thứ 6 xong"):
        assert understand(text).percent is None, text
    assert understand("xong 3/6 hạng mục").percent == 50


def test_thousands_are_not_progress() -> None:
    r = understand("thiếu 50k tiền in")
    assert r.percent is None and r.kind == "blocked"


def test_unsure_readings_name_alternatives() -> None:
    for text in ("Gần xong rồi.", "Đang chờ duyệt.", "Phần bên em xong rồi, còn chờ Điện lực đấu điện."):
        r = understand(text)
        assert not r.confident and r.alternatives, (text, r)
        assert r.kind not in r.alternatives


def test_empty_and_noise_are_unclear() -> None:
    for text in ("", "   ", "...", "🙂", "asdkjh"):
        r = understand(text)
        assert r.kind == "unclear" and not r.confident, (text, r)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=120), st.sampled_from([None, "assignment", "reminder", "asked_done", "weird"]))
def test_never_raises(text: str, prompt: str | None) -> None:
    r = understand(text, last_prompt=prompt)
    assert isinstance(r, Reading) and r.kind in KINDS
    assert r.percent is None or 0 <= r.percent <= 100
    assert r.kind not in r.alternatives


_WORDS = st.sampled_from(
    ["xong", "chưa", "không", "ko", "k", "r", "dc", "vướng", "hết", "kịp", "nỏ", "?", "%", "80", "3/4", "0/0",
     "1/0", "99999999999999999999", "phần", "trăm", "9", "chờ", "ký", "ok", "rồi", "đang", "gần", "ngày", "11/6",
     "mưa", "hỏng", "tầm", "có", "cần", "gì", "done", "50k", ",", ".", "ạ", "nhận", "răng", "mô", "ht"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_WORDS, max_size=8).map(" ".join))
def test_never_raises_on_wordy_text(text: str) -> None:
    r = understand(text)
    assert r.kind in KINDS and (r.percent is None or 0 <= r.percent <= 100)
