"""Settings: defaults, env overrides, and one clear line naming the key when a value is bad."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings


def test_defaults_and_env_override(monkeypatch):
    s = load_settings()
    assert s.general.timezone == "Asia/Ho_Chi_Minh" and s.reminders.before == ["3d", "1d", "2h"]
    monkeypatch.setenv("DUTYBOT_REMINDERS__BEFORE", '["1d"]')
    monkeypatch.setenv("DUTYBOT_TELEGRAM__TOKEN", "123:TEST")
    s = load_settings()
    assert s.reminders.before == ["1d"] and s.telegram.token.get_secret_value() == "123:TEST"
    assert "123:TEST" not in repr(s)


@pytest.mark.parametrize(
    "env,key",
    [
        ("DUTYBOT_REMINDERS__OVERDUE_EVERY=soon", "reminders.overdue_every"),
        ("DUTYBOT_GENERAL__TIMEZONE=Mars/Base", "general.timezone"),
        ("DUTYBOT_STORAGE__URL=mysql://x", "storage.url"),
        ("DUTYBOT_STORAGE__URLL=x", "storage.urll"),
        ("DUTYBOT_REMINDERS__QUIET_HOURS=late", "reminders.quiet_hours"),
        ('DUTYBOT_ACCESS__ADMINS=["12345"]', "access.admins"),
    ],
)
def test_bad_value_names_the_key(monkeypatch, env, key):
    name, value = env.split("=", 1)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert f"config error: {key}:" in str(err.value) and "\n" not in str(err.value)


def test_bad_config_file_stops_cli_with_exit_2(tmp_path, capsys):
    bad = tmp_path / "c.toml"
    bad.write_text('[general]\ntimezone = "Nowhere/Else"\n')
    assert main(["--config", str(bad), "workflow", "list"]) == 2
    err = capsys.readouterr().err
    assert "general.timezone" in err and len(err.strip().splitlines()) == 1
    assert main(["--config", str(tmp_path / "missing.toml"), "workflow", "list"]) == 2
