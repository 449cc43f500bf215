"""How much is done, from canonical text: percents, fractions, halves, counts, and what is *left*.

`percent(s)` returns (percent, exact). "còn 20% nữa" is what is left, so 80 is done; "đã in 150/600
giấy mời" is a count, 25 %; "được 2 trên 5 phần" and "xong 2 trong 5 hạng mục" are 40 %; dates such
as "hẹn 3/6" are not fractions. Number words were already turned into digits by `normalise`.
"""

from __future__ import annotations

import re

DATE_CONTEXT = frozenset(
    [
        "ngay",
        "den",
        "hen",
        "thu",
        "truoc",
        "sau",
        "luc",
        "tu",
        "han",
        "vao",
        "hom",
        "toi",
        "tuan",
        "chieu",
        "sang",
        "moi",
        "by",
        "on",
    ]
)
_PCT = re.compile(r"(?<![\w./])(\d{1,3}(?:\.\d+)?) ?(?:%|phan tram|percent|pc|pct)(?!\w)")
_WHOLE = re.compile(r"\bmot tram phan tram\b")
_FRACTION = re.compile(r"(?<![\w./])(\d{1,9})(?:/| tren | trong | phan (?!tram))(\d{1,9})(?![\w/])")
_TENTHS = re.compile(r"(?<![\w./])(\d{1,2}) phan(?! tram)(?! \d)")
_HALF = re.compile(r"\b(?:mot half|half)\b")
_OVER_HALF = re.compile(r"\b(?:qua|hon|over|more than) (?:mot )?half\b")
_APPROX = re.compile(
    r"\b(?:tam|khoang|chung|dat|duoc|xap xi|around|about|approx|approximately|roughly|hon|gan|~)"
    r" (\d{1,3})(?: (?:roi|a|anh|chi|nhe|nha|thoi|\.|,|;))*(?: \.)?$|^(\d{1,3})(?: (?:a|roi|\.))*$"
)
# "còn 20% nữa", "còn 2/10 điểm chưa treo", "thiếu 10%": the number is what is left to do.
_LEFT_BEFORE = re.compile(r"\b(?:con|con lai|chi con|con khoang|con tam|con chung|thieu|remaining|left)(?: \w+)?$")
_LEFT_AFTER = re.compile(r"^(?:\w+ ){0,3}(?:chua (?:xong|lam|treo|gui|in|co|duoc)|nua|con lai|left|to go)\b")


def percent(s: str) -> tuple[int | None, bool]:
    """(percent done, exact) from canonical text, or (None, False)."""
    found: list[tuple[int, bool, bool]] = []  # (value, exact, is_left)
    if _WHOLE.search(s):
        found.append((100, True, _is_left(s, *_WHOLE.search(s).span())))
    for m in _PCT.finditer(s):
        if float(m.group(1)) <= 100:
            found.append((round(float(m.group(1))), True, _is_left(s, *m.span())))
    for m in _FRACTION.finditer(s):
        a, b = int(m.group(1)), int(m.group(2))
        before = s[max(0, m.start() - 24) : m.start()].split()
        if "/" in m.group(0) and before and before[-1] in DATE_CONTEXT or not 0 < b <= 100000 or a > b:
            continue
        found.append((round(100 * a / b), True, _is_left(s, *m.span())))
    if not found:
        m = _TENTHS.search(s)
        if m and int(m.group(1)) <= 10:
            found.append((10 * int(m.group(1)), False, _is_left(s, *m.span())))
    if not found and _OVER_HALF.search(s):
        return 60, False
    if not found and _HALF.search(s):
        m = _HALF.search(s)
        found.append((50, True, _is_left(s, *m.span())))
    if found:
        done = [f for f in found if not f[2]]
        value, exact, left = (done or found)[0]
        return (100 - value if left else value), exact
    for clause in re.split(r" [.;!,] ", s):
        m = _APPROX.search(clause.strip())
        if m and int(m.group(1) or m.group(2)) <= 100:
            return int(m.group(1) or m.group(2)), False
    return None, False


def _is_left(s: str, start: int, end: int) -> bool:
    # only the few words around the number matter (and looking further would cost O(n) per number)
    return bool(
        _LEFT_BEFORE.search(s[max(0, start - 40) : start].rstrip()) or _LEFT_AFTER.search(s[end : end + 60].lstrip())
    )
