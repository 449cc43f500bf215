"""Reading a plan file into plain text: paragraphs and grids of cell text (pure but for parsing bytes).

.docx through python-docx (a merged cell's text repeats in every grid cell it covers, across and
down), .xlsx through openpyxl (merged ranges are filled with their top-left value, dates become
dd/mm/yyyy [HH:MM]), .csv with `,`, `;` or tab, UTF-8 (with or without BOM) or Windows-1258.
Row numbers are what a person finds in the file: the sheet row, the CSV line, and for Word the
row counted through the document's duty tables (row 1 = the first duty table's heading row).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from workflows.importer.text import clean

__all__ = ["ReadError", "Grid", "Source", "read_source", "MAX_BYTES", "KINDS"]

MAX_BYTES = 20 * 1024 * 1024
MAX_CELL = 2000
MAX_ROWS = 5000
KINDS = (".docx", ".xlsx", ".csv")


class ReadError(ValueError):
    """The file cannot be read as a plan: `str(err)` says why, in English."""


@dataclass
class Grid:
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (row number, cell texts)
    renumber: bool = False  # a Word table: rows are numbered through the duty tables (columns.read_rows)


@dataclass
class Source:
    paragraphs: list[str] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M") if value.time() != time(0) else value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean(value)[:MAX_CELL]


def read_source(data: bytes, filename: str) -> Source:
    """The paragraphs and grids of the file; ReadError when it is empty, too big or not that kind."""
    name = filename.lower()
    kind = next((k for k in KINDS if name.endswith(k)), None)
    if kind is None:
        raise ReadError(f"unsupported file type; expected one of {', '.join(KINDS)}")
    if not data or not data.strip():
        raise ReadError("the file is empty")
    if len(data) > MAX_BYTES:
        raise ReadError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        if kind == ".docx":
            return _docx(data)
        if kind == ".xlsx":
            return _xlsx(data)
        return _csv(data)
    except ReadError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError, IndexError, OSError) as exc:
        what = {".docx": "a Word (.docx)", ".xlsx": "an Excel (.xlsx)", ".csv": "a CSV"}[kind]
        raise ReadError(f"not {what} file ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - a broken file must give an answer, not a traceback
        raise ReadError(f"cannot read the file ({type(exc).__name__})") from None


def _docx(data: bytes) -> Source:
    import docx  # python-docx

    doc = docx.Document(io.BytesIO(data))
    out = Source(paragraphs=[clean(p.text) for p in doc.paragraphs if clean(p.text)])
    for table in doc.tables:
        grid = Grid(renumber=True)
        for number, row in enumerate(table.rows, start=1):
            # python-docx repeats a merged cell once per grid cell it spans, across and down
            cells = [""] * (row.grid_cols_before or 0) + [_cell(c.text) for c in row.cells]
            grid.rows.append((number, cells))
            if len(grid.rows) > MAX_ROWS:
                raise ReadError(f"more than {MAX_ROWS} table rows")
        out.grids.append(grid)
    return out


def _xlsx(data: bytes) -> Source:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    out = Source()
    for ws in wb.worksheets:
        if ws.max_row > MAX_ROWS:
            raise ReadError(f"sheet {ws.title!r} has more than {MAX_ROWS} rows")
        fill: dict[tuple[int, int], str] = {}
        for rng in ws.merged_cells.ranges:
            top = _cell(ws.cell(rng.min_row, rng.min_col).value)
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    fill[(r, c)] = top
        grid = Grid()
        for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [fill.get((r, c), _cell(v)) for c, v in enumerate(row[:64], start=1)]
            if any(cells):
                grid.rows.append((r, cells))
        out.grids.append(grid)
        out.paragraphs += [" ".join(dict.fromkeys(c for c in cells if c)) for _, cells in grid.rows]
    return out


def _csv(data: bytes) -> Source:
    if b"\x00" in data[:4096]:
        raise ReadError("not a CSV file (binary content)")
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1258 decodes nearly anything
        raise ReadError("not a CSV file (unknown text encoding)")
    sample = text[:8192]
    delimiter = max(",;\t", key=sample.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    grid = Grid()
    try:
        for cells in reader:
            if len(grid.rows) > MAX_ROWS:
                raise ReadError(f"more than {MAX_ROWS} rows")
            cells = [_cell(c) for c in cells[:64]]
            if any(cells):
                grid.rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ReadError(f"not a CSV file ({exc})") from None
    return Source(paragraphs=[" ".join(c for c in cells if c) for _, cells in grid.rows], grids=[grid])
