"""Message catalogues (vi first, en second) and the one place where user text is escaped.

Catalogue strings are Telegram-flavoured HTML written by us. Every parameter is escaped
before it is put in, unless it is a `Safe` fragment we built from catalogue strings ourselves:
an unescaped `<` in a task title would either inject markup into an official-looking
message or make Telegram refuse the send (a lost reminder).
"""

from __future__ import annotations

import html
import re
import tomllib
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

LANGS = ("vi", "en")
_DIR = Path(__file__).resolve().parent
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Safe(str):
    """Already-escaped HTML (built from catalogue strings and escaped parameters)."""


@cache
def catalogue(lang: str) -> dict[str, str]:
    """`<lang>.toml` plus every `<lang>.<part>.toml` (one part per feature), flattened."""
    flat: dict[str, str] = {}
    for path in [_DIR / f"{lang}.toml", *sorted(_DIR.glob(f"{lang}.*.toml"))]:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        before = len(flat)
        _flatten(data, flat)
        if len(flat) - before != _count(data):
            raise ValueError(f"{path.name} repeats a key of another {lang} catalogue file")
    return flat


def _count(node: dict) -> int:
    return sum(_count(v) if isinstance(v, dict) else 1 for v in node.values())


def _flatten(data: dict, flat: dict[str, str]) -> None:

    def walk(prefix: str, node: dict) -> None:
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                walk(key, v)
            else:
                flat[key] = v

    walk("", data)


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def format_time(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%d/%m/%Y %H:%M")


class Texts:
    """Renders catalogue keys for one language and time zone."""

    def __init__(self, lang: str, tz: ZoneInfo) -> None:
        self.lang = lang if lang in LANGS else "vi"
        self.tz = tz
        self._cat = catalogue(self.lang)

    def value(self, v) -> str:
        if isinstance(v, Safe):
            return v
        if isinstance(v, datetime):
            return format_time(v, self.tz)
        if v is None:
            return ""
        return html.escape(str(v), quote=False)

    def __call__(self, key: str, **params) -> Safe:
        template = self._cat.get(key) or catalogue("vi").get(key) or key
        return Safe(_PLACEHOLDER.sub(lambda m: self.value(params.get(m.group(1), "")), template))

    def duration(self, td: timedelta) -> str:
        """'3 ngày', '1 ngày 12 giờ', '30 phút' (en: '3 days', '1 day 12 hours')."""
        minutes = max(0, int(td.total_seconds()) // 60)
        d, rest = divmod(minutes, 1440)
        h, m = divmod(rest, 60)
        parts = [
            self(f"duration.{unit}{'' if n == 1 else 's'}", n=n)
            for n, unit in ((d, "day"), (h, "hour"), (m, "minute"))
            if n
        ]
        return " ".join(parts) or self("duration.minutes", n=0)

    def has(self, key: str) -> bool:
        return key in self._cat

    def status(self, status: str) -> str:
        return self._cat.get(f"status.{status}", status)

    def title(self, task) -> str:
        """The task's title in this language (templates may carry an English title)."""
        return (task.title_en or task.title) if self.lang == "en" else task.title


def strip_html(text: str) -> str:
    """Plain text for the terminal: drop our tags, unescape entities."""
    return html.unescape(re.sub(r"</?(b|i|u|s|code|pre|a)( [^>]*)?>", "", text))
