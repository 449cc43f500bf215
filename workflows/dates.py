"""Reading and showing dates and times the Vietnamese way (pure; no I/O).

`parse_when` understands what coordinators and contacts type (`11/6/2026 08:00`, `11/06 8h`,
`8h30 11/6`, `2026-06-11T08:00+07:00`, `mai 8h`, `hôm qua 17h`, `2h chiều`, `8 giờ 30`, ...); day first,
month second. `format_local` is the one way dutybot shows a time to a user.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from workflows.errors import DateParseError  # one error tree (workflows.errors)

__all__ = ["DateParseError", "parse_when", "format_local"]

_EXAMPLES = "e.g. 11/6/2026 08:00, 11/06 8h, 2026-06-11 08:00, mai 8h"
_MAX_LEN = 100


def _fold(text: str) -> str:
    """Lower-case, no diacritics (đ→d), single spaces."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(text.lower().split())


# ---- patterns (applied to the folded text) -------------------------------------------------
_ISO_DATE = re.compile(r"(?<![0-9])([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?![0-9])")
_DMY_DATE = re.compile(r"(?<![0-9:])([0-9]{1,2})[/.\-]([0-9]{1,2})(?:[/.\-]([0-9]{4}|[0-9]{2}))?(?![0-9]|[/.\-][0-9])")
_CLOCK = re.compile(
    r"(?<![0-9])([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,6})?)?"
    r"(z|[+-][0-9]{2}(?::?[0-9]{2})?)?(?![0-9])"
)
_HOUR = re.compile(r"(?<![0-9])([0-9]{1,2}) ?(?:h|g|gio)(?: ?([0-9]{1,2}|ruoi)(?: ?(?:p|phut|'))?)?(?![0-9a-z])")
_AMPM = re.compile(r"(?<![0-9])([0-9]{1,2})(?::([0-9]{2}))? ?(am|pm)(?![a-z])")
_PERIOD = re.compile(r"\b(sang|trua|chieu|toi|dem)\b")
_PERIOD_DEFAULT = {"sang": time(8), "trua": time(12), "chieu": time(14), "toi": time(19), "dem": time(22)}
_DAY_WORDS = [  # longest first; value = days from today
    (re.compile(r"\b(?:ngay kia|ngay mot|mot)\b"), 2),
    (re.compile(r"\b(?:ngay mai|mai|tomorrow)\b"), 1),
    (re.compile(r"\b(?:hom nay|bua nay|nay|today)\b"), 0),
    (re.compile(r"\b(?:hom kia)\b"), -2),  # "ngày kia" is the day after tomorrow, "hôm kia" the day before yesterday
    (re.compile(r"\b(?:hom qua|bua qua|yesterday)\b"), -1),  # a past date: the use case says it has passed
]
_FILLERS = {"ngay", "luc", "vao", "hom", "at", "on", "the", "h", "gio"}
_TRASH = re.compile(r"[\s,;.()\-–:!]+")


def _err(text: str, why: str) -> DateParseError:
    return DateParseError(text, f"Cannot read {text!r} as a date/time: {why} ({_EXAMPLES}).")


def _take(pattern: re.Pattern[str], s: str, text: str, what: str) -> tuple[re.Match[str] | None, str]:
    """The single match of `pattern` in `s` and `s` with it blanked out; two matches → error."""
    found = list(pattern.finditer(s))
    if not found:
        return None, s
    if len(found) > 1:
        raise _err(text, f"more than one {what}")
    m = found[0]
    return m, s[: m.start()] + " " + s[m.end() :]


def _year(raw: str | None, text: str) -> int | None:
    if raw is None:
        return None
    year = int(raw) + (2000 if len(raw) == 2 else 0)
    if not 1900 <= year <= 2999:
        raise _err(text, f"year {year} is out of range")
    return year


def _apply_period(hour: int, period: str | None, text: str) -> int:
    if period is None:
        return hour
    if period in ("sang", "am"):
        if hour > 12:
            raise _err(text, f"{hour}h is not in the morning")
        return 0 if (hour == 12 and period == "am") else hour
    if period == "trua":
        return hour + 12 if 1 <= hour <= 3 else hour
    if period in ("chieu", "toi", "pm"):
        if period == "pm" and hour > 12:
            raise _err(text, f"{hour} pm is not a time")
        return hour + 12 if hour < 12 else hour
    # dem (night): 8..11 → evening, 12 → midnight, small hours stay
    if 8 <= hour <= 11:
        return hour + 12
    return 0 if hour == 12 else hour


def parse_when(text: str, *, now: datetime, tz: ZoneInfo, default_time: time = time(17, 0)) -> datetime:
    """An aware datetime in `tz` for what the user typed; `DateParseError` when it can't be read."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_when: `now` must be timezone-aware")
    if not isinstance(text, str) or not text.strip():
        raise _err(str(text), "it is empty")
    if len(text) > _MAX_LEN:
        error = _err(text[:_MAX_LEN] + "…", "it is too long")
        error.text = text
        raise error
    try:
        return _parse(text, now=now.astimezone(tz), tz=tz, default_time=default_time)
    except DateParseError:
        raise
    except (ValueError, OverflowError) as exc:  # e.g. a date outside datetime's range
        raise _err(text, str(exc)) from None


def _parse(text: str, *, now: datetime, tz: ZoneInfo, default_time: time) -> datetime:
    s = _fold(text)
    s = re.sub(r"(?<=[0-9])t(?=[0-9])", " ", s)  # ISO "2026-06-11T08:00"

    # -- the date ------------------------------------------------------------------------
    day: date | None = None
    m, s = _take(_ISO_DATE, s, text, "date")
    if m:
        y, mo, d = _year(m.group(1), text), int(m.group(2)), int(m.group(3))
        assert y is not None  # the ISO pattern requires the year
        day = _valid_date(y, mo, d, text)
    else:
        m, s = _take(_DMY_DATE, s, text, "date")
        if m:
            d, mo, y = int(m.group(1)), int(m.group(2)), _year(m.group(3), text)
            day = _valid_date(y, mo, d, text) if y else _next_occurrence(d, mo, now.date(), text)
    if _ISO_DATE.search(s) or _DMY_DATE.search(s):
        raise _err(text, "more than one date")

    # -- the time ------------------------------------------------------------------------
    hour: int | None = None
    minute = second = 0
    offset = None
    period: str | None = None
    m, s = _take(_CLOCK, s, text, "time")
    if m:
        hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        offset = _offset(m.group(4), text)
    else:
        m, s = _take(_AMPM, s, text, "time")
        if m:
            hour, minute, period = int(m.group(1)), int(m.group(2) or 0), m.group(3)
        else:
            m, s = _take(_HOUR, s, text, "time")
            if m:
                hour = int(m.group(1))
                raw_min = m.group(2)
                minute = 30 if raw_min == "ruoi" else int(raw_min or 0)
    if _CLOCK.search(s) or _HOUR.search(s) or _AMPM.search(s):
        raise _err(text, "more than one time")
    pm, s = _take(_PERIOD, s, text, "part of the day")
    if pm:
        if period is not None:
            raise _err(text, "more than one part of the day")
        period = pm.group(1)

    # -- relative day words --------------------------------------------------------------
    shift: int | None = None
    for pattern, days in _DAY_WORDS:
        dm, s = _take(pattern, s, text, "day word")
        if dm:
            if shift is not None or day is not None:
                raise _err(text, "it names the day twice")
            shift = days

    leftover = [w for w in _TRASH.sub(" ", s).split() if w not in _FILLERS]
    if leftover:
        raise _err(text, f"did not understand {' '.join(leftover)!r}")
    if day is None and shift is None and hour is None and period is None:
        raise _err(text, "no date or time found")

    # -- assemble ------------------------------------------------------------------------
    if hour is not None:
        hour = _apply_period(hour, period, text)
        if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
            raise _err(text, f"{hour:02d}:{minute:02d} is not a valid time")
        clock = time(hour, minute, second)
    elif period is not None:
        clock = _PERIOD_DEFAULT[period]
    else:
        clock = default_time
    zone = offset or tz
    if day is not None:
        return datetime.combine(day, clock, tzinfo=zone).astimezone(tz)
    if shift is not None:
        return datetime.combine(now.date() + timedelta(days=shift), clock, tzinfo=zone).astimezone(tz)
    result = datetime.combine(now.date(), clock, tzinfo=zone)
    if result < now:  # a bare time already past today → tomorrow
        result = datetime.combine(now.date() + timedelta(days=1), clock, tzinfo=zone)
    return result.astimezone(tz)


def _valid_date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise _err(text, f"{day}/{month}/{year} is not a valid date") from None


def _next_occurrence(day: int, month: int, today: date, text: str) -> date:
    """The first day/month on or after `today` (29/2 → the next leap year)."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise _err(text, f"{day}/{month} is not a valid date")
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise _err(text, f"{day}/{month} is not a valid date")


def _offset(raw: str | None, text: str) -> timezone | None:
    if not raw:
        return None
    if raw == "z":
        return timezone.utc
    sign = -1 if raw[0] == "-" else 1
    digits = raw[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        raise _err(text, f"UTC offset {raw} is not valid")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def format_local(dt: datetime, tz: ZoneInfo) -> str:
    """`"11/06/2026 08:00"`: how dutybot shows a time to a user, in the event's timezone."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("format_local: `dt` must be timezone-aware")
    local = dt.astimezone(tz)
    return f"{local.day:02d}/{local.month:02d}/{local.year:04d} {local.hour:02d}:{local.minute:02d}"
