"""Workflow templates: the schema (pydantic) and a loader that reports every problem at once.

A template is a TOML file (see the comment block at the top of `templates/ceremony.toml`).
`check_template_text` never raises: it returns the template, or None and a list of Problems,
each with file, line and field. `load_template` raises TemplateError carrying all of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from workflows.offsets import MAX_DAYS, Offset, parse_offset

__all__ = [
    "AgencySpec",
    "PhaseSpec",
    "ReminderOverrides",
    "DutySpec",
    "TemplateSpec",
    "Problem",
    "TemplateError",
    "EVIDENCE_KINDS",
    "parse_duration",
    "parse_quiet_hours",
    "check_template_text",
    "load_template",
    "bundled_templates_dir",
    "list_templates",
    "resolve_template",
]

EVIDENCE_KINDS = ("none", "photo", "document", "link", "confirm")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}", re.ASCII)
_DURATION = re.compile(r"\s*(?:[0-9]{1,7}\s*[dhm]\s*)+", re.ASCII | re.IGNORECASE)
_DURATION_PART = re.compile(r"([0-9]{1,7})\s*([dhm])", re.ASCII | re.IGNORECASE)
_CLOCK = re.compile(r"\s*([0-9]{1,2}):([0-9]{2})\s*", re.ASCII)
_UNITS = {"d": 1440, "h": 60, "m": 1}


def parse_duration(text: str) -> timedelta:
    """`3d`, `24h`, `30m`, `1h30m` → timedelta; ValueError (naming the text) otherwise."""
    if not isinstance(text, str) or not _DURATION.fullmatch(text):
        raise ValueError(f"bad duration {text!r}; expected a number and a unit d/h/m, like '3d', '2h', '30m'")
    minutes = sum(int(n) * _UNITS[u.lower()] for n, u in _DURATION_PART.findall(text))
    if minutes > MAX_DAYS * 1440:
        raise ValueError(f"bad duration {text!r}: longer than {MAX_DAYS} days")
    return timedelta(minutes=minutes)


def _clock(text: object, what: str) -> time:
    if isinstance(text, time):
        return text
    m = _CLOCK.fullmatch(text) if isinstance(text, str) else None
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"bad {what} {text!r}; expected a clock time like '17:00'")
    return time(int(m.group(1)), int(m.group(2)))


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """`"21:30-07:00"` → (start, end); ValueError otherwise (the window may wrap past midnight)."""
    parts = text.split("-") if isinstance(text, str) else []
    if len(parts) != 2:
        raise ValueError(f"bad quiet hours {text!r}; expected 'HH:MM-HH:MM' like '21:30-07:00'")
    return _clock(parts[0], "quiet-hours start"), _clock(parts[1], "quiet-hours end")


def _check_code(value: str) -> str:
    if not _CODE.fullmatch(value):
        raise ValueError(f"bad code {value!r}; use letters, digits, '-', '_' or '.', like 'CB-01' (max 32)")
    return value


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AgencySpec(_Model):
    code: str
    name: str
    name_en: str = ""

    _code = field_validator("code")(_check_code)
    _name = field_validator("name")(_check_text)


class PhaseSpec(_Model):
    code: str
    name: str
    name_en: str = ""

    _code = field_validator("code")(_check_code)
    _name = field_validator("name")(_check_text)


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


_Duration = Annotated[str, AfterValidator(_check_duration)]  # item-level: errors name the index


class ReminderOverrides(_Model):
    before: list[_Duration] | None = None
    overdue_every: str | None = None
    escalate_after: str | None = None
    ack_timeout: str | None = None
    cue_before: list[_Duration] | None = None
    checkin_escalate_after: str | None = None
    quiet_hours: str | None = None
    enabled: bool | None = None

    @field_validator("overdue_every", "escalate_after", "ack_timeout", "checkin_escalate_after")
    @classmethod
    def _duration(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not parse_duration(value) and info.field_name == "overdue_every":
            raise ValueError("overdue_every must be longer than zero")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        if value is not None:
            parse_quiet_hours(value)
        return value


class DutySpec(_Model):
    code: str
    title: str
    title_en: str = ""
    phase: str
    lead: str
    supporting: list[str] = Field(default_factory=list)
    due: str
    depends_on: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=lambda: ["none"])
    cue: bool = False
    reminders: ReminderOverrides | None = None
    note: str = ""
    line: int = 0

    _code = field_validator("code")(_check_code)
    _title = field_validator("title")(_check_text)

    @field_validator("due")
    @classmethod
    def _due(cls, value: str) -> str:
        parse_offset(value)  # OffsetError is a ValueError: pydantic reports its message
        return value

    @field_validator("evidence", mode="before")
    @classmethod
    def _evidence_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [value]
        return value if value != [] else ["none"]

    @field_validator("evidence")
    @classmethod
    def _evidence(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if v not in EVIDENCE_KINDS]
        if bad:
            raise ValueError(f"unknown evidence kind {bad[0]!r}; expected one of {' | '.join(EVIDENCE_KINDS)}")
        if len(set(value)) != len(value):
            raise ValueError("an evidence kind is listed twice")
        if "none" in value and len(value) > 1:
            raise ValueError("'none' cannot be combined with other evidence kinds")
        return value

    @property
    def offset(self) -> Offset:
        """The parsed deadline offset."""
        return parse_offset(self.due)


class _Header(_Model):
    name: str
    name_en: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    default_due_time: time = time(17, 0)
    start_time: time = time(8, 0)
    start: str = ""  # "2027-07-26 20:00": the event's own start (an imported plan names it); optional

    _name = field_validator("name")(_check_text)

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        from datetime import datetime

        if value:
            try:
                datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
            except ValueError:
                raise ValueError(f"bad start {value!r}; expected 'YYYY-MM-DD HH:MM' like '2027-05-19 07:00'") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except Exception:  # ZoneInfoNotFoundError, ValueError, OSError for odd keys
            raise ValueError(f"unknown timezone {value!r}; expected an IANA name like 'Asia/Ho_Chi_Minh'") from None
        return value

    @field_validator("default_due_time", "start_time", mode="before")
    @classmethod
    def _time(cls, value: object, info: ValidationInfo) -> time:
        return _clock(value, info.field_name or "time")


class TemplateSpec(_Header):
    id: str
    agencies: list[AgencySpec]
    phases: list[PhaseSpec]
    duties: list[DutySpec]
    reminders: ReminderOverrides | None = None
    path: str = ""

    def agency(self, code: str) -> AgencySpec | None:
        """The agency with this code, or None."""
        return next((a for a in self.agencies if a.code == code), None)

    def phase(self, code: str) -> PhaseSpec | None:
        """The phase with this code, or None."""
        return next((p for p in self.phases if p.code == code), None)

    def duty(self, code: str) -> DutySpec | None:
        """The duty with this code, or None."""
        return next((d for d in self.duties if d.code == code), None)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class TemplateError(Exception):
    """A template that cannot be used; `.problems` lists every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def check_template_text(
    text: str, filename: str, template_id: str | None = None
) -> tuple[TemplateSpec | None, list[Problem]]:
    """The template in `text` (None when there is any problem) and every problem found."""
    from workflows._template_check import check

    try:
        return check(text, filename, template_id)
    except Exception as exc:  # noqa: BLE001 - the contract is "Problems, never a crash"
        return None, [Problem(str(filename), 0, "internal", f"the checker failed: {exc!r}")]


def load_template(path: str | Path) -> TemplateSpec:
    """Read and check the template file at `path`; TemplateError lists every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise TemplateError([Problem(str(path), 0, "file", f"cannot read the template: {exc}")]) from None
    spec, problems = check_template_text(text, str(path), template_id=path.stem)
    if problems or spec is None:
        raise TemplateError(problems)
    return spec


def bundled_templates_dir() -> Path:
    """The folder of the templates shipped with dutybot."""
    return Path(__file__).resolve().parent / "templates"


def list_templates(extra_dirs: Sequence[Path] = ()) -> dict[str, Path]:
    """Template id (file stem) → file, bundled first; a later folder's file wins on the same id."""
    found: dict[str, Path] = {}
    for folder in (bundled_templates_dir(), *map(Path, extra_dirs)):
        if folder.is_dir():
            for f in sorted(folder.glob("*.toml")):
                if f.is_file():
                    found[f.stem] = f
    return dict(sorted(found.items()))


def resolve_template(ref: str | Path, extra_dirs: Sequence[Path] = ()) -> Path:
    """The file `ref` names: an existing path, or a template id; TemplateError otherwise."""
    ref_text = str(ref)
    candidate = Path(ref_text)
    try:
        if ref_text.strip() and candidate.is_file():
            return candidate
    except (OSError, ValueError):
        pass
    known = list_templates(extra_dirs)
    if ref_text in known:
        return known[ref_text]
    ids = ", ".join(known) or "none"
    raise TemplateError([Problem(ref_text, 0, "template", f"no template file or id {ref_text!r} (known ids: {ids})")])


def resolve_template_id(ref: str, extra_dirs: Sequence[Path] = ()) -> Path | None:
    """The file of template id `ref` from the template folders, or None.

    For chat input: `ref` is only ever compared with the ids found in the folders, never used
    as a path, so nothing a person types can make the server read, or even look for, a file."""
    return list_templates(extra_dirs).get(str(ref))
