"""Text helpers the importer shares: folding Vietnamese to plain ASCII keys (pure)."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case, no diacritics (đ→d), single spaces: "Sở VHTTDL" → "so vhttdl"."""
    text = str(text).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(text.lower().split())


def words(text: str) -> list[str]:
    """The folded text's words, punctuation dropped ("TT&TT" → ["tt", "tt"])."""
    return [w for w in _NON_ALNUM.split(fold(text)) if w]


def clean(text: object) -> str:
    """A cell's text with its whitespace tidied (non-breaking spaces, runs of blanks) and lines kept."""
    if text is None:
        return ""
    lines = [" ".join(str(line).replace("\u00a0", " ").split()) for line in str(text).splitlines()]
    return "\n".join(line for line in lines if line)


def ascii_code(text: str, limit: int = 12) -> str:
    """Upper-case ASCII letters and digits of `text` ("Nam Đàn" → "NAMDAN"), cut to `limit`."""
    return "".join(words(text)).upper()[:limit]
