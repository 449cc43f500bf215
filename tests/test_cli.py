"""The `dutybot` command line, called as a user would (argument lists through main)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from workflows.spec import bundled_templates_dir

EXPORT_FIELDS = {
    "code",
    "title",
    "phase",
    "lead",
    "supporting",
    "deadline",
    "original_deadline",
    "status",
    "percent",
    "blocked_reason",
    "completed_at",
    "evidence_count",
    "audit",
    "overdue",
}


def test_workflow_list_and_check_bundled(cli):
    code, out, _ = cli("workflow", "list")
    assert code == 0 and "ceremony" in out.split()
    code, out, _ = cli("workflow", "check", str(bundled_templates_dir() / "ceremony.toml"))
    assert code == 0 and "58 duties" in out


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_workflow_check_reports_three_mistakes_with_lines(cli, tmp_path):
    text = (bundled_templates_dir() / "ceremony.toml").read_text(encoding="utf-8")
    # 1. an unknown agency as a lead
    text = re.sub(r'(code = "CB-05"[\s\S]*?lead = )"STC"', r'\1"SOTAICHINH"', text, count=1)
    # 2. a malformed offset
    text = re.sub(r'(code = "CB-12"[\s\S]*?due = )"T-40d"', r'\1"T-forty"', text, count=1)
    # 3. a dependency cycle: CB-01 now depends on CB-03 (which depends on CB-02 -> CB-01)
    text = re.sub(r'(code = "CB-01"[\s\S]*?depends_on = )\[\]', r'\1["CB-03"]', text, count=1)
    broken = tmp_path / "broken.toml"
    broken.write_text(text, encoding="utf-8")
    code, _, err = cli("workflow", "check", str(broken))
    assert code == 2
    assert f"broken.toml:{_line_of(text, 'SOTAICHINH')}:" in err and "SOTAICHINH" in err
    assert f"broken.toml:{_line_of(text, 'T-forty')}:" in err
    assert "cycle" in err.lower() and "CB-01" in err
    assert "3 problem(s)" in err or err.count("broken.toml:") >= 3


def test_export_lists_every_duty_and_moving_the_event_moves_deadlines(cli):
    code, out, _ = cli("event", "create", "ceremony", "--start", "11/6/2026 07:00", "--name", "Lễ thử", "--allow-past")
    assert code == 0
    event_id = out.strip()
    code, out, _ = cli("export", event_id, "--format", "json")
    data = json.loads(out)
    assert data["event"]["name"] == "Lễ thử" and data["event"]["start"] == "2026-06-11T07:00:00+07:00"
    assert len(data["tasks"]) == 58 and all(set(t) >= EXPORT_FIELDS for t in data["tasks"])
    first = {t["code"]: t for t in data["tasks"]}
    assert first["CB-01"]["status"] == "todo" and first["CB-02"]["status"] == "waiting"
    assert cli("event", "move", event_id, "--start", "18/6/2026 07:00", "--allow-past")[0] == 0
    moved = {t["code"]: t for t in json.loads(cli("export", event_id, "--format", "json")[1])["tasks"]}
    for c in first:
        old = datetime.fromisoformat(first[c]["deadline"])
        assert datetime.fromisoformat(moved[c]["deadline"]) - old == timedelta(days=7)
    code, out, _ = cli("export", event_id, "--format", "csv")
    assert code == 0 and len(out.strip().splitlines()) == 59


def test_event_list_json_launch_and_invite(cli):
    cli("event", "create", "ceremony", "--start", "2026-06-11 07:00", "--allow-past")
    code, out, _ = cli("event", "list", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and set(rows[0]) == {"id", "name", "template", "start", "launched", "ended"}
    assert not rows[0]["launched"]
    assert cli("event", "launch", "1")[0] == 0
    assert json.loads(cli("event", "list", "--format", "json")[1])[0]["launched"] is True
    assert cli("event", "launch", "1")[0] == 2
    code, out, _ = cli("invite", "CA")
    assert code == 0 and re.fullmatch(r"[A-Za-z0-9_-]{32}", out.splitlines()[0])
    assert cli("invite", "NOPE")[0] == 2


@pytest.mark.parametrize(
    "argv",
    [
        ("event", "create", "no-such-template", "--start", "11/6/2026"),
        ("event", "create", "ceremony", "--start", "31/2/2026"),
        ("event", "create", "ceremony"),
        ("event", "launch", "42"),
        ("event", "move", "1", "--start", "someday"),
        ("export", "1", "--format", "pdf"),
        ("user", "add-admin", "12345"),
        ("frobnicate",),
    ],
)
def test_wrong_arguments_exit_2_and_write_nothing(cli, argv):
    code, _, err = cli(*argv)
    assert code == 2 and ("usage" in err.lower() or "error" in err.lower())
    code, out, _ = cli("event", "list", "--format", "json")
    assert json.loads(out) == []


def test_user_admin_and_db_upgrade(cli):
    assert cli("db", "upgrade")[1].startswith("database at revision")
    code, out, _ = cli("user", "add-admin", "telegram:123456")
    assert code == 0 and "added admin" in out
    assert "already admin" in cli("user", "add-admin", "telegram:123456")[1]
    assert "telegram:123456" in cli("user", "list")[1]


def test_preview_lists_every_message_in_time_order(cli):
    code, out, _ = cli(
        "workflow",
        "preview",
        str(bundled_templates_dir() / "ceremony.toml"),
        "--start",
        "11/6/2030",
        "--format",
        "json",
    )
    rows = json.loads(out)
    assert code == 0 and [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    assert all(set(r) == {"at", "kind", "task", "agency", "recipient", "text"} for r in rows)
    kinds = {r["kind"] for r in rows}
    assert {"assignment", "reminder", "due", "overdue", "escalation", "cue", "checkin", "digest"} <= kinds
    assert sum(r["kind"] == "assignment" for r in rows) == 58
    cue = [r for r in rows if r["task"] == "NL-06" and r["kind"] in ("cue", "checkin")]
    assert [r["at"][11:16] for r in cue] == ["07:00", "07:20", "07:30"]  # 30 and 10 min before, then check-in
    assert {r["recipient"] for r in rows} == {"contact", "deputy", "coordinator"}
    code, text, _ = cli("workflow", "preview", str(bundled_templates_dir() / "ceremony.toml"), "--start", "11/6/2030")
    assert code == 0 and "NL-06" in text and "messages" in text


def test_simulate_an_event_from_now(cli):
    event_id = cli("event", "create", "ceremony", "--start", "11/6/2030 07:00")[1].strip()
    cli("event", "launch", event_id)
    code, out, _ = cli("simulate", event_id, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows and not any(r["kind"] == "assignment" for r in rows)  # already launched
    assert rows == sorted(rows, key=lambda r: (r["at"], r["task"] or ""))
    code, out, _ = cli("simulate", event_id, "--until", "1/1/2030", "--format", "json")
    assert all(r["at"] < "2030-01-02" for r in json.loads(out))
    assert cli("simulate", "99")[0] == 2
