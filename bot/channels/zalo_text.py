"""Zalo's shapes: an update in a webhook body or a poll, its key, a Reply as Zalo's plain text
(files as a summary, buttons as numbered choices), text split under Zalo's 2000 characters,
and Zalo's refusals as ChannelErrors."""

from __future__ import annotations

import re

from bot.channels.base import ChannelError, Reply
from bot.channels.text import split_text
from bot.i18n import Texts, strip_html

MAX_TEXT = 2000
_EXPORT_NAME = re.compile(r"dutybot-event-(\d+)\.")


class ZaloError(ChannelError):
    """A failed Bot API call; `code` is Zalo's error_code (0: no answer at all)."""

    def __init__(self, code: int, description: str, **kw) -> None:
        super().__init__(f"zalo {code}: {description}", **kw)
        self.code, self.description = code, description


def unwrap(body) -> dict | None:
    """The update in a webhook body or getUpdates result: `{ok, result: update}` or bare."""
    if isinstance(body, dict) and "event_name" not in body and isinstance(body.get("result"), dict):
        body = body["result"]
    return body if isinstance(body, dict) and isinstance(body.get("message"), dict) else None


def update_key(update: dict) -> str | None:
    mid = update["message"].get("message_id")
    return str(mid)[:64] if mid not in (None, "") else None


def split_message(text: str) -> list[str]:
    """Parts of at most 2000 characters (UTF-16 units, to be safe with emoji), cut on lines."""
    limit = MAX_TEXT
    while True:
        parts = split_text(text, limit)
        over = max(_units(p) for p in parts) - MAX_TEXT
        if over <= 0:
            return parts
        limit -= over


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def render(reply: Reply, texts: Texts) -> str:
    """Plain text for Zalo: files as a summary, buttons as numbered choices."""
    parts = [strip_html(reply.text).strip()]
    if reply.document is not None:
        name, data = reply.document
        m = _EXPORT_NAME.search(name)
        fmt = name.rsplit(".", 1)[-1] if m else "json"
        command = f"dutybot export {m.group(1) if m else 'EVENT'} --format {fmt}"
        parts.append(strip_html(texts("zalo.document", name=name, size=_size(len(data)), command=command)))
    if reply.photo is not None:
        parts.append(strip_html(texts("zalo.photo", size=_size(len(reply.photo)))))
    flat = [b for row in reply.buttons for b in row]
    if flat:
        choices = ", ".join(f"{i} {strip_html(b.label)}" for i, b in enumerate(flat, 1))
        parts.append(strip_html(texts("zalo.choices", choices=choices)))
    return "\n\n".join(p for p in parts if p)
