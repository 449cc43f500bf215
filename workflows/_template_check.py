"""The template checker behind `workflows.spec.check_template_text` (private).

One pass collects every problem: TOML syntax, then each block against its pydantic model
(unknown keys, missing fields, wrong types, bad offsets/durations/evidence/timezone), then the
cross-references (duplicate codes, unknown agency/phase/dependency, cycles, a duty due before
one it depends on). Lines come from `_toml_lines.locate` since tomllib keeps no positions.
"""

from __future__ import annotations

import difflib
import tomllib
import typing
from datetime import date, datetime
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from workflows._toml_lines import Path, line_of, locate, syntax_error_line
from workflows.offsets import Offset, OffsetError, format_offset, parse_offset, resolve
from workflows.spec import AgencySpec, DutySpec, PhaseSpec, Problem, ReminderOverrides, TemplateSpec, _Header

_SECTIONS: dict[str, type[BaseModel]] = {"agencies": AgencySpec, "phases": PhaseSpec, "duties": DutySpec}
_TOP_KEYS = ("template", "reminders", "agencies", "phases", "duties")
_REFERENCE_DAY = date(2030, 6, 11)  # any fixed day works: offsets are compared, not shown

Json = dict[str, Any]  # a TOML table as tomllib reads it
Blocks = list[tuple[int, Json]]  # the tables of one [[section]], with their index


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


class _Checker:
    def __init__(self, text: str, filename: str) -> None:
        self.file = str(filename)
        self.lines = locate(text)
        self.problems: list[Problem] = []

    def add(self, path: Path, field: str, message: str) -> None:
        self.problems.append(Problem(self.file, line_of(self.lines, path) or 1, field, message))

    def validate(self, model: type[BaseModel], data: Json, path: Path, label: str) -> Any:
        """`model` built from `data`, or None after reporting each error at its line."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                field = label + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
                self.add(path + loc, field, self._describe(dict(err), _keys_at(model, loc[:-1])))
            return None

    def _describe(self, err: Json, allowed: list[str]) -> str:
        kind, msg = str(err["type"]), str(err["msg"])
        if kind == "missing":
            return "required key is missing"
        if kind == "extra_forbidden":
            key = str(err["loc"][-1])
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(allowed)}"
            return f"unknown key {key!r}{hint}"
        if kind == "value_error":
            return msg.removeprefix("Value error, ")
        return f"{msg}, got {_short(err.get('input'))}"


def _keys_at(model: type[BaseModel], loc: Path) -> list[str]:
    """The keys an author may write in the (nested) model reached by `loc`."""
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            continue  # a list index
        nested = [
            a
            for a in (field.annotation, *typing.get_args(field.annotation))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not nested:
            break
        model = nested[0]
    return [k for k in model.model_fields if k != "line"]  # `line` is set by the loader


def check(text: str, filename: str, template_id: str | None) -> tuple[TemplateSpec | None, list[Problem]]:
    """See `workflows.spec.check_template_text`."""
    file = str(filename)
    if not isinstance(text, str):
        return None, [Problem(file, 0, "file", "the template text is not a string")]
    text = text.removeprefix("\ufeff")  # a BOM some editors add; tomllib rejects it
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        line = syntax_error_line(msg, text)
        clean = msg.split(" (at ")[0]
        return None, [Problem(file, line, "toml", f"TOML syntax error: {clean}")]
    except (RecursionError, MemoryError, ValueError) as exc:
        return None, [Problem(file, 1, "toml", f"TOML cannot be read: {type(exc).__name__}")]
    c = _Checker(text, file)
    for key in data:
        if key not in _TOP_KEYS:
            close = difflib.get_close_matches(key, _TOP_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected: {', '.join(_TOP_KEYS)}"
            c.add((key,), key, f"unknown top-level key {key!r}{hint}")

    header = None
    raw_header = data.get("template")
    if raw_header is None:
        c.add((), "template", 'missing [template] table (it needs at least name = "...")')
    elif not isinstance(raw_header, dict):
        c.add(("template",), "template", "must be a table: [template]")
    else:
        header = c.validate(_Header, raw_header, ("template",), "template")
    reminders = None
    if "reminders" in data:
        if isinstance(data["reminders"], dict):
            reminders = c.validate(ReminderOverrides, data["reminders"], ("reminders",), "reminders")
        else:
            c.add(("reminders",), "reminders", "must be a table: [reminders]")

    built: dict[str, list[BaseModel]] = {}
    raw: dict[str, Blocks] = {}
    for section, model in _SECTIONS.items():
        built[section], raw[section] = _section(c, data, section, model)
    codes = {s: _codes(c, s, raw[s]) for s in _SECTIONS}
    _references(c, raw["duties"], codes)
    in_cycle = _cycles(c, raw["duties"], codes["duties"])
    _order(c, raw["duties"], codes["duties"], header, in_cycle)

    if c.problems or header is None:
        return None, sorted(c.problems, key=lambda p: p.line)  # stable: same-line order kept
    values = header.model_dump() | {
        "id": template_id if template_id is not None else PurePath(file).stem,
        "path": file,
        "reminders": reminders,
        **built,
    }
    return TemplateSpec.model_validate(values), []


def _section(c: _Checker, data: Json, section: str, model: type[BaseModel]) -> tuple[list[BaseModel], Blocks]:
    """Validate every block of `[[section]]`; (valid models, [(index, raw dict)])."""
    value = data.get(section)
    if value is None:
        c.add((), section, f"no [[{section}]] defined")
        return [], []
    if not isinstance(value, list):
        c.add((section,), section, f"must be an array of tables: [[{section}]]")
        return [], []
    models: list[BaseModel] = []
    blocks: Blocks = []
    for i, block in enumerate(value):
        path = (section, i)
        if not isinstance(block, dict):
            c.add(path, f"{section}[{i + 1}]", f"must be a table, got {_short(block)}")
            continue
        blocks.append((i, block))
        label = _block_label(section, i, block)
        payload = dict(block)
        if "line" in payload:  # set by the loader, not by authors
            c.add(path + ("line",), f"{label}.line", "unknown key 'line'")
            del payload["line"]
        if model is DutySpec:
            payload["line"] = line_of(c.lines, path)
        built = c.validate(model, payload, path, label)
        if built is not None:
            models.append(built)
    return models, blocks


def _block_label(section: str, i: int, block: Json) -> str:
    code = block.get("code")
    return f"{section}[{code}]" if isinstance(code, str) and code.strip() else f"{section}#{i + 1}"


def _codes(c: _Checker, section: str, blocks: Blocks) -> dict[str, int]:
    """code → index of its first block; later duplicates are reported."""
    seen: dict[str, int] = {}
    for i, block in blocks:
        code = block.get("code")
        if not isinstance(code, str):
            continue
        if code in seen:
            first = line_of(c.lines, (section, seen[code], "code"))
            c.add(
                (section, i, "code"),
                f"{section}[{code}].code",
                f"duplicate code {code!r} (first defined on line {first})",
            )
        else:
            seen[code] = i
    return seen


def _str_list(value: object) -> list[tuple[int, str]]:
    if isinstance(value, list):
        return [(j, v) for j, v in enumerate(value) if isinstance(v, str)]
    return []


def _references(c: _Checker, duties: Blocks, codes: dict[str, dict[str, int]]) -> None:
    agencies, phases, duty_codes = codes["agencies"], codes["phases"], codes["duties"]
    for i, block in duties:
        label = _block_label("duties", i, block)
        phase, lead = block.get("phase"), block.get("lead")
        if phases and isinstance(phase, str) and phase not in phases:
            c.add(("duties", i, "phase"), f"{label}.phase", f"unknown phase {phase!r}; known: {', '.join(phases)}")
        if agencies and isinstance(lead, str) and lead not in agencies:
            c.add(("duties", i, "lead"), f"{label}.lead", f"unknown agency {lead!r}")
        seen: set[str] = set()
        for j, code in _str_list(block.get("supporting")):
            path = ("duties", i, "supporting", j)
            if agencies and code not in agencies:
                c.add(path, f"{label}.supporting", f"unknown agency {code!r}")
            elif code == lead:
                c.add(path, f"{label}.supporting", f"{code!r} is already the lead agency")
            elif code in seen:
                c.add(path, f"{label}.supporting", f"{code!r} is listed twice")
            seen.add(code)
        seen = set()
        for j, code in _str_list(block.get("depends_on")):
            path = ("duties", i, "depends_on", j)
            if code not in duty_codes:
                close = difflib.get_close_matches(code, list(duty_codes), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                c.add(path, f"{label}.depends_on", f"unknown duty {code!r}{hint}")
            elif code in seen:
                c.add(path, f"{label}.depends_on", f"{code!r} is listed twice")
            seen.add(code)


def _graph(duties: Blocks, duty_codes: dict[str, int]) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {}
    for i, block in duties:
        code = block.get("code")
        if isinstance(code, str) and duty_codes.get(code) == i:
            graph[code] = [d for _, d in _str_list(block.get("depends_on")) if d in duty_codes]
    return graph


def _cycles(c: _Checker, duties: Blocks, duty_codes: dict[str, int]) -> dict[str, int]:
    """Report one cycle per strongly connected component; code → its cycle's number."""
    graph = _graph(duties, duty_codes)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in graph:  # iterative Tarjan: templates may be long, recursion limits are not
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, k = work.pop()
            if k == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            deps = graph.get(node, [])
            if k < len(deps):
                work.append((node, k + 1))
                nxt = deps[k]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                components.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    caught: dict[str, int] = {}
    for number, comp in enumerate(components):
        if len(comp) == 1 and comp[0] not in graph.get(comp[0], []):
            continue
        caught.update(dict.fromkeys(comp, number))
        first = min(comp, key=lambda code: duty_codes[code])
        path = _cycle_path(graph, first, set(comp))
        i = duty_codes[first]
        # point at the dependency that starts the cycle (the depends_on key when it is on one line)
        j = next((j for j, d in _str_list(dict(duties)[i].get("depends_on")) if d == path[1]), None)
        where = ("duties", i, "depends_on") + (() if j is None else (j,))
        c.add(where, f"duties[{first}].depends_on", "dependency cycle: " + " → ".join(path))
    return caught


def _cycle_path(graph: dict[str, list[str]], start: str, members: set[str]) -> list[str]:
    """A shortest path start → … → start inside one component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in graph.get(node, []):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start] + path[::-1][1:] + [start] if node != start else [start, start]
                if nxt in members and nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    return [start, start]


def _order(
    c: _Checker, duties: Blocks, duty_codes: dict[str, int], header: _Header | None, in_cycle: dict[str, int]
) -> None:
    """Report a duty whose deadline comes before that of a duty it depends on.

    Both deadlines are resolved against one fixed start (the template's usual start time, in its
    timezone); equal deadlines are fine. Pairs inside a dependency cycle are left out: the cycle
    is already reported and has no order to check.
    """
    header = header or _Header(name="?", timezone="UTC")
    start = datetime.combine(_REFERENCE_DAY, header.start_time, tzinfo=ZoneInfo(header.timezone))
    blocks = dict(duties)
    deadlines: dict[str, datetime] = {}
    offsets: dict[str, Offset] = {}
    for key, i in duty_codes.items():
        try:
            offsets[key] = parse_offset(blocks[i].get("due"))
        except OffsetError:
            continue
        deadlines[key] = resolve(offsets[key], start, header.default_due_time)
    for i, block in duties:
        code = block.get("code")
        if not isinstance(code, str) or duty_codes.get(code) != i or code not in deadlines:
            continue
        for _, dep in _str_list(block.get("depends_on")):
            if code in in_cycle and in_cycle.get(dep) == in_cycle[code]:
                continue
            if dep in deadlines and deadlines[code] < deadlines[dep]:
                c.add(
                    ("duties", i, "due"),
                    f"duties[{code}].due",
                    f"deadline {format_offset(offsets[code])} comes before {format_offset(offsets[dep])}, "
                    f"the deadline of {dep} which it depends on",
                )
