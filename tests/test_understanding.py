"""bot.understanding: free-text status replies (issue 15).

Figures per set (run with `-s` to see them and every miss): the shared dev sets
(`../shared/data/status_phrases_dev.md`, `status_phrases_dev2.jsonl`), our own tuning set and our
own held-out set (`tests/data/understanding/`, set aside before tuning: see its README). "Right" =
the kind, and the percent within 5 points where the row gives one; "acted" = right and confident.
Thresholds sit just under the measured figures; confident wrong answers on ambiguous rows and
wrong "done"s must be zero everywhere.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.understanding import Reading, task_codes, understand
from tests.understanding_sets import all_sets, load_dev_md, measure

KINDS = {"done", "progress", "blocked", "unblocked", "question", "ack", "chatter", "unclear"}
ANY = object()  # "don't care" for a percent
SETS = all_sets()
# Measured (clear right / clear): dev 18/18, dev2 51/51, tuning 94/94, heldout 51/51 (blind first: 50/51, see
# tests/data/understanding/README.md), heldout2 66/68 (measured once, never tuned on). Each threshold lets
# at most one more miss through.
THRESHOLDS = {"dev": 0.94, "dev2": 0.98, "tuning": 0.98, "heldout": 0.98, "heldout2": 0.95}


@pytest.mark.parametrize("name", list(THRESHOLDS))
def test_figures_per_set(name: str) -> None:
    if name not in SETS:
        pytest.skip(f"set {name} not found (the dev sets live in ../shared/data beside the repo)")
    f = measure(SETS[name])
    for miss in f.misses:
        print("   ", miss)
    print(
        f"\n{name}: clear right {f.clear_right}/{f.clear} = {f.accuracy:.3f} (acted {f.clear_acted});"
        f" ambiguous {f.ambiguous}, confident wrong {f.confident_wrong_ambiguous}; wrong done {f.wrong_done};"
        f" reason codes {f.reason_codes_right}/{f.reason_codes}"
    )
    assert f.wrong_done == 0, "a wrong 'done' is the worst outcome"
    assert f.confident_wrong_ambiguous == 0
    assert f.accuracy >= THRESHOLDS[name], f"{name}: {f.accuracy:.3f} < {THRESHOLDS[name]}"


def test_dev_section_e_with_context() -> None:
    """The context-dependent acknowledgements resolve once the bot's last message is known."""
    if "dev" not in SETS:
        pytest.skip("dev set not found")
    texts = {row.text for row in load_dev_md() if row.id in ("#65", "#67", "#69")}
    assert {"ok", "rồi"} <= texts
    assert understand("ok", last_prompt="assignment").kind == "ack"
    for text in ("r", "rồi"):
        assert understand(text, last_prompt="asked_done").kind == "done"
        assert understand(text, last_prompt="asked_done").confident
        assert understand(text, last_prompt="assignment").kind == "ack"
        assert not understand(text).confident
    vang = [t for t in texts if t.lower().startswith("vâng")]
    assert vang and all(understand(t, last_prompt="assignment").kind == "ack" for t in vang)
    assert understand("Dạ", last_prompt="checkin") == Reading("done", percent=100)  # "Sẵn sàng?" + "Dạ" = yes


# ---------------------------------------------------------------- earlier phrasings (a regression set)
# Written for the first version of the reader and tuned on with it (so not a held-out measure any more;
# the held-out measure of issue 15 is tests/data/understanding/heldout.jsonl). (text, prompt, kinds, percent, codes)
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
HELD_OUT += [
    (t, p, {k, "progress", "unblocked"} if k in ("progress", "unblocked") else {k}, ANY, set())
    for t, p, k in LATER_BATCHES
]


def _held_out_ok(r: Reading, kinds: set[str], percent: object, codes: set[str]) -> bool:
    if r.kind not in kinds:
        return False
    if percent is not ANY and r.percent != percent:
        return False
    return not codes or r.reason_code in codes


def test_earlier_phrasings() -> None:
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
    print(
        f"\nEarlier phrasings (kind + percent + reason code): {hits}/{len(HELD_OUT)} = {accuracy:.2f};"
        f" confident wrong kind: {len(confident_wrong)}"
    )
    assert len(HELD_OUT) >= 40
    assert accuracy >= 0.99, f"earlier phrasings accuracy {accuracy:.3f} < 0.99 (measured 167/167); misses above"
    assert not confident_wrong, confident_wrong


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
    [
        "xong",
        "chưa",
        "không",
        "ko",
        "k",
        "r",
        "dc",
        "vướng",
        "hết",
        "kịp",
        "nỏ",
        "?",
        "%",
        "80",
        "3/4",
        "0/0",
        "1/0",
        "99999999999999999999",
        "phần",
        "trăm",
        "9",
        "chờ",
        "ký",
        "ok",
        "rồi",
        "đang",
        "gần",
        "ngày",
        "11/6",
        "mưa",
        "hỏng",
        "tầm",
        "có",
        "cần",
        "gì",
        "done",
        "50k",
        ",",
        ".",
        "ạ",
        "nhận",
        "răng",
        "mô",
        "ht",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_WORDS, max_size=8).map(" ".join))
def test_never_raises_on_wordy_text(text: str) -> None:
    r = understand(text)
    assert r.kind in KINDS and (r.percent is None or 0 <= r.percent <= 100)


# ---------------------------------------------------------------- issue 15, kind by kind
@pytest.mark.parametrize(
    "text, kind, percent",
    [
        # time and modality: a future or hoped-for completion is progress; a plan with an ack is an ack
        ("chắc thứ 6 mới xong", "progress", None),
        ("sẽ hoàn thành trong tuần", "progress", None),
        ("nhận rồi ạ, mai em triển khai", "ack", None),
        # quantities: what is left, fractions in words, halves, counts, numbers in words
        ("còn 20% nữa", "progress", 80),
        ("được 2 trên 5 phần", "progress", 40),
        ("xong 2 trong 5 hạng mục", "progress", 40),
        ("được một nửa", "progress", 50),
        ("đã in 150/600 giấy mời", "progress", 25),
        ("tám mươi phần trăm", "progress", 80),
        ("một phần ba", "progress", 33),
        # negation scope
        ("hết vướng rồi, đã xong", "done", 100),
        ("chưa có gì vướng, mới được 20%", "progress", 20),
        # stopped work is blocked, unusual reasons and people too
        ("tạm ngưng vì chờ ý kiến", "blocked", None),
        ("đang treo", "blocked", None),
        ("đứng im mấy hôm nay", "blocked", None),
        ("chưa gặp được chủ nhà hàng", "blocked", None),
        ("thiếu ghế", "blocked", None),
        ("anh phụ trách bị ốm", "blocked", None),
        ("chị kế toán đi công tác", "blocked", None),
        ("thủ quỹ nghỉ phép", "blocked", None),
        # acceptance words mean done; voice-typing homophones
        ("đã nghiệm thu", "done", 100),
        ("bàn giao xong", "done", 100),
        ("song rồi anh", "done", 100),
        ("trưa xong anh ơi", "progress", None),
        # chatter is no status
        ("em đang ở ngoài, lát nói sau", "chatter", None),
    ],
)
def test_issue_examples(text: str, kind: str, percent: int | None) -> None:
    r = understand(text)
    assert (r.kind, r.percent) == (kind, percent), r
    assert r.confident or kind == "blocked" and r.alternatives, r


@pytest.mark.parametrize(
    "text",
    [
        "xong được thì tốt quá",
        "xong chưa nhỉ?",
        "không phải là chưa xong",
        "chắc là xong rồi",
        "hình như xong rồi",
        "làm như xong rồi ấy",
    ],
)
def test_irony_conditions_questions_and_hedges_are_never_a_confident_done(text: str) -> None:
    r = understand(text)
    assert not (r.kind == "done" and r.confident), r


@pytest.mark.parametrize(
    "text",
    [
        "họp xong em báo anh",
        "xong việc này em làm việc kia",
        "xong đâu mà xong",
        "làm gì đã xong",
        "ai bảo xong rồi",
        "xong rồi thì báo em nhé",
        "lẽ ra phải xong rồi",
        "xong sớm là tốt",
        "còn lâu mới xong",
        "Da bao cao a: da phat hanh giay moi toi 300 dai bieu, con 50 dai bieu chua gui",
        "việc này treo mấy hôm rồi chưa ai làm",
        "xong chưa thì chưa biết",
        "khi nào xong em báo",
        "ăn cơm xong rồi anh",
        "họp xong rồi, lát em báo",
        "đã in được 200",
        "ch xong",
    ],
)
def test_a_completion_word_about_something_else_or_denied_is_not_a_confident_done(text: str) -> None:
    r = understand(text)
    assert not (r.kind == "done" and r.confident), r


def test_codes_in_the_text_and_corrections() -> None:
    r = understand("NC-07 bên em xong rồi")
    assert (r.kind, r.codes) == ("done", ("NC-07",))
    assert task_codes("nc-7 và CB12 xong")[0] == ("NC-07", "CB-12")
    assert understand("Hạn chót là 15/6 phải không").codes == ()
    r = understand("em báo nhầm, việc này mới được 30%")
    assert (r.kind, r.percent, r.correction) == ("progress", 30, True)
    assert understand("em báo nhầm việc khác, anh bỏ qua tin trước").kind == "chatter"


def test_a_long_report_is_decided_by_its_closing_assessment_and_its_obstacles() -> None:
    done = understand(
        "Kính báo cáo: đơn vị đã họp triển khai, liên hệ nhà in, in thử 50 bản và duyệt maket. "
        "Nhìn chung nhiệm vụ đã hoàn thành."
    )
    assert (done.kind, done.confident) == ("done", True)
    progress = understand(
        "Kính báo cáo: đã lắp âm thanh, chạy thử 2 lần, còn một số loa cần thay. Tóm lại tiến độ đạt khoảng 70%."
    )
    assert (progress.kind, progress.percent) == ("progress", 70)
    blocked = understand(
        "Dạ em báo cáo: đã duyệt maket. Tuy nhiên nhà in báo giấy chưa về. Hiện tại công việc đang tạm dừng chờ giấy."
    )
    assert blocked.kind == "blocked" and blocked.confident


# ---------------------------------------------------------------- property: no confident done after a marker
_DONE_CLAUSES = [
    "xong rồi",
    "đã xong ạ",
    "Đã hoàn thành",
    "hoàn tất rồi nhé",
    "xong hết rồi anh",
    "đã nghiệm thu",
    "bàn giao xong",
    "xong 100%",
    "done",
    "đã in đủ 600/600 giấy mời",
    "em đã gửi công văn cho VP rồi ạ",
    "Hoàn thành 100%",
    "xong xuôi cả rồi",
    "da hoan thanh",
    "xong r",
    "đã treo xong băng rôn",
    "finished",
    "đã bố trí đủ xe đưa đón",
    "xong toàn bộ",
    "hoàn thành nhiệm vụ",
    "đã phát hành đủ 520 giấy mời",
    "mần xong rồi",
    "xong rồi nghen",
    "đã chốt xong danh sách đại biểu",
]
_MARKERS = [
    *(
        lambda p, m=m: f"{m} {p}"
        for m in (
            "sẽ",
            "mai",
            "ngày mai",
            "chắc thứ 6 mới",
            "dự kiến tuần sau",
            "tuần sau",
            "chiều mai",
            "hy vọng",
            "mong là",
            "cố gắng",
            "sáng mai là",
            "nếu có kinh phí thì",
            "nếu kịp thì",
            "giá mà",
        )
    ),
    *(
        lambda p, m=m: f"{p}{m}"
        for m in (
            " chưa?",
            " chưa nhỉ",
            " chưa ạ?",
            "?",
            " à anh?",
            " không anh?",
            " thì tốt quá",
            " được thì hay",
            " hả",
        )
    ),
    lambda p: f"nếu {p} thì tốt",
]


def _fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(_DONE_CLAUSES),
    st.sampled_from(_MARKERS),
    st.booleans(),
    st.sampled_from([None, "reminder", "task", "checkin"]),
)
def test_a_modality_marker_never_leaves_a_confident_done(clause: str, marker, fold: bool, prompt) -> None:
    assert understand(clause, last_prompt=prompt).kind == "done"  # the clause alone is a done…
    text = marker(clause)
    text = _fold(text) if fold else text
    r = understand(text, last_prompt=prompt)
    assert not (r.kind == "done" and r.confident), (text, r)  # …and never a confident one with the marker
