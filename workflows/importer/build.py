"""Plan rows → a workflow template (TOML text that `workflow check` accepts), with every doubt listed."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from workflows.importer.agencies import Agency, Registry
from workflows.importer.columns import GroupRow, PlanRow
from workflows.importer.deadlines import read_deadline
from workflows.importer.text import fold, words

PLACEHOLDER_LEAD = Agency("BTC", "Ban Tổ chức", "Organising committee")
NO_DEADLINE_DUE = "T+0h"  # a row with no deadline is due at the event start, and says so
_PHASE_STOP = {"cong", "tac", "giai", "doan", "phan", "muc", "cac", "va", "cho", "de", "cua", "nhiem", "vu"}


@dataclass
class Issue:
    """A row not read fully: `message` in English (CLI); `key` and `params` for a translated line (chat)."""

    row: int | None
    field: str
    message: str
    key: str = ""
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass
class Duty:
    row: int
    code: str
    title: str
    phase: str
    lead: str
    supporting: list[str]
    due: str
    cue: bool
    note: str
    checks: list[Issue] = field(default_factory=list)


@dataclass
class Built:
    duties: list[Duty]
    agencies: list[Agency]
    phases: list[tuple[str, str]]
    issues: list[Issue]


def _phase_code(title: str, taken: set[str]) -> str:
    ws = [w for w in words(title) if w not in _PHASE_STOP and not w.isdigit()] or words(title) or ["nv"]
    base = "".join(w[0] for w in ws[:3]).upper()
    base = re.sub(r"[^A-Z]", "", base) or "NV"
    code, n = base, 0
    while code in taken:
        n += 1
        code = base + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(n - 1) % 26] * (1 + (n - 1) // 26)
    taken.add(code)
    return code


def build(items: list[PlanRow | GroupRow], registry: Registry, start: datetime | None) -> Built:
    """Duties, agencies (first use order), phases and issues from the rows of the plan."""
    duties: list[Duty] = []
    agencies: dict[str, Agency] = {}
    phases: list[tuple[str, str]] = []
    taken: set[str] = set()
    issues: list[Issue] = []
    phase = None
    counters: dict[str, int] = {}
    for item in items:
        if isinstance(item, GroupRow):
            title = item.title[:1] + item.title[1:].lower() if item.title.isupper() else item.title
            phase = _phase_code(title, taken)
            phases.append((phase, title))
            continue
        if phase is None:
            phase = _phase_code("Nhiệm vụ", taken)
            phases.append((phase, "Nhiệm vụ"))
        counters[phase] = counters.get(phase, 0) + 1
        duty = _duty(item, registry, start, phase, counters[phase], agencies)
        duties.append(duty)
        issues += duty.checks
    return Built(duties, list(agencies.values()), phases, issues)


def _duty(
    r: PlanRow, registry: Registry, start: datetime | None, phase: str, n: int, agencies: dict[str, Agency]
) -> Duty:
    checks: list[Issue] = []
    notes: list[str] = []
    title = r.title.strip()
    if not words(title):
        title = f"(dòng {r.row}: không có nội dung)"
        checks.append(Issue(r.row, "title", "no task text in this row", "no_title"))
    lead_cell = registry.read_cell(r.lead)
    support_cell = registry.read_cell(r.support)
    for cell, name in ((lead_cell, "lead"), (support_cell, "supporting")):
        for u in cell.unknown:
            code = registry.make(u).code
            checks.append(
                Issue(
                    r.row,
                    name,
                    f"unknown agency {u!r}; gave it the code {code}",
                    "unknown_agency",
                    {"name": u, "code": code},
                )
            )
    leads = lead_cell.agencies
    if not leads:
        lead = PLACEHOLDER_LEAD
        shown = r.lead.strip() or "(empty)"
        checks.append(
            Issue(
                r.row,
                "lead",
                f"no lead agency in {shown!r}; set to {lead.code} ({lead.name})",
                "no_lead",
                {"code": lead.code},
            )
        )
    else:
        lead = leads[0]
        if len(leads) > 1:
            rest = ", ".join(a.code for a in leads[1:])
            checks.append(
                Issue(
                    r.row,
                    "lead",
                    f"several lead agencies; {lead.code} leads, {rest} support",
                    "several_leads",
                    {"lead": lead.code, "rest": rest},
                )
            )
    support = [a for a in leads[1:] + support_cell.agencies if a.code != lead.code]
    support = list({a.code: a for a in support}.values())
    vague = lead_cell.vague + support_cell.vague
    if vague:
        notes.append("Phối hợp: " + "; ".join(vague))
    for a in (lead, *support):
        agencies.setdefault(a.code, a)
    deadline = read_deadline(r.due, start)
    due, cue = deadline.due, deadline.cue
    if due is None:
        due = NO_DEADLINE_DUE
        checks.append(
            Issue(
                r.row,
                "due",
                f"{deadline.problem}; set to the event start ({due})",
                "no_deadline",
                {"text": " ".join(r.due.split())[:80]},
            )
        )
    elif deadline.problem:
        checks.append(
            Issue(r.row, "due", deadline.problem, "due_doubt", {"text": " ".join(r.due.split())[:80], "due": due})
        )
    if r.due.strip():
        notes.append(f"Thời gian theo kế hoạch: {' '.join(r.due.split())}")
    if r.note.strip():
        notes.append(" ".join(r.note.split()))
    return Duty(
        r.row,
        f"{phase}-{n:02d}",
        " ".join(title.split()),
        phase,
        lead.code,
        [a.code for a in support],
        due,
        cue,
        ". ".join(notes),
        checks,
    )


def _s(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, and json.dumps never writes '\\/')."""
    return json.dumps(text, ensure_ascii=False)


def to_toml(
    built: Built,
    *,
    name: str,
    source: str,
    start: datetime | None,
    start_from: str,
    tz: ZoneInfo,
    default_due_time: time = time(17, 0),
) -> str:
    checked = {i.row for i in built.issues if i.row is not None}
    full = len(built.duties) - len({d.row for d in built.duties if d.row in checked})
    lines = (
        [
            f"# dutybot workflow template imported from {source} by `dutybot workflow import`.",
            f"# {len(built.duties)} duties, {len(built.agencies)} agencies, {len(built.phases)} phases;"
            f' {full} rows read fully, {len(built.duties) - full} marked "# check:" below.',
            f"# Event start: {start:%d/%m/%Y %H:%M} ({start_from})."
            if start
            else "# Event start: not in the document; only relative deadlines were found.",
            "# Deadlines are relative to the start (T); the plan's own wording is kept in each note.",
            "",
            "[template]",
            f"name = {_s(name)}",
            f"timezone = {_s(str(tz))}",
            f'default_due_time = "{default_due_time:%H:%M}"',
            f'start_time = "{(start.time() if start else time(8, 0)):%H:%M}"',
        ]
        + ([f'start = "{start:%Y-%m-%d %H:%M}"'] if start else [])
        + [
            "",
        ]
    )
    for a in built.agencies:
        lines += ["[[agencies]]", f"code = {_s(a.code)}", f"name = {_s(a.name)}"]
        lines += [f"name_en = {_s(a.name_en)}"] if a.name_en else []
        lines.append("")
    for code, title in built.phases:
        lines += ["[[phases]]", f"code = {_s(code)}", f"name = {_s(title)}", ""]
    for d in built.duties:
        lines.append(f"# row {d.row}")
        for c in d.checks:
            lines.append(f"# check: {c.field}: {_comment(c.message)}")
        lines += [
            "[[duties]]",
            f"code = {_s(d.code)}",
            f"title = {_s(d.title)}",
            f"phase = {_s(d.phase)}",
            f"lead = {_s(d.lead)}",
        ]
        if d.supporting:
            lines.append("supporting = [" + ", ".join(_s(c) for c in d.supporting) + "]")
        lines.append(f"due = {_s(d.due)}")
        if d.cue:
            lines.append("cue = true")
        if d.note:
            lines.append(f"note = {_s(d.note)}")
        lines.append("")
    return "\n".join(lines)


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def plan_name(paragraphs: list[str], fallback: str) -> str:
    """The event's name from "KẾ HOẠCH / Tổ chức Lễ …" (without "Tổ chức"), else `fallback`."""
    for k, p in enumerate(paragraphs[:60]):
        f = fold(p)
        if not f.startswith("ke hoach"):
            continue
        rest = p.strip()[len("KẾ HOẠCH") :].strip(" :-\n")
        if not words(rest) and k + 1 < len(paragraphs):
            rest = paragraphs[k + 1]
        rest = " ".join(rest.split())
        rest = re.sub(r"^(?:Tổ chức|TỔ CHỨC|tổ chức)\s+(?=[Ll]ễ|LỄ)", "", rest)
        if words(rest):
            return (rest[0].upper() + rest[1:])[:200]
    return fallback
