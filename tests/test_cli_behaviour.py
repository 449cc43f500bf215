"""The command line as an operator meets it: pipes, wrong environment variables, repeated
commands, what is printed for which mistake, and what a spreadsheet gets from an export."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]
DUTYBOT = Path(sys.executable).with_name("dutybot")


def test_piping_into_head_ends_quietly(tmp_path):
    result = subprocess.run(
        f"'{DUTYBOT}' workflow preview ceremony --start '11/6/2027 07:00' | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "DUTYBOT_STORAGE__URL": f"sqlite:///{tmp_path / 'p.db'}"},
    )
    assert result.stdout.count("\n") == 1 and "58 tasks" in result.stdout
    assert result.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored" line


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("DUTYBOT_ACCESS__ADMINS", "telegram:12345,zalo:abc", ["telegram:12345", "zalo:abc"]),
        ("DUTYBOT_ACCESS__ADMINS", '["telegram:12345"]', ["telegram:12345"]),
        ("DUTYBOT_ACCESS__ADMINS", "", []),
        ("DUTYBOT_REMINDERS__BEFORE", "3d,1d", ["3d", "1d"]),
        ("DUTYBOT_REMINDERS__CUE_BEFORE", '["15m"]', ["15m"]),
    ],
)
def test_admins_from_the_environment_in_the_form_a_shell_keeps(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    section, key = name.removeprefix("DUTYBOT_").lower().split("__")
    assert getattr(getattr(load_settings(None), section), key) == expected


@pytest.mark.parametrize(
    "name, value",
    [
        ("DUTYBOT_ACCESS__ADMINS", "[telegram:12345]"),  # JSON whose quotes a shell took away
        ("DUTYBOT_ACCESS__ADMINS", "telegram12345"),
        ("DUTYBOT_REMINDERS__BEFORE", "3d,soon"),  # not a duration
        ("DUTYBOT_STORAGE__POOL_SIZE", "many"),
        ("DUTYBOT_GENERAL__TEMPLATES_DIRS", '["unclosed'),
    ],
)
def test_a_wrong_environment_variable_is_named_not_config_toml(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    assert name in str(err.value) and "config.toml" not in str(err.value)


def test_a_wrong_value_in_the_file_still_names_the_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[storage]\npool_size = "many"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert str(cfg) in str(err.value)


def test_add_admin_twice_says_already_admin(cli):
    assert cli("user", "add-admin", "telegram:777")[0] == 0
    code, out, _ = cli("user", "add-admin", "telegram:777")
    assert code == 0 and "already admin" in out
    assert len(cli("user", "list")[1].strip().splitlines()) == 1


def test_usage_is_printed_for_usage_errors_only(cli):
    code, _, err = cli("event", "launch", "42")  # a right form naming nothing: say so, no usage
    assert code == 2 and "no event 42" in err and "usage:" not in err
    code, _, err = cli("user", "add-admin", "12345")  # the form is wrong: the usage shows it
    assert code == 2 and "usage:" in err


def test_csv_export_has_a_bom_and_no_formula_reaches_a_spreadsheet(cli, tmp_path):
    from bot.render.export import to_csv
    from tests.test_reports import scenario

    data = scenario()
    hostile = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    for task, text in zip(data["tasks"], hostile):
        task["last_note"] = text
    data["tasks"][len(hostile)]["last_note"] = "bình thường = ok"
    text = to_csv(data)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r["last_note"] for r in rows[: len(hostile)]] == ["'" + h for h in hostile]
    assert rows[len(hostile)]["last_note"] == "bình thường = ok"
    # and through the command, to a file Excel opens
    event_id = cli("event", "create", "ceremony", "--start", "11/6/2027 07:00")[1].strip()
    out = tmp_path / "e.csv"
    assert cli("export", event_id, "--format", "csv", "--out", str(out))[0] == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_export_to_a_missing_folder_is_one_line_and_exit_1(cli, tmp_path):
    event_id = cli("event", "create", "ceremony", "--start", "11/6/2027 07:00")[1].strip()
    code, _, err = cli("export", event_id, "--format", "json", "--out", str(tmp_path / "nope" / "e.json"))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "usage" not in err


def test_packaging_metadata_uses_the_current_license_form():
    """setuptools >= 77 prints ~110 lines of deprecation on every install for a license table."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(project["project"]["license"], str)
    assert any(r.replace(" ", "").startswith("setuptools>=77") for r in project["build-system"]["requires"])
