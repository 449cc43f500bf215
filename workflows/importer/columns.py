"""Finding the duty table(s) by their headings and sorting their rows into phases and duties (pure).

Headings (accents and case ignored): "TT/STT"; "Nội dung/Nhiệm vụ/Công việc (công việc)";
"Chủ trì/Cơ quan chủ trì/Đơn vị chủ trì/Cơ quan thực hiện"; "Phối hợp/Cơ quan phối hợp";
"Thời gian/Thời hạn/Thời gian hoàn thành"; "Ghi chú". A two-level heading ("Cơ quan" over
"Chủ trì | Phối hợp") is read too, and a row of column numbers "(1) (2) (3)" is skipped.
A group row (a phase: "I. CÔNG TÁC CHUẨN BỊ", usually merged across) has no agency and no time
of its own; a numbered row is one duty; a "- …" line with nothing else continues the duty above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workflows.importer.tables import Source
from workflows.importer.text import fold

__all__ = ["PlanRow", "GroupRow", "read_rows", "COLUMNS"]

COLUMNS = ("tt", "title", "lead", "support", "due", "note")
_ROMAN = re.compile(r"^(?:phan |giai doan |muc )?(?:[ivxlc]{1,6}|[a-h])[.)]?$")
_NUMBERED = re.compile(r"^[0-9]{1,3}(?:[.][0-9]{1,3})*[.)]?$")
_GROUP_TEXT = re.compile(r"^(?:(?:phan|giai doan|muc)\s+)?(?:[ivxlc]{1,6}|[a-h]|[0-9]{1,2})\s*[.):\-]\s+\S")
_COLNUM = re.compile(r"^\(?[0-9]{1,2}\)?$")
_SUB_ITEM = re.compile(r"^(?:[\-–•+*]|[a-zđ]\))\s*")


@dataclass
class PlanRow:
    row: int
    tt: str = ""
    title: str = ""
    lead: str = ""
    support: str = ""
    due: str = ""
    note: str = ""


@dataclass
class GroupRow:
    row: int
    title: str


def _kind(heading: str) -> str | None:
    f = fold(heading).strip(" .:")
    if not f:
        return None
    if f in ("tt", "stt", "so tt", "so thu tu", "thu tu", "no", "#"):
        return "tt"
    if "ghi chu" in f:
        return "note"
    if "phoi hop" in f:
        return "support"
    if "chu tri" in f or "thuc hien" in f or "chiu trach nhiem" in f or f in ("co quan", "don vi", "trach nhiem"):
        return "lead"
    if "thoi gian" in f or "thoi han" in f or "tien do" in f or f in ("han", "han hoan thanh", "ngay"):
        return "due"
    if "noi dung" in f or "nhiem vu" in f or "cong viec" in f or "hoat dong" in f:
        return "title"
    return None


def _header(cells: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, c in enumerate(cells):
        k = _kind(c)
        if k and k not in found:
            found[k] = i
    return found


def _is_header(found: dict[str, int]) -> bool:
    return "title" in found and ("lead" in found or "due" in found)


def _two_level(cells: list[str], below: list[str]) -> dict[str, int] | None:
    """ "Cơ quan" merged over "Chủ trì | Phối hợp": the lower row names the split columns."""
    top, low = _header(cells), _header(below)
    if not low or not ({"lead", "support"} & set(low)):
        return None
    merged = dict(top)
    for k, i in low.items():
        if k in ("lead", "support", "due", "note") or k not in merged:
            merged[k] = i
    if merged.get("lead") == merged.get("support"):
        merged.pop("lead")
    return merged if _is_header(merged) else None


def read_rows(source: Source) -> tuple[list[PlanRow | GroupRow], list[str]]:
    """Phases and duties in document order, and the headings of the tables used (for messages)."""
    items: list[PlanRow | GroupRow] = []
    used: list[str] = []
    offset = 0  # Word: rows counted through the duty tables only (a letterhead table does not count)
    for grid in source.grids:
        cols: dict[str, int] | None = None
        skip_next = False
        rows = [(n + offset, cells) for n, cells in grid.rows] if grid.renumber else grid.rows
        for k, (number, cells) in enumerate(rows):
            if skip_next:
                skip_next = False
                continue
            here = _header(cells)
            if _is_header(here) or (cols is None and k + 1 < len(rows)):
                two = _two_level(cells, rows[k + 1][1]) if k + 1 < len(rows) else None
                if two is not None:
                    cols, skip_next = two, True
                    used.append(" | ".join(dict.fromkeys(c for c in cells if c)))
                    continue
                if _is_header(here):
                    cols = here
                    used.append(" | ".join(dict.fromkeys(c for c in cells if c)))
                    continue
            if cols is None:
                continue
            item = _classify(number, cells, cols, items)
            if item is not None:
                items.append(item)
        if grid.renumber and cols is not None:
            offset += len(grid.rows)
    return items, used


def _get(cells: list[str], cols: dict[str, int], key: str) -> str:
    i = cols.get(key)
    return cells[i].strip() if i is not None and i < len(cells) else ""


def _classify(
    number: int, cells: list[str], cols: dict[str, int], items: list[PlanRow | GroupRow]
) -> PlanRow | GroupRow | None:
    filled = [c for c in cells if c]
    if not filled:
        return None
    if len(filled) >= 3 and all(_COLNUM.match(c) for c in filled):
        return None  # "(1) (2) (3) …" under the headings
    row = PlanRow(number, **{k: _get(cells, cols, k) for k in COLUMNS})
    distinct = set(filled)
    tt_f = fold(row.tt)
    if len(distinct) == 1 or (not row.lead and not row.support and not row.due):
        text = next(iter(distinct)) if len(distinct) == 1 else (row.title or filled[0])
        if row.tt and row.title and len(distinct) == 2 and not _NUMBERED.match(row.tt):
            text = f"{row.tt}. {row.title}" if _ROMAN.match(tt_f) else text
        f = fold(text)
        if _SUB_ITEM.match(f) and items and isinstance(items[-1], PlanRow) and not _ROMAN.match(tt_f):
            prev = items[-1]
            prev.title = f"{prev.title}\n{text}"
            return None
        if _ROMAN.match(tt_f) or _GROUP_TEXT.match(f) or len(distinct) == 1 or text.isupper():
            return GroupRow(number, _group_title(text))
    return row


def _group_title(text: str) -> str:
    t = re.sub(
        r"^\s*(?:(?:Phần|PHẦN|Giai đoạn|GIAI ĐOẠN|Mục|MỤC)\s+)?"
        r"(?:[IVXLCivxlc]{1,6}|[A-Ha-h]|[0-9]{1,2})\s*[.):\-]\s*",
        "",
        text.strip(),
    )
    return t.strip() or text.strip()
