"""Deadlines relative to an event's start: `T-30d`, `T-2d 14:00`, `T+0 07:30`, `T-2h`, `T+1h30m`.

Day offsets name a local calendar day (start's day plus N) and a clock time on it; hour/minute
offsets are a plain duration from the start instant. Pure; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

__all__ = ["Offset", "OffsetError", "parse_offset", "resolve", "format_offset", "MAX_DAYS"]

MAX_DAYS = 3650
_MAX_MINUTES = MAX_DAYS * 24 * 60
_FORMS = "T-30d, T+7d, T-2d 14:00, T+0 07:30, T+0, T-5 19:30, T-2h, T-90m, T+1h30m"
_MAX_TEXT = 60

# Applied to the stripped, lower-cased text. Digits are ASCII only and bounded in length, so no
# int() call can be slow or fail; minus-like dashes are folded to "-" first.
_DAY = re.compile(
    r"t\s*([+-])\s*([0-9]{1,9})(?:\s*(d))?"
    r"(?:(\s*)([0-9]{1,2})\s*:\s*([0-9]{2}))?",
    re.ASCII,
)
_HOURS_MINUTES = re.compile(
    r"t\s*([+-])\s*(?:([0-9]{1,9})\s*h)?\s*(?:([0-9]{1,9})\s*m)?",
    re.ASCII,
)
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-"})


class OffsetError(ValueError):
    """`text` is not a deadline offset; `str(err)` names the text and the accepted forms."""

    def __init__(self, text: object, why: str = "") -> None:
        shown = repr(text) if len(str(text)) <= _MAX_TEXT else repr(str(text)[:_MAX_TEXT]) + "…"
        detail = f" ({why})" if why else ""
        super().__init__(f"bad offset {shown}{detail}; expected one of: {_FORMS}")
        self.text = text
        self.why = why


@dataclass(frozen=True)
class Offset:
    """A deadline relative to the event start.

    Day form: `days` calendar days from the start's local day, at `at` (None → the template's
    default due time). Hour/minute form: `minutes` from the start instant (`relative` marks it,
    so that `T+0h`, zero minutes, still means "at the start").
    """

    days: int
    at: time | None
    minutes: int = 0
    text: str = ""
    relative: bool = False

    @property
    def is_relative(self) -> bool:
        """True for hour/minute offsets (measured from the start instant)."""
        return self.relative or self.minutes != 0


def parse_offset(text: object) -> Offset:
    """Read an offset like `T-2d 14:00`; raise OffsetError (and nothing else) when it is not one."""
    if not isinstance(text, str):
        raise OffsetError(text, "not a string")
    raw = text
    s = text.translate(_DASHES).strip().lower()
    if not s:
        raise OffsetError(raw, "empty")
    if len(s) > _MAX_TEXT:
        raise OffsetError(raw, "too long")
    m = _DAY.fullmatch(s)
    if m:
        sign, num, d_unit, gap, hh, mm = m.groups()
        if hh is not None and not d_unit and not gap:
            # "T-519:30" is ambiguous: a clock time must be separated from the day count.
            raise OffsetError(raw, "put a space between the day count and the clock time")
        days = int(num) * (-1 if sign == "-" else 1)
        if abs(days) > MAX_DAYS:
            raise OffsetError(raw, f"more than {MAX_DAYS} days from the start")
        at = None
        if hh is not None:
            hour, minute = int(hh), int(mm)
            if hour > 23 or minute > 59:
                raise OffsetError(raw, f"{hh}:{mm} is not a clock time (00:00-23:59)")
            at = time(hour, minute)
        return Offset(days=days, at=at, text=raw.strip())
    m = _HOURS_MINUTES.fullmatch(s)
    if m and (m.group(2) is not None or m.group(3) is not None):
        sign, hours_s, minutes_s = m.groups()
        hours = int(hours_s or 0)
        mins = int(minutes_s or 0)
        if hours_s is not None and minutes_s is not None and mins > 59:
            raise OffsetError(raw, "minutes after hours must be 0-59")
        total = hours * 60 + mins
        if total > _MAX_MINUTES:
            raise OffsetError(raw, f"more than {MAX_DAYS} days from the start")
        return Offset(days=0, at=None, minutes=-total if sign == "-" else total, text=raw.strip(), relative=True)
    raise OffsetError(raw)


def resolve(offset: Offset, start: datetime, default_time: time) -> datetime:
    """The aware datetime `offset` names for an event starting at `start` (aware, event timezone)."""
    if offset.is_relative:
        return start + timedelta(minutes=offset.minutes)
    day = start.date() + timedelta(days=offset.days)
    at = offset.at if offset.at is not None else default_time
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=start.tzinfo)


def format_offset(offset: Offset) -> str:
    """The canonical text of `offset`: `T-30d`, `T-2d 14:00`, `T+0 07:30`, `T+0d`, `T-1h30m`."""
    if offset.is_relative:
        sign = "-" if offset.minutes < 0 else "+"
        hours, mins = divmod(abs(offset.minutes), 60)
        if hours and mins:
            return f"T{sign}{hours}h{mins}m"
        return f"T{sign}{hours}h" if hours else f"T{sign}{mins}m"
    sign = "-" if offset.days < 0 else "+"
    if offset.at is None:
        return f"T{sign}{abs(offset.days)}d"
    clock = f"{offset.at.hour:02d}:{offset.at.minute:02d}"
    if offset.days == 0:
        return f"T+0 {clock}"
    return f"T{sign}{abs(offset.days)}d {clock}"
