"""Telegram's text rules: HTML parse mode, lengths, entities, bot commands.

The HTML parser follows TDLib's ``parse_html`` (the code behind the Bot API server): only the
tags Telegram documents are accepted, tags must nest properly, attribute values may be
quoted or not, and entity offsets are counted in UTF-16 code units.  It is stricter than
TDLib in one documented point: a bare ``&`` that does not start ``&lt;``/``&gt;``/
``&amp;``/``&quot;``/``&#NNN;``/``&#xHH;`` is rejected (TDLib keeps it as a literal), since
Telegram's documentation requires it to be escaped.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ._tg_spec import ApiError, bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024

_SPECIAL_RE = re.compile(r"[<&]")
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
_COMMAND_RE = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}(?!\w)")
_URL_RE = re.compile(r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)\]'»]")
_DETECTORS = ((_COMMAND_RE, "bot_command"), (_MENTION_RE, "mention"), (_URL_RE, "url"))
_OPAQUE = frozenset({"code", "pre", "text_link", "url", "custom_emoji", "text_mention", "date_time"})

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_ALLOWED_TAGS = set(_SIMPLE_TAGS) | {"a", "blockquote", "tg-emoji", "tg-time"}


def utf16_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _char_units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


class EntityError(Exception):
    """A parse error; becomes ``400 Bad Request: can't parse entities: ...``."""


class _Open:
    __slots__ = ("name", "attrs", "offset", "language")

    def __init__(self, name: str, attrs: dict[str, str], offset: int) -> None:
        self.name = name
        self.attrs = attrs
        self.offset = offset
        self.language: str | None = None


def _decode_entities(raw: str) -> str:
    return _ENTITY_RE.sub(lambda m: _entity_char(m, 0, raw), raw)


def _entity_char(m: re.Match[str], pos: int, src: str) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise EntityError(f"Invalid character reference at byte offset {_byte_offset(src, pos)}")
    return chr(code)


def _byte_offset(src: str, pos: int) -> int:
    return len(src[:pos].encode("utf-8"))


def parse_html(src: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Returns (plain text, entities); raises EntityError like Telegram."""
    if "<" not in src and "&" not in src:
        return src, []
    out: list[str] = []
    u16 = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(src)
    while i < n:
        m = _SPECIAL_RE.search(src, i)
        j = m.start() if m else n
        if j > i:  # plain run up to the next "<" or "&"
            chunk = src[i:j]
            out.append(chunk)
            u16 += utf16_len(chunk)
            i = j
            if m is None:
                break
        if src[i] == "&":
            m = _ENTITY_RE.match(src, i)
            if m:
                decoded = _entity_char(m, i, src)
                out.append(decoded)
                u16 += _char_units(decoded)
                i = m.end()
                continue
            if strict_ampersand:
                raise EntityError(f'Character "&" at byte offset {_byte_offset(src, i)} must be escaped as "&amp;"')
            out.append("&")
            u16 += 1
            i += 1
            continue
        begin = i
        if i + 1 < n and src[i + 1] == "/":
            j = src.find(">", i + 2)
            if j < 0:
                raise EntityError(f"Unclosed end tag at byte offset {_byte_offset(src, begin)}")
            name = src[i + 2 : j].strip().lower()
            if not stack:
                raise EntityError(f"Unexpected end tag at byte offset {_byte_offset(src, begin)}")
            top = stack.pop()
            if name != top.name:
                raise EntityError(
                    f"Unmatched end tag at byte offset {_byte_offset(src, begin)}, "
                    f'expected "</{top.name}>", found "</{name}>"'
                )
            _close(top, stack, u16, out, entities)
            i = j + 1
            continue
        j = i + 1
        while j < n and not src[j].isspace() and src[j] != ">":
            j += 1
        if j >= n:
            raise EntityError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
        name = src[i + 1 : j].lower()
        if name not in _ALLOWED_TAGS:
            raise EntityError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, begin)}')
        attrs, j = _parse_attributes(src, j, name, begin)
        _check_start_tag(name, attrs, src, begin)
        stack.append(_Open(name, attrs, u16))
        i = j
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_attributes(src: str, j: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(src)
    while True:
        while j < n and src[j].isspace():
            j += 1
        if j >= n:
            raise EntityError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
        if src[j] == ">":
            return attrs, j + 1
        m = _ATTR_NAME_RE.match(src, j)
        if not m:
            raise EntityError(f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(src, begin)}')
        attr = m.group(0).lower()
        j = m.end()
        while j < n and src[j].isspace():
            j += 1
        if j < n and src[j] != "=":
            attrs[attr] = ""  # valueless attribute, e.g. <blockquote expandable>
            continue
        j += 1
        while j < n and src[j].isspace():
            j += 1
        if j >= n:
            raise EntityError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
        if src[j] in "\"'":
            end = src.find(src[j], j + 1)
            if end < 0:
                raise EntityError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
            raw, j = src[j + 1 : end], end + 1
        else:
            start = j
            while j < n and not src[j].isspace() and src[j] != ">":
                j += 1
            raw = src[start:j]
        attrs[attr] = _decode_entities(raw)


def _check_start_tag(name: str, attrs: dict[str, str], src: str, begin: int) -> None:
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(src, begin)}')
    if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise EntityError("Custom emoji entity must contain a valid custom emoji identifier")
    if name == "tg-time" and not attrs.get("unix", "").lstrip("-").isdigit():
        raise EntityError("Date time entity must contain a valid unix time")


def _close(top: _Open, stack: list[_Open], u16: int, out: list[str], entities: list[dict]) -> None:
    length = u16 - top.offset
    name = top.name
    if name == "code" and stack and stack[-1].name == "pre" and stack[-1].offset == top.offset:
        cls = top.attrs.get("class", "")
        if cls.startswith("language-"):
            stack[-1].language = cls[len("language-") :]
            return
    if length <= 0:
        return
    entity: dict[str, Any] = {"offset": top.offset, "length": length}
    if name in _SIMPLE_TAGS:
        entity["type"] = _SIMPLE_TAGS[name]
        if name == "pre" and top.language:
            entity["language"] = top.language
    elif name == "a":
        url = top.attrs.get("href", "") or _tail_text(out, length)
        if not _valid_link(url):
            return  # TDLib silently drops links with invalid URLs
        entity.update(type="text_link", url=url)
    elif name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in top.attrs else "blockquote"
    elif name == "tg-emoji":
        entity.update(type="custom_emoji", custom_emoji_id=top.attrs["emoji-id"])
    elif name == "tg-time":
        entity.update(type="date_time", unix_time=int(top.attrs["unix"]))
        if top.attrs.get("format"):
            entity["date_time_format"] = top.attrs["format"]
    entities.append(entity)


def _tail_text(out: list[str], units: int) -> str:
    encoded = "".join(out).encode("utf-16-le")
    return encoded[len(encoded) - 2 * units :].decode("utf-16-le")


def _valid_link(url: str) -> bool:
    try:
        parts = urlsplit(url if "://" in url or url.startswith("tg:") else "http://" + url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https", "tg", "ton"} and bool(parts.netloc or parts.path)


def strip_formatted(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Removes leading/trailing whitespace like TDLib and clips entities to the result."""
    stripped_left = text.lstrip()
    result = stripped_left.rstrip()
    if result == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(stripped_left)])
    limit = utf16_len(result)
    fixed = []
    for e in entities:
        start = max(e["offset"] - shift, 0)
        end = min(e["offset"] + e["length"] - shift, limit)
        if end > start:
            fixed.append({**e, "offset": start, "length": end - start})
    return result, fixed


def detect_entities(text: str) -> list[dict[str, Any]]:
    """bot_command, mention and url entities, which Telegram finds in every message text."""
    found = []
    if "/" not in text and "@" not in text and "www." not in text:
        return found
    for regex, kind in _DETECTORS:
        for m in regex.finditer(text):
            found.append(
                {
                    "offset": utf16_len(text[: m.start()]),
                    "length": utf16_len(m.group(0)),
                    "type": kind,
                }
            )
    found.sort(key=lambda e: e["offset"])
    return found


def _merge_detected(entities: list[dict[str, Any]], detected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds auto-detected entities that do not overlap code, pre or links."""
    opaque = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _OPAQUE]
    extra = [
        d for d in detected if not any(d["offset"] < end and start < d["offset"] + d["length"] for start, end in opaque)
    ]
    if not extra:
        return entities
    return sorted(entities + extra, key=lambda e: (e["offset"], -e["length"]))


def format_text(
    text: str,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None,
    *,
    caption: bool = False,
    strict_ampersand: bool = True,
) -> tuple[str, list[dict[str, Any]]]:
    """Applies parse_mode/entities and Telegram's length rules to a text or caption."""
    from ._tg_markdown import parse_markdown, parse_markdown_v2

    if entities is not None:
        plain, ents = text, [dict(e) for e in entities]
        limit = utf16_len(plain)
        for e in ents:
            if e["offset"] < 0 or e["length"] <= 0 or e["offset"] + e["length"] > limit:
                raise bad_request("can't parse entities: entity is out of text bounds")
    elif parse_mode:
        mode = parse_mode.lower()
        try:
            if mode == "html":
                plain, ents = parse_html(text, strict_ampersand=strict_ampersand)
            elif mode == "markdownv2":
                plain, ents = parse_markdown_v2(text)
            elif mode == "markdown":
                plain, ents = parse_markdown(text)
            else:
                raise bad_request(f'unsupported parse_mode "{parse_mode}"')
        except EntityError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    else:
        plain, ents = text, []
    plain, ents = strip_formatted(plain, ents)
    auto = detect_entities(plain)
    if auto:
        ents = _merge_detected(ents, auto)
    if caption:
        if len(plain) > MAX_CAPTION:
            raise bad_request("message caption is too long")
    else:
        if not plain:
            raise bad_request("message text is empty")
        if len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
    return plain, ents


__all__ = [
    "ApiError",
    "EntityError",
    "MAX_CAPTION",
    "MAX_TEXT",
    "detect_entities",
    "format_text",
    "parse_html",
    "strip_formatted",
    "utf16_len",
]
