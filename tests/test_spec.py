"""Workflow templates: the bundled ceremony, the loader's problems (with lines), template lookup."""

from __future__ import annotations

import re
import shutil
from datetime import time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.spec import (
    EVIDENCE_KINDS,
    DutySpec,
    Problem,
    ReminderOverrides,
    TemplateError,
    bundled_templates_dir,
    check_template_text,
    list_templates,
    load_template,
    parse_duration,
    resolve_template,
)

DATA = Path(__file__).parent / "data" / "templates"
BUNDLED = bundled_templates_dir() / "ceremony.toml"
TEXT = BUNDLED.read_text(encoding="utf-8")
PLAN = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ceremony_plan.md"


def line_of(text: str, needle: str) -> int:
    """1-based number of the only line containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def sub_in_duty(text: str, code: str, old: str, new: str) -> str:
    """Replace the first `old` after `code = "<code>"` (within that duty's block)."""
    start = text.index(f'code = "{code}"')
    end = text.find("[[duties]]", start)
    end = len(text) if end < 0 else end
    block = text[start:end]
    assert old in block, (code, old)
    return text[:start] + block.replace(old, new, 1) + text[end:]


def line_in_duty(text: str, code: str, needle: str) -> int:
    """1-based number of the first line containing `needle` in the block of duty `code`."""
    start = text.index(f'code = "{code}"')
    return text.count("\n", 0, text.index(needle, start)) + 1


def problems_of(text: str, name: str = "t.toml") -> list[Problem]:
    spec, problems = check_template_text(text, name)
    assert (spec is None) == bool(problems)
    return problems


# -- the bundled template ------------------------------------------------------------------------
def test_bundled_template_loads_with_every_agency_phase_and_duty():
    t = load_template(BUNDLED)
    assert t.id == "ceremony" and t.timezone == "Asia/Ho_Chi_Minh"
    assert (len(t.agencies), len(t.phases), len(t.duties)) == (17, 4, 58)
    assert [p.code for p in t.phases] == ["CB", "NC", "NL", "SL"]
    agencies = {a.code for a in t.agencies}
    codes = [d.code for d in t.duties]
    assert len(set(codes)) == 58 and all(a.name and a.name_en for a in t.agencies)
    for d in t.duties:
        assert set(d.depends_on) <= set(codes) and d.code not in d.depends_on
        assert d.lead in agencies and set(d.supporting) <= agencies and d.lead not in d.supporting
        assert d.phase == d.code[:2] and d.title and d.title_en
        assert set(d.evidence) <= set(EVIDENCE_KINDS)
        assert d.cue == (d.phase == "NL")
        assert TEXT.splitlines()[d.line - 1] == "[[duties]]"
        assert f'code = "{d.code}"' in TEXT.splitlines()[d.line]
    assert t.duty("CB-05").lead == "STC" and t.agency("STC").name == "Sở Tài chính"
    assert t.duty("NOPE") is None and t.agency("NOPE") is None


def test_bundled_template_follows_the_configured_reminder_policy():
    # It states no [reminders]: what an operator sets in config.toml applies to it.
    from bot.config import load_settings
    from workflows.reminders import Policy

    assert load_template(BUNDLED).reminders is None
    base = Policy.from_strings(**load_settings(None, reminders={"quiet_hours": "22:00-06:00"}).reminders.model_dump())
    assert base.quiet_hours == (time(22), time(6))


def test_ceremony_day_cues_are_at_their_clock_times():
    t = load_template(BUNDLED)
    nl = {d.code: d.offset for d in t.duties if d.phase == "NL"}
    assert len(nl) == 14 and all(o.days == 0 and o.at is not None for o in nl.values())
    assert nl["NL-01"].at == time(6, 0) and nl["NL-07"].at == time(8, 0) and nl["NL-12"].at == time(9, 50)
    sl01 = t.duty("SL-01")
    assert sl01.lead == "TDKT" and len(sl01.supporting) == 16 and "TDKT" in sl01.note


_EVIDENCE_WORDS = {"VB": "document", "ẢNH": "photo", "LINK": "link", "XN": "confirm"}


def _plan_duties() -> dict[str, dict]:
    out = {}
    for m in re.finditer(r"^([A-Z]{2}-\d\d) \|.*\n.*\n(.*)$", PLAN.read_text(encoding="utf-8"), re.M):
        fields = {
            f.split(" ", 1)[0]: f.split(" ", 1)[1] if " " in f else ""
            for f in (part.strip() for part in m.group(2).split("·"))
        }
        out[m.group(1)] = fields
    return out


@pytest.mark.skipif(not PLAN.exists(), reason=f"the plan is not at {PLAN}")
def test_bundled_template_follows_the_plan():
    from workflows.offsets import parse_offset

    t = load_template(BUNDLED)
    plan = _plan_duties()
    assert sorted(plan) == sorted(d.code for d in t.duties)
    for d in t.duties:
        p = plan[d.code]
        lead = p["Chủ"].split()[1]
        assert d.lead == ("TDKT" if lead == "tất" else lead), d.code
        due = re.match(r"Hạn (T[+-]\d+(?: \d\d:\d\d)?)", "Hạn " + p["Hạn"]).group(1)
        want = parse_offset(due)
        assert (d.offset.days, d.offset.at) == (want.days, want.at), d.code
        deps = re.findall(r"[A-Z]{2}-\d\d", p["Phụ"])
        assert sorted(d.depends_on) == sorted(deps), d.code
        words = re.findall(r"VB|ẢNH|LINK|XN", p["Minh"])
        assert set(d.evidence) == ({_EVIDENCE_WORDS[w] for w in words} or {"none"}), d.code
        named = set(re.findall(r"\b[A-Z]{2,5}\b", p.get("Phối", ""))) & {a.code for a in t.agencies}
        assert named <= set(d.supporting), d.code
        if "tất cả" in p.get("Phối", "") or lead == "tất":
            assert len(d.supporting) == 16, d.code


# -- problems, with lines ------------------------------------------------------------------------
def test_three_mistakes_are_all_reported_with_their_lines():
    text = sub_in_duty(TEXT, "CB-05", 'lead = "STC"', 'lead = "SOTAICHINH"')
    text = sub_in_duty(text, "CB-12", 'due = "T-40d"', 'due = "T-forty"')
    text = sub_in_duty(text, "CB-01", "depends_on = []", 'depends_on = ["CB-03"]')
    problems = problems_of(text, "broken.toml")
    by_field = {p.field: p for p in problems}
    lead = by_field["duties[CB-05].lead"]
    assert lead.line == line_of(text, "SOTAICHINH") and "unknown agency 'SOTAICHINH'" in lead.message
    due = by_field["duties[CB-12].due"]
    assert due.line == line_of(text, "T-forty") and "T-forty" in due.message
    cycle = by_field["duties[CB-01].depends_on"]
    assert cycle.line == line_in_duty(text, "CB-01", 'depends_on = ["CB-03"]')
    assert "cycle" in cycle.message and "CB-01 → CB-03 → CB-02 → CB-01" in cycle.message
    assert len(problems) == 3 and all(p.file == "broken.toml" for p in problems)
    with pytest.raises(TemplateError) as exc:
        raise TemplateError(problems)
    assert str(exc.value).splitlines() == [str(p) for p in problems]
    assert str(lead) == f"broken.toml:{lead.line}: duties[CB-05].lead: {lead.message}"


def test_unknown_key_duplicate_code_and_due_before_dependency():
    text = sub_in_duty(TEXT, "CB-21", "depends_on = ", "dependson = ")
    text = sub_in_duty(text, "CB-27", 'code = "CB-27"', 'code = "CB-26"  # copy-paste slip')
    text = sub_in_duty(text, "SL-05", 'due = "T+8d"', 'due = "T+3d 08:00"')
    problems = problems_of(text)
    found = {(p.line, p.field) for p in problems}
    assert (line_of(text, "dependson = "), "duties[CB-21].dependson") in found
    assert (line_of(text, "copy-paste slip"), "duties[CB-26].code") in found
    assert (line_of(text, 'due = "T+3d 08:00"'), "duties[SL-05].due") in found
    msgs = " | ".join(p.message for p in problems)
    assert "did you mean 'depends_on'" in msgs and "duplicate code 'CB-26'" in msgs
    assert "T+3d 08:00 comes before T+4d" in msgs and "SL-03" in msgs
    # CB-27 is gone, so NL-04's dependency on it is unknown too: reported, not a crash
    assert any(p.field == "duties[NL-04].depends_on" and "CB-27" in p.message for p in problems)
    assert len(problems) == 4


def test_equal_deadlines_are_fine_and_hour_offsets_are_compared_in_time():
    ok = sub_in_duty(TEXT, "NL-03", 'due = "T+0 06:30"', 'due = "T+0 06:00"')  # equal to NL-01
    assert problems_of(ok) == []
    late = sub_in_duty(TEXT, "NL-03", 'due = "T+0 06:30"', 'due = "T-1h30m"')  # 05:30 < NL-01 06:00
    (p,) = problems_of(late)
    assert p.field == "duties[NL-03].due" and "NL-01" in p.message and p.line == line_of(late, "T-1h30m")


@pytest.mark.parametrize(
    "old, new, field, words",
    [
        ('title_en = "Medical plan"\n', "title_en = 42\n", "duties[CB-24].title_en", "valid string"),
        (
            'supporting = ["VPUB"]\ndue = "T-10d"',
            'supporting = "VPUB"\ndue = "T-10d"',
            "duties[CB-24].supporting",
            "valid list",
        ),
        ('evidence = ["document"]', 'evidence = ["video"]', "duties[CB-24].evidence", "unknown evidence kind"),
        ('evidence = ["document"]', 'evidence = "photo"\ncue = "no"', "duties[CB-24].cue", "boolean"),
        ('phase = "CB"', 'phase = "XX"', "duties[CB-24].phase", "unknown phase 'XX'"),
        ('lead = "SYT"', 'lead = "SYT"\nsupporting_x = []', "duties[CB-24].supporting_x", "unknown key"),
        (
            'evidence = ["document"]',
            'evidence = ["document"]\n[duties.reminders]\nbefore = ["1d", "2x"]',
            "duties[CB-24].reminders.before[1]",
            "bad duration '2x'",
        ),
        (
            'evidence = ["document"]',
            'evidence = ["document"]\nreminders = { overdue_every = "0h" }',
            "duties[CB-24].reminders.overdue_every",
            "longer than zero",
        ),
    ],
)
def test_each_kind_of_block_problem_points_at_its_key(old, new, field, words):
    text = sub_in_duty(TEXT, "CB-24", old, new)
    problems = problems_of(text)
    assert [p.field for p in problems] == [field], problems
    key = field.split(".")[-1].split("[")[0]
    block_start = text.index('code = "CB-24"')
    expected = text.count("\n", 0, text.index(f"{key} =", block_start)) + 1
    assert problems[0].line == expected and words in problems[0].message


def test_a_missing_required_key_points_at_the_block_header():
    text = sub_in_duty(TEXT, "CB-24", 'title = "Phương án y tế', 'note = "Phương án y tế')
    (p,) = problems_of(text)
    assert p.field == "duties[CB-24].title" and "missing" in p.message
    assert p.line == text.count("\n", 0, text.index('code = "CB-24"'))  # the [[duties]] line above


def test_template_table_problems():
    text = re.sub('^timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Hanoi"', TEXT, flags=re.M)
    text = re.sub('^start_time = "07:00"', 'start_time = "7h"', text, flags=re.M)
    text = text.replace("# ---- Agencies", '[reminders]\nquiet_hours = "21:30-25:00"\n\n# ---- Agencies', 1)
    got = {p.field: p for p in problems_of(text)}
    assert set(got) == {"template.timezone", "template.start_time", "reminders.quiet_hours"}
    assert got["template.timezone"].line == line_of(text, "Asia/Hanoi")
    assert got["reminders.quiet_hours"].line == line_of(text, '= "21:30-25:00"')
    assert got["template.start_time"].line == line_of(text, '"7h"') and "'7h'" in got["template.start_time"].message
    no_header = re.sub(r"\[template\]\n(.*\n)*?start_time = .*\n", "", TEXT)
    fields = [p.field for p in problems_of(no_header)]
    assert fields == ["template"]


def test_toml_syntax_error_reports_its_line():
    lines = TEXT.splitlines()
    lines.insert(99, 'title = "unterminated')
    text = "\n".join(lines)
    (p,) = problems_of(text)
    assert p.line == 100 and p.field == "toml" and "syntax" in p.message


def test_unknown_top_level_key_and_self_dependency():
    text = TEXT.replace("# ---- Agencies", '[reminder] # a typo\nquiet_hours = "22:00-06:00"\n\n# ---- Agencies', 1)
    text = sub_in_duty(text, "SL-04", 'depends_on = ["SL-03"]', 'depends_on = ["SL-04", "SL-03"]')
    got = {p.field: p for p in problems_of(text)}
    assert "did you mean 'reminders'" in got["reminder"].message
    assert got["reminder"].line == line_of(text, "[reminder] ")
    assert "SL-04 → SL-04" in got["duties[SL-04].depends_on"].message


def test_inline_style_fixture_reports_every_marked_line():
    text = (DATA / "inline_broken.toml").read_text(encoding="utf-8")
    marked = {i: line.split("# <- ")[1] for i, line in enumerate(text.splitlines(), 1) if "# <- " in line}
    problems = problems_of(text, "inline_broken.toml")
    assert {p.line for p in problems} == set(marked)
    words = {
        "duplicate": "duplicate code",
        "unknown key": "unknown key 'colour'",
        "unknown agency": "unknown agency 'Z'",
        "bad offset": "T-2d 25:00",
        "cycle": "D-3 → D-4 → D-3",
    }
    for p in problems:
        assert words[marked[p.line]] in p.message, p


def test_load_template_raises_template_error_with_every_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        sub_in_duty(sub_in_duty(TEXT, "CB-05", '"STC"', '"X1"'), "CB-06", '"TDKT"', '"X2"'), encoding="utf-8"
    )
    with pytest.raises(TemplateError) as exc:
        load_template(bad)
    assert len(exc.value.problems) == 2 and all(p.file == str(bad) for p in exc.value.problems)
    (tmp_path / "latin1.toml").write_bytes("name = 'Lễ'".encode("utf-16"))
    for path in (tmp_path / "latin1.toml", tmp_path / "missing.toml", tmp_path):
        with pytest.raises(TemplateError) as exc:
            load_template(path)
        assert exc.value.problems[0].line == 0


def test_inline_fixture_loads_and_durations_parse():
    t = load_template(DATA / "mini.toml")
    assert t.id == "mini" and t.default_due_time == time(16, 30) and t.start_time == time(14, 0)
    assert t.duty("D-1").evidence == ["document"] and t.duty("D-1").reminders.before == ["1d", "2h"]
    assert t.duty("D-2").reminders.enabled is True and t.duty("D-2").offset.minutes == -120
    assert t.duty("D-3").line == (DATA / "mini.toml").read_text().splitlines().index('code = "D-3"')
    assert parse_duration("3d") == timedelta(days=3) and parse_duration(" 1h30m ") == timedelta(minutes=90)
    assert parse_duration("3m") == timedelta(minutes=3) and parse_duration("24H") == timedelta(hours=24)
    for bad in ("", "3", "d", "3 days", "-1d", "1.5h", "3w", "9999999d", None):
        with pytest.raises(ValueError):
            parse_duration(bad)
    with pytest.raises(ValueError):
        ReminderOverrides(quiet_hours="21:30")
    with pytest.raises(ValueError):
        DutySpec(code="X", title="x", phase="P", lead="A", due="T-1d", evidence="selfie")


# -- template lookup -----------------------------------------------------------------------------
def test_list_and_resolve_templates(tmp_path):
    bundled = list_templates()
    assert bundled["ceremony"] == BUNDLED
    both = list_templates([DATA, tmp_path / "does-not-exist"])
    assert {"ceremony", "mini", "inline_broken"} <= set(both) and both["mini"] == DATA / "mini.toml"
    assert resolve_template("ceremony") == BUNDLED
    assert resolve_template("mini", [DATA]) == DATA / "mini.toml"
    assert resolve_template(str(DATA / "mini.toml")) == DATA / "mini.toml"
    shutil.copy(BUNDLED, tmp_path / "ceremony.toml")
    assert resolve_template("ceremony", [tmp_path]) == tmp_path / "ceremony.toml"  # installed wins
    for ref in ("mini", "no-such-template", str(tmp_path / "nope.toml"), ""):
        with pytest.raises(TemplateError) as exc:
            resolve_template(ref)
        (p,) = exc.value.problems
        assert p.line == 0 and repr(ref) in p.message and "ceremony" in p.message


# -- never anything but problems -----------------------------------------------------------------
def _assert_only_problems(text: str) -> None:
    spec, problems = check_template_text(text, "fuzz.toml")
    assert (spec is None) == bool(problems)
    n_lines = text.count("\n") + 1
    for p in problems:
        assert isinstance(p, Problem) and p.field != "internal", p
        assert 0 <= p.line <= n_lines + 1 and p.message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.text(alphabet='[]{}=",.\n #abcdT-+0123:', max_size=300))
def test_random_text_only_gives_problems(text):
    _assert_only_problems(text)


_LINES = TEXT.splitlines(keepends=True)


@st.composite
def _mutated(draw) -> str:
    lines = list(_LINES)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "replace"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap" and len(lines[i]) > 2:
            j = draw(st.integers(0, len(lines[i]) - 2))
            s = lines[i]
            lines[i] = s[:j] + s[j + 1] + s[j] + s[j + 2 :]
        elif kind == "truncate":
            text = "".join(lines)
            return text[: draw(st.integers(0, len(text)))]
        elif kind == "replace":
            lines[i] = draw(
                st.sampled_from(
                    [
                        'due = "T-1000000d"\n',
                        "depends_on = [1]\n",
                        "[[duties]]\n",
                        "cue = 1\n",
                        'lead = "CB-01"\n',
                        "[duties.reminders]\n",
                        'depends_on = ["NL-14"]\n',
                        "code = []\n",
                        "[template]\n",
                    ]
                )
            )
        if not lines:
            lines = ["\n"]
    return "".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_mutations_of_the_bundled_template_only_give_problems(text):
    _assert_only_problems(text)
