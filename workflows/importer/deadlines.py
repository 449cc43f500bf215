"""A plan's deadline phrase → a template offset (pure).

"Trước ngày 25/3/2027" → T-55d; "Tháng 4/2027" → the month's last day; "Trước 10 ngày tổ chức
Lễ" → T-10d; "Sau Lễ 30 ngày" → T+30d; "Tổng duyệt 15h00 ngày 17/5/2027" → T-2d 15:00;
"6h00 ngày 19/5/2027" (the ceremony day) → T+0 06:00 and a cue; "Từ ngày 01/4 đến ngày
19/5/2027" → its end; "Thường xuyên", "Theo chương trình" → no deadline (reported, never invented).
Day-only deadlines fall at the template's default due time.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time

from workflows.importer.text import fold

__all__ = ["Deadline", "read_deadline", "read_start"]

_MAX_TEXT = 400
_DMY = re.compile(r"(?<![0-9])([0-9]{1,2})\s*[/.\-]\s*([0-9]{1,2})(?:\s*[/.\-]\s*([0-9]{4}))?(?![0-9])")
_LONG = re.compile(r"ngay ([0-9]{1,2}) thang ([0-9]{1,2})(?:,? nam ([0-9]{4}))?")
_DAY_SPAN = re.compile(r"(?<![0-9/.])([0-9]{1,2})\s*(?:-|den|–)\s*(?=[0-9]{1,2}\s*[/.][0-9])")
_MONTH = re.compile(r"thang ([0-9]{1,2})\s*(?:/|nam|-)\s*([0-9]{4})")
_QUARTER = re.compile(r"quy (iv|iii|ii|i|[1-4])\s*(?:/|nam|-)\s*([0-9]{4})")
_CLOCK = re.compile(r"(?<![0-9/])([0-9]{1,2})\s*(?:h|gio|:)\s*([0-9]{2})?(?:\s*(?:phut|p|'))?(?![0-9])")
_RELATIVE = re.compile(r"\b(truoc|sau)\b(.{0,60}?)\b([0-9]{1,3})\s*(ngay|tuan|thang|gio|phut)\b")
_EVENT_WORDS = ("le", "su kien", "to chuc", "dien ra", "khai mac", "ket thuc", "chuong trinh", "hoi nghi", "dai hoi")
_NO_DEADLINE = (
    "thuong xuyen",
    "theo chuong trinh",
    "theo ke hoach",
    "lien tuc",
    "theo yeu cau",
    "khi co yeu cau",
    "hang ngay",
    "hang tuan",
    "trong suot",
    "dinh ky",
    "theo tien do",
    "theo lich",
)
_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_UNIT_DAYS = {"ngay": 1, "tuan": 7, "thang": 30}


@dataclass(frozen=True)
class Deadline:
    """`due` (an offset, None when there is none), `cue`, and `problem` when the row needs a check."""

    due: str | None
    cue: bool = False
    problem: str | None = None


def _offset(day: date, at: time | None, start: datetime) -> str:
    days = (day - start.date()).days
    sign = "-" if days < 0 else "+"
    if at is None:
        return f"T{sign}{abs(days)}d"
    clock = f"{at.hour:02d}:{at.minute:02d}"
    return f"T+0 {clock}" if days == 0 else f"T{sign}{abs(days)}d {clock}"


def _dates(f: str, start: datetime | None) -> list[tuple[int, date | None, str]]:
    """(position, date, problem) for each date in the folded text; the year may come from a later date."""
    found: list[tuple[int, int, int, int | None]] = []  # pos, day, month, year
    for m in _LONG.finditer(f):
        found.append((m.start(), int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None))
    for m in _DMY.finditer(f):
        if any(abs(m.start() - p) < 3 for p, *_ in found):
            continue
        found.append((m.start(), int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None))
    found.sort()
    out: list[tuple[int, date | None, str]] = []
    for k, (pos, d, mth, y) in enumerate(found):
        if y is None:
            y = next((yy for _, _, _, yy in found[k + 1 :] if yy is not None), None)
        problem = ""
        if y is None:
            if start is None:
                out.append((pos, None, "no year and no event start to take it from"))
                continue
            y = start.year
            try:
                if (date(y, mth, d) - start.date()).days > 300:
                    y -= 1
            except ValueError:
                pass
        try:
            out.append((pos, date(y, mth, d), problem))
        except ValueError:
            out.append((pos, None, f"{d}/{mth}/{y} is not a date"))
    return out


def _clocks(f: str) -> list[tuple[int, time]]:
    out = []
    for m in _CLOCK.finditer(f):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if hour <= 23 and minute <= 59:
            out.append((m.start(), time(hour, minute)))
    return out


def read_deadline(text: str, start: datetime | None) -> Deadline:
    """Read one cell; `start` is the event start (local, aware) or None when unknown."""
    raw = " ".join(str(text or "").split())
    f = fold(raw)[:_MAX_TEXT]
    if not f:
        return Deadline(None, problem="no deadline")
    f = _DAY_SPAN.sub(" ", f)  # "01-05/4/2027": a span of days in one month ends on its last day
    dates = _dates(f, start)
    if dates:
        if start is None:
            return Deadline(None, problem=f"cannot place {raw!r} without the event start (give --start)")
        ranged = ("den" in f.split() or " - " in f) and len(dates) > 1
        pos, day, bad = dates[-1]
        if day is None:
            return Deadline(None, problem=f"cannot read {raw!r}: {bad}")
        problem = None
        if len(dates) > 1 and not ranged:
            problem = f"several dates in {raw!r}; took the last"
        clocks = _clocks(f)
        at = None
        if clocks:
            cut = f.rfind("den", 0, pos) if ranged else -1
            tail = [c for c in clocks if c[0] >= max(cut, 0)] if ranged else clocks
            at = (tail or clocks)[-1][1]
            cut = f.find(" den ")
            if day == start.date() and len(clocks) > 1 and 0 <= clocks[0][0] < cut < clocks[1][0]:
                at = clocks[0][1]  # a run-of-show slot "từ 7h00 đến 9h00 ngày T": the cue is when it starts
        if abs((day - start.date()).days) > 730:
            problem = f"{day:%d/%m/%Y} is more than two years from the event start"
        cue = at is not None and day == start.date()
        return Deadline(_offset(day, at, start), cue=cue, problem=problem)
    m = _MONTH.search(f) or _QUARTER.search(f)
    if m is not None:
        if start is None:
            return Deadline(None, problem=f"cannot place {raw!r} without the event start (give --start)")
        year = int(m.group(2))
        month = int(m.group(1)) if m.re is _MONTH else _QUARTERS.get(m.group(1), 0) * 3 or int(m.group(1)) * 3
        if not 1 <= month <= 12 or not 1900 < year < 2200:
            return Deadline(None, problem=f"cannot read the month in {raw!r}")
        day = date(year, month, calendar.monthrange(year, month)[1])
        return Deadline(_offset(day, None, start))
    m = _RELATIVE.search(f)
    if m is not None and any(w in f for w in _EVENT_WORDS) or m is not None and len(f) < 30:
        sign = -1 if m.group(1) == "truoc" else 1
        n, unit = int(m.group(3)), m.group(4)
        if unit in _UNIT_DAYS:
            days = n * _UNIT_DAYS[unit]
            note = f"'{n} tháng' read as {days} days" if unit == "thang" else None
            return Deadline(f"T{'-' if sign < 0 else '+'}{days}d", problem=note)
        minutes = n * (60 if unit == "gio" else 1)
        hours, mins = divmod(minutes, 60)
        text_ = f"{hours}h{mins}m" if hours and mins else (f"{hours}h" if hours else f"{mins}m")
        return Deadline(f"T{'-' if sign < 0 else '+'}{text_}")
    if any(w in f for w in _NO_DEADLINE):
        return Deadline(None, problem=f"no deadline in {raw!r}")
    return Deadline(None, problem=f"cannot read the deadline {raw!r}")


_START_HINT = re.compile(r"\b(thoi gian|vao luc|khai mac|to chuc vao)\b")


def read_start(paragraphs: list[str]) -> tuple[datetime | None, str]:
    """The event start from the document's text ("Thời gian: 07 giờ 00 phút, ngày 19 tháng 5 năm
    2027"): a naive local datetime (or None) and the line it came from."""
    for p in paragraphs:
        f = fold(p)[:_MAX_TEXT]
        if not _START_HINT.search(f):
            continue
        dates = [d for _, d, _ in _dates(f, None) if d is not None]
        if not dates:
            continue
        clocks = _clocks(_LONG.sub(" ", _DMY.sub(" ", f)))
        at = clocks[0][1] if clocks else None
        return datetime.combine(dates[0], at or time(8, 0)), p
    return None, ""
