"""MarkdownV2 and legacy Markdown parse modes, after TDLib's parsers (compact version).

MarkdownV2: every reserved character ``_*[]()~`>#+-=|{}.!`` that is not part of a marker must
be escaped with ``\\``; entities nest (except code/pre); unclosed entities are errors.
Legacy Markdown: ``*bold*``, ``_italic_``, ``` `code` ```, ```` ```pre``` ````, ``[text](url)``,
no nesting, ``\\`` escapes ``_*`[``.
"""

from __future__ import annotations

from typing import Any

from ._tg_text import EntityError

_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_MARKERS = {"*": ("bold", 1), "~": ("strikethrough", 1)}


def _bo(src: str, pos: int) -> int:
    return len(src[:pos].encode("utf-8"))


class _Out:
    __slots__ = ("chars", "u16", "entities")

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.u16 = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, ch: str) -> None:
        self.chars.append(ch)
        self.u16 += 2 if ord(ch) > 0xFFFF else 1

    def entity(self, kind: str, start: int, trim: int = 0, **extra: Any) -> None:
        if self.u16 - trim > start:
            self.entities.append({"offset": start, "length": self.u16 - trim - start, "type": kind, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.chars), self.entities


def _read_url(src: str, i: int) -> tuple[str, int]:
    """Reads ``(url)`` starting at src[i] == '('; returns (url, index after ')')."""
    url: list[str] = []
    j = i + 1
    while j < len(src):
        c = src[j]
        if c == "\\" and j + 1 < len(src):
            url.append(src[j + 1])
            j += 2
            continue
        if c == ")":
            return "".join(url), j + 1
        url.append(c)
        j += 1
    raise EntityError(f"Can't find end of a URL at byte offset {_bo(src, i)}")


def parse_markdown_v2(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Out()
    stack: list[tuple[str, int, int, dict[str, Any]]] = []  # kind, u16 offset, src pos, extra
    quote: tuple[int, bool] | None = None
    line_start = True
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        top = stack[-1][0] if stack else None
        if line_start and top not in ("code", "pre"):
            line_start = False
            if c == ">" or src.startswith("**>", i):
                if quote is None:
                    quote = (out.u16, src.startswith("**>", i))
                i += 3 if src.startswith("**>", i) else 1
                continue
            if quote is not None:  # the quotation ends before the line break
                out.entity("expandable_blockquote" if quote[1] else "blockquote", quote[0], trim=1)
                quote = None
        if c == "\\" and i + 1 < n and 0 < ord(src[i + 1]) < 127:
            out.add(src[i + 1])
            i += 2
            continue
        if top == "code" or top == "pre":
            if top == "code" and c == "`" or top == "pre" and src.startswith("```", i):
                kind, start, _, extra = stack.pop()
                out.entity(kind, start, **extra)
                i += 1 if kind == "code" else 3
            else:
                out.add(c)
                i += 1
            continue
        if c == "\n":
            out.add(c)
            line_start = True
            i += 1
            continue
        if c not in _RESERVED:
            out.add(c)
            i += 1
            continue
        if quote is not None and src.startswith("||", i) and (i + 2 >= n or src[i + 2] == "\n") and top != "spoiler":
            quote = (quote[0], True)  # "||" at the end of an expandable block quotation
            i += 2
            continue
        if c == "_":
            kind, size = ("underline", 2) if src.startswith("__", i) else ("italic", 1)
        elif c == "|" and src.startswith("||", i):
            kind, size = "spoiler", 2
        elif c == "`":
            kind, size = ("pre", 3) if src.startswith("```", i) else ("code", 1)
        elif c in _MARKERS:
            kind, size = _MARKERS[c]
        elif c == "[" or c == "!" and src.startswith("![", i):
            stack.append(("text_link" if c == "[" else "custom_emoji", out.u16, i, {}))
            i += 1 if c == "[" else 2
            continue
        elif c == "]" and top in ("text_link", "custom_emoji"):
            kind, start, _, _ = stack.pop()
            if i + 1 < n and src[i + 1] == "(":
                url, i = _read_url(src, i + 1)
            else:
                url, i = "".join(out.chars)[-(out.u16 - start) :] if out.u16 > start else "", i + 1
            if kind == "custom_emoji":
                if not url.startswith("tg://emoji?id="):
                    raise EntityError("Custom emoji URL must have scheme tg")
                out.entity(kind, start, custom_emoji_id=url[len("tg://emoji?id=") :])
            elif url:
                out.entity(kind, start, url=url)
            continue
        else:
            raise EntityError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
        if top == kind:
            _, start, _, extra = stack.pop()
            out.entity(kind, start, **extra)
            i += size
            continue
        extra: dict[str, Any] = {}
        i += size
        if kind == "pre":
            end = src.find("\n", i)
            first = src[i:end] if end >= 0 else ""
            if end >= 0 and first and " " not in first and "`" not in first:
                extra["language"] = first
                i = end + 1
        stack.append((kind, out.u16, i - size, extra))
    if stack:
        kind, _, pos, _ = stack[-1]
        raise EntityError(f"Can't find end of {_NAMES[kind]} entity at byte offset {_bo(src, pos)}")
    if quote is not None:
        out.entity("expandable_blockquote" if quote[1] else "blockquote", quote[0])
    return out.result()


def parse_markdown(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Out()
    i, n = 0, len(src)
    simple = {"*": "bold", "_": "italic"}
    while i < n:
        c = src[i]
        if c == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.add(src[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.add(c)
            i += 1
            continue
        begin = i
        if c == "[":
            close = src.find("]", i + 1)
            if close < 0:
                raise EntityError(f"Can't find end of the entity starting at byte offset {_bo(src, begin)}")
            start = out.u16
            for ch in src[i + 1 : close]:
                out.add(ch)
            i = close + 1
            if i < n and src[i] == "(":
                end = src.find(")", i)
                if end < 0:
                    raise EntityError(f"Can't find end of a URL at byte offset {_bo(src, i)}")
                out.entity("text_link", start, url=src[i + 1 : end])
                i = end + 1
            continue
        if c == "`" and src.startswith("```", i):
            end = src.find("```", i + 3)
            if end < 0:
                raise EntityError(f"Can't find end of the entity starting at byte offset {_bo(src, begin)}")
            body = src[i + 3 : end]
            extra: dict[str, Any] = {}
            head, sep, rest = body.partition("\n")
            if sep and head and " " not in head:
                extra["language"], body = head, rest
            start = out.u16
            for ch in body:
                out.add(ch)
            out.entity("pre", start, **extra)
            i = end + 3
            continue
        end = src.find(c, i + 1)
        if end < 0:
            raise EntityError(f"Can't find end of the entity starting at byte offset {_bo(src, begin)}")
        start = out.u16
        for ch in src[i + 1 : end]:
            out.add(ch)
        out.entity(simple.get(c, "code"), start)
        i = end + 1
    return out.result()
