"""Normalisation for `bot.understanding` (Vietnamese chat replies; pure).

`canonical_tokens(text)` turns a reply into lower-case tokens without diacritics, with chat
abbreviations expanded ("ko"→"khong", "dc"→"duoc", "r"→"roi"), Nghệ–Tĩnh dialect mapped to
standard words ("nỏ"→"khong", "mần"→"lam") and a few words whose meaning is lost when the
diacritics are stripped replaced by unambiguous English tokens ("chờ"→"wait", "mưa"→"rain",
"hỏng"→"broken", "tiền"→"money", "dạ/vâng"→"yes"). Without diacritics in the whole reply the
same words are resolved from their neighbours. On top of that, `canonical_tokens` undoes telex
slips ("xongf", "ddax"), voice-typing homophones ("song rồi", "trưa xong"), and writes numbers
spelt in words as digits ("tám mươi phần trăm" → "80 phan tram", "một phần ba" → "1 phan 3").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

PUNCT = frozenset("%?.!;,:\n")
SENTENCE_END = frozenset("?.!;\n")

_PRE = [
    (re.compile(r"[👍👌🆗]"), " ok "),
    (re.compile(r"[✅✔☑]"), " xong "),
    (re.compile(r"[❓❔]"), " ? "),
    (re.compile(r"\b[đd]/c\b"), " dong chi "),
    (re.compile(r"(?<=[0-9])k(?![^\W\d_])"), "000"),  # 50k = 50 000, not "không"
    (re.compile(r"\b(?:cảm ơn|cám ơn|cam on|cam ơn)\b"), " thanks "),
    (re.compile(r"\b(?:one|a) third\b"), " 1/3 "), (re.compile(r"\btwo thirds\b"), " 2/3 "),
    (re.compile(r"\b(?:one|a) quarter\b"), " 1/4 "), (re.compile(r"\bthree quarters\b"), " 3/4 "),
]
_TOKEN = re.compile(r"[0-9]{1,9}(?:[.,][0-9]{1,2}(?![0-9]))?(?: ?/ ?[0-9]{1,9}){0,2}|[^\W\d_]+|[%?.!;,:\n]")

# Written with diacritics: meaning decided by the exact word.
MARKED = {
    "mô": "dau", "răng": "sao", "rứa": "the", "dừ": "bay gio", "mần": "lam", "nỏ": "khong", "chộ": "thay",
    "chờ": "wait", "đợi": "wait", "mưa": "rain", "bão": "storm", "hỏng": "broken", "hư": "broken",
    "tiền": "money", "dạ": "yes", "vâng": "yes", "ừ": "yes", "ừm": "yes", "nó": "it", "nửa": "half",
    "hông": "khong", "hổng": "khong", "khôg": "khong", "đc": "duoc", "đk": "duoc", "đg": "dang",
    "rùi": "roi", "ròi": "roi", "dồi": "roi", "giồi": "roi", "à": "qa", "hả": "qa", "hở": "qa",
    "dừng": "stop", "ngừng": "stop", "ngưng": "stop", "ốm": "sick", "vướn": "vuong", "nghen": "nhe", "nghe": "nhe", "kẹt": "stuck", "tắc": "stuck", "rõ": "clear", "sếp": "lanh dao", "lđ": "lanh dao", "xog": "xong",
}
# Chat abbreviations and typos, as typed (no diacritics).
ABBREV = {
    **dict.fromkeys(["ko", "k", "kh", "hk", "khum", "hok", "hem", "k0", "khg", "kg", "no"], "khong"),
    **dict.fromkeys(["dc", "dk", "dcc", "duoc"], "duoc"),
    **dict.fromkeys(["r", "rui", "roi", "oy", "roai", "ruj", "rr"], "roi"),
    "chx": "chua", "xg": "xong", "dag": "dang", "vg": "vuong", "htanh": "hoan thanh", "dg": "dang", "j": "gi", "z": "vay", "ntn": "the nao", "bh": "bao gio", "bgio": "bao gio",
    "bjo": "bao gio", "e": "em", "vs": "voi", "bit": "biet", "bik": "biet", "xog": "xong", "xonq": "xong",
    "hthanh": "hoan thanh", "tui": "em", "nghen": "nhe", "nhen": "nhe", "vuon": "vuong", "xongg": "xong", "sep": "lanh dao", "ld": "lanh dao", "kp": "kinh phi", "ng": "nguoi",
    "ni": "nay", "vang": "yes", "u": "yes", "uh": "yes", "uhm": "yes", "um": "yes", "uk": "yes",
    "yep": "yes", "yeah": "yes", "tks": "thanks", "thx": "thanks", "thank": "thanks", "camon": "thanks",
    **dict.fromkeys(["ok", "oke", "okay", "okie", "oki", "okey", "okela", "oce", "okk", "okla", "okie"], "ok"),
}
EQUIPMENT_NOUNS = {"may", "loa", "micro", "mic", "den", "dien", "thiet", "bi", "led", "xe", "man", "hinh"}
_WAIT_BEFORE = {"dang", "van", "con", "phai", "hien", "wait", "dg"}
_WAIT_AFTER = {"duyet", "ky", "ki", "phe", "xac", "phan", "y", "lanh", "ket", "so", "ben", "ubnd", "nha", "doi",
               "hang", "money", "kinh", "dien", "cong", "ban", "phong", "thu", "quyet", "chu"}
_GIVE_BEFORE = {"gui", "giao", "chuyen", "bao", "noi", "dua", "ban", "lam", "danh", "de", "tra", "cap", "ho", "xin"}


def _fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord("đ"): "d", ord("Đ"): "d"}
    for cp in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        base = "".join(c for c in unicodedata.normalize("NFD", chr(cp)) if not unicodedata.combining(c))
        if base != chr(cp) and len(base) == 1:
            table[cp] = base.lower()
    table.update(dict.fromkeys(range(0x300, 0x370)))  # stray combining marks
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower-case, no diacritics, đ→d (for matching only); one table lookup per character."""
    return text.lower().translate(_FOLD)


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


# Telex slips: a word typed with its tone/shape keys left in ("xongf", "lamf", "ddax", "vuowngs"),
# undone only when the result is one of these words (so real words are never touched).
_TELEX_WORDS = frozenset("xong da lam roi chua dang hoan thanh tat vuong duoc khong kip het nhan xog tien do".split())
_NUM = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "lam": 5, "sau": 6,
        "bay": 7, "tam": 8, "chin": 9, "muoi": 10, "chuc": 10}
_NUM_AFTER = frozenset({"phan", "tren", "trong", "%"})  # "tám mươi phần trăm", "sáu trên mười", "một phần ba"
_NUM_BEFORE = frozenset({"phan", "tren", "trong"})


def _telex(word: str) -> str:
    if word in _TELEX_WORDS or len(word) < 3 or not (word[-1] in "sfrxj" or "w" in word or word[:2] == "dd"
                                                      or "aa" in word or "ee" in word or "oo" in word):
        return word
    w = word[1:] if word.startswith("dd") else word
    w = re.sub(r"([aeo])\1", r"\1", w.replace("w", ""))
    w = w[:-1] if w[-1] in "sfrxj" else w
    return w if w in _TELEX_WORDS else word


def _voice(i: int, out: list[str], flat: list[str]) -> str | None:
    """Homophones of status words typed by voice or by ear (northern s/x, tr/ch, r/d merge)."""
    word = flat[i]
    prev = out[-1] if out else None
    nxt = flat[i + 1] if i + 1 < len(flat) else None
    if word == "song" and (prev in {"da", "chua", "lam", "vua", "moi", "khong"} or nxt in {"roi", "r", "xuoi", "het", "ca", "chua", "dui", "doi"}):
        return "xong"
    if word in ("trua", "ch") and nxt in {"xong", "xg", "song", "hoan", "lam", "kip", "co", "duoc", "dc", "gui", "nhan"}:
        return "chua"
    if word in {"doi", "dui"} and prev in {"xong", "het", "duoc", "nhan", "lam"}:
        return "roi"
    return None


def _numbers(tokens: list[str]) -> list[str]:
    """Runs of number words that stand beside "phần trăm", "phần", "trên", "trong" become digits."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        j, value, run = i, 0, False
        while j < len(tokens) and tokens[j] in _NUM:
            run = True
            j += 1
        if run:
            words = tokens[i:j]
            nxt = tokens[j] if j < len(tokens) else None
            before = out[-1] if out else None
            # "từ trên", "làm trong", "tầm trên" are not numbers: a lone ambiguous word needs "phần" around it
            lone_ok = len(words) > 1 or words[0] not in {"tu", "lam", "tam"} or before == "phan" or (
                words[0] != "lam" and nxt == "phan")
            if (nxt in _NUM_AFTER or before in _NUM_BEFORE) and len(words) <= 3 and words[0] != "lam" and lone_ok:
                value = _number_value(words)
                if value is not None:
                    out.append(str(value))
                    i = j
                    continue
        out.append(tokens[i])
        i += 1
    return out


def _number_value(words: list[str]) -> int | None:
    if words == ["mot", "tram"] or words == ["tram"]:
        return 100
    if len(words) == 1:
        return _NUM[words[0]] if words[0] not in ("muoi", "chuc") else 10
    if words[0] == "muoi":  # mười lăm
        return 10 + _NUM[words[1]] if words[1] not in ("muoi", "chuc") else None
    if words[1] in ("muoi", "chuc") and words[0] not in ("muoi", "chuc"):
        tail = _NUM[words[2]] if len(words) == 3 and words[2] not in ("muoi", "chuc") else 0
        return min(_NUM[words[0]] * 10 + (1 if words[-1] == "mot" and len(words) == 3 else tail), 100)
    return None


_ASCII_AMBIGUOUS = frozenset("cho mua bao hong hu tien rang rua man mo nua ket tac ro da".split())
_VOICE_WORDS = frozenset("song trua doi dui ch".split())
_TRIPLE = re.compile(r"([a-z])\1{2,}")


@lru_cache(maxsize=8192)
def _flat(token: str) -> str:
    word = fold(token)
    return _TRIPLE.sub(r"\1", word) if len(word) > 2 else word  # "xonggg" → "xong"


def canonical_tokens(text: str) -> list[str]:
    """Tokens for matching: folded, abbreviations expanded; punctuation kept as its own tokens."""
    text = unicodedata.normalize("NFC", text).lower()
    for pattern, repl in _PRE:
        text = pattern.sub(repl, text)
    raw = _TOKEN.findall(text)
    flat = [_flat(t) for t in raw]
    marked_text = any(r != f for r, f in zip(raw, flat) if not r[0].isdigit())
    out: list[str] = []
    for i, (orig, word) in enumerate(zip(raw, flat)):
        if orig[0].isdigit():
            out.append(re.sub(r" ?/ ?", "/", orig).replace(",", "."))
            continue
        sense = MARKED.get(orig)
        if sense is None and not marked_text and word in _ASCII_AMBIGUOUS:
            sense = _ascii_sense(i, flat, out)
        if sense is None and word in _VOICE_WORDS:
            sense = _voice(i, out, flat)
        if sense is None and orig == word:
            sense = ABBREV.get(word) or ABBREV.get(_telex(word)) or _telex(word)
        out.extend((sense or word).split())
    return _numbers(out)


