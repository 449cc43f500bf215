"""Splitting long HTML messages under a platform's limit without cutting a tag in half."""

from __future__ import annotations

import re

_TAG = re.compile(r"<[^>]*>")


def visible_length(html_text: str) -> int:
    """Length as the platform counts it: tags removed, entities as one character."""
    return len(re.sub(r"&(lt|gt|amp|quot|#\d+);", "x", _TAG.sub("", html_text)))


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of `text`, each under `limit`, cut on line boundaries (then spaces, then hard)."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one very long line: cut at a space outside a tag
            cut = _safe_cut(line, limit)
            parts.append((current + "\n" + line[:cut]).strip("\n") if current else line[:cut])
            current, line = "", line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return [p for p in parts if p]


def _safe_cut(line: str, limit: int) -> int:
    cut = line.rfind(" ", 0, limit)
    cut = cut if cut > limit // 2 else limit
    opened = line.rfind("<", 0, cut)
    if opened > line.rfind(">", 0, cut):  # inside a tag: cut before it
        cut = opened
    amp = line.rfind("&", 0, cut)
    if amp != -1 and ";" not in line[amp:cut]:  # inside an entity
        cut = amp
    return max(cut, 1)
