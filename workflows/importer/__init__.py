"""Importing a province's plan document (.docx, .xlsx, .csv) as a workflow template (pure: no bot,
no database). `import_plan(data, filename, start=...)` → ImportResult with the TOML text and every
row it could not read fully. See `dutybot workflow import` and the README's "Importing a plan".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from zoneinfo import ZoneInfo

from workflows.importer.agencies import Registry, load_registry
from workflows.importer.build import Issue, build, plan_name, to_toml
from workflows.importer.columns import PlanRow, read_rows
from workflows.importer.deadlines import read_start
from workflows.importer.tables import KINDS, Grid, ReadError, Source, read_source

__all__ = ["ImportResult", "Issue", "import_plan", "import_source", "Grid", "Source", "KINDS", "load_registry"]


@dataclass
class ImportResult:
    """`toml` is None when nothing usable was found (`error` says why)."""

    source: str
    toml: str | None = None
    error: str | None = None
    name: str = ""
    start: datetime | None = None
    start_from: str = ""
    duties: int = 0
    agencies: int = 0
    phases: int = 0
    issues: list[Issue] = field(default_factory=list)

    @property
    def rows_to_check(self) -> int:
        return len({i.row for i in self.issues if i.row is not None})

    def lines(self) -> list[str]:
        """Every issue as `FILE:row N: field: message` (`FILE: field: message` for the whole file)."""
        return [
            f"{self.source}:row {i.row}: {i.field}: {i.message}"
            if i.row is not None
            else f"{self.source}: {i.field}: {i.message}"
            for i in self.issues
        ]


def import_plan(
    data: bytes,
    filename: str,
    *,
    start: datetime | None = None,
    tz: str = "Asia/Ho_Chi_Minh",
    registry: Registry | None = None,
) -> ImportResult:
    """Read the plan in `data` (named `filename`); `start` (aware) overrides the one in the document."""
    try:
        source = read_source(data, filename)
    except ReadError as exc:
        return ImportResult(source=PurePath(filename).name, error=str(exc))
    return import_source(source, filename, start=start, tz=tz, registry=registry)


def import_source(
    source: Source,
    filename: str,
    *,
    start: datetime | None = None,
    tz: str = "Asia/Ho_Chi_Minh",
    registry: Registry | None = None,
) -> ImportResult:
    """The same as `import_plan`, on text already read from the file."""
    shown = PurePath(filename).name
    result = ImportResult(source=shown)
    zone = ZoneInfo(tz)
    items, _headings = read_rows(source)
    if not any(isinstance(i, PlanRow) for i in items):
        result.error = (
            "no duty table found (looked for a table with headings like "
            "TT | Nội dung công việc | Cơ quan chủ trì | Thời gian hoàn thành)"
        )
        return result
    if start is not None:
        result.start, result.start_from = start.astimezone(zone), "--start"
    else:
        found, line = read_start(source.paragraphs)
        if found is not None:
            result.start, result.start_from = found.replace(tzinfo=zone), f"read from {' '.join(line.split())[:80]!r}"
    registry = registry or load_registry()
    built = build(items, registry, result.start)
    if result.start is None and any("without the event start" in i.message for i in built.issues):
        result.error = (
            "the plan gives dates but the document does not say when the event starts "
            "(a line like 'Thời gian: 07 giờ 00 phút, ngày 19 tháng 5 năm 2027'): give --start WHEN"
        )
        return result
    result.name = plan_name(source.paragraphs, PurePath(filename).stem)
    result.issues = built.issues
    result.duties, result.agencies, result.phases = len(built.duties), len(built.agencies), len(built.phases)
    text = to_toml(built, name=result.name, source=shown, start=result.start, start_from=result.start_from, tz=zone)
    from workflows.spec import check_template_text

    spec, problems = check_template_text(text, shown, template_id="import")
    if spec is None:  # a bug of the importer: say so rather than write a template that will not load
        result.error = "the template built from this file does not pass the check: " + "; ".join(map(str, problems[:5]))
        return result
    result.toml = text
    return result
