"""Normalisation and word lists for `bot.understanding` (Vietnamese chat replies; pure).

`canonical_tokens(text)` turns a reply into lower-case tokens without diacritics, with chat
abbreviations expanded ("ko"→"khong", "dc"→"duoc", "r"→"roi"), Nghệ–Tĩnh dialect mapped to
standard words ("nỏ"→"khong", "mần"→"lam") and a few words whose meaning is lost when the
diacritics are stripped replaced by unambiguous English tokens ("chờ"→"wait", "mưa"→"rain",
"hỏng"→"broken", "tiền"→"money", "dạ/vâng"→"yes"). Without diacritics in the whole reply the
same words are resolved from their neighbours.
"""

from __future__ import annotations

import re
import unicodedata

PUNCT = frozenset("%?.!;,:\n")
SENTENCE_END = frozenset("?.!;\n")

_PRE = [
    (re.compile(r"[👍👌🆗]"), " ok "),
    (re.compile(r"[✅✔☑]"), " xong "),
    (re.compile(r"[❓❔]"), " ? "),
    (re.compile(r"\b[đd]/c\b"), " dong chi "),
    (re.compile(r"(?<=[0-9])k(?![^\W\d_])"), "000"),  # 50k = 50 000, not "không"
]
_TOKEN = re.compile(r"[0-9]{1,9}(?:[.,][0-9]{1,2}(?![0-9]))?(?: ?/ ?[0-9]{1,9}){0,2}|[^\W\d_]+|[%?.!;,:\n]")

# Written with diacritics: meaning decided by the exact word.
MARKED = {
    "mô": "dau", "răng": "sao", "rứa": "the", "dừ": "bay gio", "mần": "lam", "nỏ": "khong", "chộ": "thay",
    "chờ": "wait", "đợi": "wait", "mưa": "rain", "bão": "storm", "hỏng": "broken", "hư": "broken",
    "tiền": "money", "dạ": "yes", "vâng": "yes", "ừ": "yes", "ừm": "yes", "nó": "it", "nửa": "half",
    "hông": "khong", "hổng": "khong", "khôg": "khong", "đc": "duoc", "đk": "duoc", "đg": "dang",
    "rùi": "roi", "ròi": "roi", "kẹt": "stuck", "tắc": "stuck", "rõ": "clear", "sếp": "lanh dao", "lđ": "lanh dao", "xog": "xong",
}
# Chat abbreviations and typos, as typed (no diacritics).
ABBREV = {
    **dict.fromkeys(["ko", "k", "kh", "hk", "khum", "hok", "hem", "k0", "khg", "kg", "no"], "khong"),
    **dict.fromkeys(["dc", "dk", "dcc", "duoc"], "duoc"),
    **dict.fromkeys(["r", "rui", "roi", "oy", "roai", "ruj", "rr"], "roi"),
    "chx": "chua", "dg": "dang", "j": "gi", "z": "vay", "ntn": "the nao", "bh": "bao gio", "bgio": "bao gio",
    "bjo": "bao gio", "e": "em", "vs": "voi", "bit": "biet", "bik": "biet", "xog": "xong", "xonq": "xong",
    "hthanh": "hoan thanh", "sep": "lanh dao", "ld": "lanh dao", "kp": "kinh phi", "ng": "nguoi",
    "ni": "nay", "vang": "yes", "u": "yes", "uh": "yes", "uhm": "yes", "um": "yes", "uk": "yes",
    "yep": "yes", "yeah": "yes", "tks": "thanks", "thx": "thanks", "thank": "thanks", "camon": "thanks",
    **dict.fromkeys(["ok", "oke", "okay", "okie", "oki", "okey", "okela", "oce", "okk", "okla", "okie"], "ok"),
}
EQUIPMENT_NOUNS = {"may", "loa", "micro", "mic", "den", "dien", "thiet", "bi", "led", "xe", "man", "hinh"}
_WAIT_BEFORE = {"dang", "van", "con", "phai", "hien", "wait", "dg"}
_WAIT_AFTER = {"duyet", "ky", "ki", "phe", "xac", "phan", "y", "lanh", "ket", "so", "ben", "ubnd", "nha", "doi",
               "hang", "money", "kinh", "dien", "cong", "ban", "phong", "thu", "quyet", "chu"}
_GIVE_BEFORE = {"gui", "giao", "chuyen", "bao", "noi", "dua", "ban", "lam", "danh", "de", "tra", "cap", "ho", "xin"}


def fold(text: str) -> str:
    """Lower-case, no diacritics, đ→d (for matching only)."""
    text = text.lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _ascii_sense(i: int, flat: list[str], out: list[str]) -> str | None:
    """The meaning of an ambiguous word in a reply typed without diacritics, from its neighbours."""
    word = flat[i]
    prev = out[-1] if out else None
    nxt = flat[i + 1] if i + 1 < len(flat) else None
    end = nxt is None or nxt in PUNCT
    if word == "cho":
        if prev is None or prev in PUNCT or prev in _WAIT_BEFORE or (nxt in _WAIT_AFTER and prev not in _GIVE_BEFORE):
            return "wait"
    elif word == "mua":
        if prev in {"troi", "con", "do", "vi", "bi", "gap"} or nxt in {"to", "lon", "bao", "nhieu", "suot", "keo", "rao", "phun", "gio"}:
            return "rain"
    elif word == "bao":
        if prev in {"rain", "con", "sieu"} or nxt in {"lu"}:
            return "storm"
    elif word == "hong":
        return "broken" if (prev in EQUIPMENT_NOUNS or prev in {"bi", "da", "lai", "hu"}) else "khong"
    elif word == "hu":
        return "broken" if prev in EQUIPMENT_NOUNS or prev in {"bi", "da"} else None
    elif word == "tien":
        return None if nxt in {"do", "hanh", "the", "loi", "ich", "quyet", "trinh", "hoa", "si"} else "money"
    elif word == "rang":
        return "sao" if (prev is None or end or nxt in {"the", "rua", "vay"}) else None
    elif word == "rua":
        return "the" if (prev is not None and end) else None
    elif word == "man":
        return None if nxt == "hinh" else "lam"
    elif word == "mo":
        return "dau" if end and {"chua", "khong"} & set(out[-6:]) else None
    elif word == "nua":
        return "half" if prev in {"mot", "duoc", "xong", "dat", "lam"} else None
    elif word == "ket":
        return "stuck" if prev not in {"tap", "lien", "tong", "doan", "cam", "gan"} and nxt not in {
            "qua", "thuc", "noi", "luan", "hop", "nap", "ban"} else None
    elif word == "tac":
        return "stuck" if prev in {"bi", "un", "dang"} else None
    elif word == "ro":
        return "clear"
    elif word == "da":
        return "yes" if prev is None and (end or nxt in {"vang", "em", "a", "anh", "chi", "ok", "roi", "yes"}) else None
    return None


def canonical_tokens(text: str) -> list[str]:
    """Tokens for matching: folded, abbreviations expanded; punctuation kept as its own tokens."""
    text = unicodedata.normalize("NFC", text).lower()
    for pattern, repl in _PRE:
        text = pattern.sub(repl, text)
    raw = _TOKEN.findall(text)
    flat = [re.sub(r"([a-z])\1{2,}", r"\1", fold(t)) for t in raw]  # "xonggg" → "xong"
    marked_text = any(r != f for r, f in zip(raw, flat) if not r[0].isdigit())
    out: list[str] = []
    for i, (orig, word) in enumerate(zip(raw, flat)):
        if orig[0].isdigit():
            out.append(re.sub(r" ?/ ?", "/", orig).replace(",", "."))
            continue
        sense = MARKED.get(orig)
        if sense is None and not marked_text:
            sense = _ascii_sense(i, flat, out)
        if sense is None and orig == word:
            sense = ABBREV.get(word)
        out.extend((sense or word).split())
    return out


# ---------------------------------------------------------------- phrase patterns (canonical text)
def rx(pattern: str) -> re.Pattern:
    return re.compile(pattern)


DONE_WORDS = r"(?:xong|hoan thanh|hoan tat|done|finished|complete|completed|ht)"
NOT_DONE = rx(rf"\b(?:chua|khong|not|chang|van chua)(?: \w+)?? {DONE_WORDS}\b|\bnot yet\b")
NEAR_DONE = rx(rf"\b(?:gan|sap|almost|nearly|suyt)(?: \w+)?? {DONE_WORDS}\b")
FUTURE_DONE = rx(rf"\b(?:se|mai|chieu|toi|sang|sau|truoc|thu \d+|tuan sau|nua|moi|will|by) {DONE_WORDS}\b")
PARTIAL_DONE = rx(rf"\b(?:xong|hoan thanh) (?:phan|khau|buoc|mot so|mot phan|hang muc)\b"
                  rf"|\b{DONE_WORDS}\b.*\b(?:con|but|nhung|chi con|con lai|except)\b")
DONE = rx(r"\b(?:xong|hoan thanh|hoan tat|hoan thien|done|finished|complete|completed|san sang|ready|ht|"
          r"xong xuoi|da du|du roi|all set|delivered|sent)\b")
DONE_VERB = rx(r"\bda (?:\w+ )?(?:gui|nop|phat hanh|in|treo|lap|lap dat|dung|bo tri|sap xep|ban giao|giao|ky|"
               r"dat|thue|mua|kiem tra|chay thu|xac nhan|bao cao|cap nhat|xu ly|chuyen|phat|trang tri|"
               r"to chuc|hoan thien|duyet|tong hop|ra soat|lam xong)\b"
               r"|\b(?:gui|nop|treo|lap|giao|ky|duyet|lam|xu ly|phat hanh|bao cao|in) (?:\w+ ){0,3}roi\b")
STRONG_PROGRESS = rx(r"\b(?:dang|in progress|working|ongoing|doing|on it|lam tiep|tiep tuc|bay gio lam)\b")
WEAK_PROGRESS = rx(r"\b(?:trien khai|tien hanh|thuc hien|bat dau|started|chuan bi|progress)\b")
NOT_STARTED = rx(r"\b(?:chua (?:lam|bat dau|trien khai)|not started)\b")

CLEARED = rx(r"\b(?:het|khong con|xong|da giai quyet|giai quyet xong|da xu ly|da thao go) (?:\w+ )?"
             r"(?:vuong|vuong mac|kho khan|ket|van de|blocked)(?: gi)?\b|\bunblocked\b|\bno longer (?:blocked|stuck)\b"
             r"|\b(?:vuong|vuong mac|kho khan|van de)(?: \w+){0,2} (?:da )?(?:duoc )?(?:giai quyet|thao go|xu ly)\b"
             r"|\bresolved\b")
NOBLOCK = rx(r"\b(?:khong|chua|chang|khong co|chua co)(?: \w+)?? (?:vuong|vuong mac|kho khan|van de|issue|issues|"
             r"problem|problems|blocker|blockers|bi vuong)(?: gi)?\b|\bnot (?:blocked|stuck)\b|\bon track\b"
             r"|\b(?:binh thuong|dung tien do|theo ke hoach|van on|on ca|suon se|on dinh|(?:tien do|moi thu|deu) on)\b")
HOLD_ON = rx(r"\b(?:wait|doi) (?:em |minh |toi |anh )?(?:ti|chut|xiu|lat|1 chut|mot chut|moment|a bit|a sec|a minute)\b")

BLOCK_GENERIC = rx(r"\b(?:vuong|vuong mac|kho khan|bi chan|blocked|blocker|stuck|issue|issues|problem|"
                   r"problems|gap van de|truc trac|su co|trouble|can ho tro|xin ho tro|can giup)\b")
INABILITY = rx(r"\b(?:chua|khong|chang) (?:the )?(?:\w+ ){0,3}duoc\b(?! \d)|\b(?:khong the|chua the|can t|cannot|"
               r"unable|couldn t|can not)\b")
WAIT = rx(r"\b(?:wait|waiting|awaiting)\b")
WAIT_SOFT = rx(r"\b(?:dang|van dang|still) (?:\w+ )?(?:wait|waiting)\b")
LATER_ONLY = rx(r"\b(?:hen|den|toi|sau|thu \d+|tuan sau|\d+/\d+|\d+ ngay)(?: \w+){0,3} moi "
                r"(?:co|giao|gui|xong|ve|duoc|in|ky|duyet)\b(?! \d)")
LACKING = rx(r"\b(?:thieu|het sach)\b")

REASON_KEYWORDS: list[tuple[str, re.Pattern]] = [
    ("approver_away", rx(r"\b(?:di vang|vang mat|di cong tac|cong tac|nghi phep|di nuoc ngoai|on leave|out of office|"
                         r"away)\b|\b(?:lanh dao|giam doc|chu tich|thu truong|truong phong|nguoi ky|boss)"
                         r"(?: \w+){0,2} (?:di hop|dang hop|hop|chua ve|vang)\b")),
    ("weather", rx(r"\b(?:rain|storm|thoi tiet|nang nong|nang gat|gio to|gio lon|giong|ngap|lu|weather|typhoon|heat)\b")),
    ("equipment", rx(r"\b(?:broken|mat dien|cup dien|mat nguon|chap dien|su co ky thuat|not working|malfunction|"
                     r"equipment|thiet bi)\b|\b(?:may|loa|micro|mic|den|dien|am thanh|anh sang|man hinh|led|sound|"
                     r"projector|speaker|generator)(?: \w+){0,3} (?:loi|hu|truc trac|su co|chet|khong (?:chay|len|"
                     r"hoat dong))\b")),
    ("budget", rx(r"\b(?:kinh phi|money|du toan|ngan sach|thanh toan|tam ung|chi phi|tai chinh|budget|funds|funding|"
                  r"cost|giai ngan)\b")),
    ("staffing", rx(r"\b(?:thieu|khong du|chua du|can them|xin them|short of|not enough|need more)(?: \w+){0,2} "
                    r"(?:nguoi|nhan luc|luc luong|tnv|tinh nguyen vien|can bo|nhan su|staff|people|volunteers)\b"
                    r"|\b(?:nhan luc|staffing|manpower|short handed|understaffed)\b")),
    ("vendor", rx(r"\b(?:nha in|nha cung cap|doi tac|nha thau|cong ty|ben in|xuong in|don vi cung cap|ncc|supplier|"
                  r"vendor|printer|contractor|nha xe|ben thue)\b")),
    ("approval", rx(r"\b(?:duyet|phe duyet|ky|ki|trinh ky|chu ky|xin y kien|y kien chi dao|approval|approve|approved|"
                    r"sign|signature|sign off)\b")),
    ("missing_input", rx(r"\b(?:chua|khong) (?:\w+ ){0,2}nhan duoc\b|\bchua nhan\b|\bnot received\b|\bhaven t received\b"
                         r"|\b(?:chua|khong) (?:thay|co|gui) (?:\w+ ){0,2}(?:danh sach|ds|so lieu|thong tin|ke hoach|"
                         r"van ban|cong van|file|tai lieu|noi dung|mau|kich ban|quyet dinh|huong dan|y kien)\b"
                         r"|\bthieu (?:thong tin|so lieu|danh sach|tai lieu|noi dung)\b|\bmissing\b|\bno input\b")),
    ("time", rx(r"\b(?:khong|chang) (?:\w+ )?kip\b|\bchua kip\b|\b(?:tre|qua han|tre han|het han|het thoi gian|"
                r"gap qua|late|behind|delay|delayed|deadline|gia han|extension)\b|\bcham\b(?! nhat)"
                r"|\bkhong du thoi gian\b")),
    ("dependency", rx(r"\b(?:wait|waiting|awaiting|phu thuoc|depends|dependency|dien luc|cong an)\b"
                      r"|\bben (?!em\b|minh\b|toi\b|nay\b)\w+")),
]
# Phrases that are blockers on their own, with their strength (2 = sure, 1 = likely).
INHERENT: list[tuple[re.Pattern, int]] = [
    (rx(r"\b(?:khong|chang) (?:\w+ )?kip\b|\b(?:tre han|qua han|xin gia han|behind schedule|late)\b|\bcham\b(?! nhat)"), 2),
    (rx(r"\bchua kip\b|\bdelay|\bdelayed\b"), 1),
    (dict(REASON_KEYWORDS)["missing_input"], 2),
    (rx(r"\b(?:broken|mat dien|cup dien|mat nguon|chap dien|su co ky thuat|not working|malfunction)\b"
        r"|\b(?:may|loa|micro|mic|den|dien|am thanh|anh sang|man hinh|led|sound|projector|speaker|generator)"
        r"(?: \w+){0,3} (?:loi|hu|truc trac|su co|chet|khong (?:chay|len|hoat dong))\b"), 2),
    (rx(r"\b(?:het|thieu|khong|chua|khong co|chua co|khong du|chua du|chua duoc cap|chua giai ngan)(?: \w+){0,2} "
        r"(?:money|kinh phi|ngan sach|budget|funds)\b|\bover budget\b"), 2),
    (rx(r"\b(?:thieu|khong du|chua du|can them|xin them|short of|not enough|need more)(?: \w+){0,2} (?:nguoi|nhan luc|"
        r"luc luong|tnv|tinh nguyen vien|can bo|nhan su|staff|people|volunteers)\b|\b(?:short handed|understaffed)\b"), 2),
    (rx(r"\b(?:chua|khong) (?:duoc )?(?:duyet|phe duyet|ky|ki)\b"), 2),
    (rx(r"\b(?:nha in|nha cung cap|doi tac|nha thau|cong ty|ben in|ncc|supplier|vendor|printer|contractor)(?: \w+){0,4} "
        r"(?:chua|cham|tre|khong|hasn|not)\b"), 2),
    (rx(r"\b(?:nha in|nha cung cap|doi tac|nha thau|cong ty|ben in|ncc|supplier|vendor|printer)(?: \w+){0,4} "
        r"(?:hen|moi)\b"), 1),
    (dict(REASON_KEYWORDS)["approver_away"], 1),
    (rx(r"\b(?:rain|storm|nang nong|nang gat|gio to|gio lon|ngap|lu|typhoon)\b"), 1),
    (rx(r"\b(?:phu thuoc|depends on)\b"), 1),
    (rx(r"\b(?:ben (?!em\b|minh\b|toi\b|nay\b)\w+|dien luc|cong an|ubnd)(?: \w+){0,3} chua\b(?! (?:a|anh|chi)?$)"), 1),
]

QUESTION = rx(r"\b(?:bao gio|khi nao|luc nao|hom nao|ngay nao|thu may|o dau|di dau|cho nao|cho dau|the nao|nhu nao|"
              r"lam sao|tai sao|vi sao|bao nhieu|bao lau|cai gi|la gi|gi vay|gi the|nao|cho (?:em|minh|toi) hoi|"
              r"xin hoi|hoi chut|phai khong|dung khong|duoc khong|hay khong|co phai)\b"
              r"|(?<!khong )\bai\b|^sao\b|\bsao (?:chua|khong|lai|the|vay|ma)\b"
              r"|^(?:what|when|where|who|which|why|how|should|does|shall)\b|^(?:is it|are we|do i|do we|can i|can we)\b")
QUESTION_TAIL = rx(r"\b(?!(?:em|toi|minh|ben|chung|anh|chi|khong|chua|van)\b)\w+ (?:khong|chua)"
                   r"(?: (?:a|anh|chi|em|nhi|nhe|ha|vay|the|ta))*$")
QUESTION_HAY = rx(r"\w+ hay \w+.*\b(?:a|nhi|vay|the|ha)$")

PARTICLES = frozenset("a anh chi em oi nhe nha nhen ah ha ak minh dong chi sep nhi the vay luon ne".split())
ACK_WORDS = frozenset({"ok", "yes", "roi", "da", "thanks", "dong y"})
ACK_EXPLICIT = rx(r"(?<!chua )(?<!khong )\b(?:nhan|tiep nhan|got it|noted|received|roger|understood|will do|"
                  r"clear|nam duoc|da nam|nam roi|hieu roi|da biet|biet roi|copy)\b")
DATE_CONTEXT = frozenset("ngay den hen thu truoc sau luc tu han vao hom toi tuan chieu sang moi by on".split())
