"""The production install as an IT officer follows it: the environment file means the same to
a shell and to systemd, the unit names no folder that may be missing, a stranger can learn
the id an admin needs, and the scheduler does not fill the log."""

from __future__ import annotations

import logging
import os
import re
import subprocess
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.helpers import Chat, add_user

ROOT = Path(__file__).resolve().parents[1]
ENV_EXAMPLE = ROOT / "deploy" / "dutybot.env.example"
UNIT = ROOT / "deploy" / "dutybot.service"


def _systemd_environment_file(text: str) -> dict[str, str]:
    """What systemd's EnvironmentFile= makes of the file (no quotes or escapes are used in ours)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()), line
        env[key.strip()] = value.strip()
    return env


def _shell_environment(path: Path) -> dict[str, str]:
    script = f'set -eu; set -a; . "{path}"; set +a; env -0'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0 and result.stderr == "", result.stderr
    pairs = (item.partition("=") for item in result.stdout.split("\0") if item)
    return {k: v for k, _, v in pairs if k.startswith("DUTYBOT_")}


def _filled(tmp_path: Path) -> Path:
    """The example as an officer leaves it: CHANGE-ME replaced, the admin line uncommented."""
    text = ENV_EXAMPLE.read_text().replace("CHANGE-ME", "s3cret")
    text = text.replace("# DUTYBOT_ACCESS__ADMINS=", "DUTYBOT_ACCESS__ADMINS=")
    out = tmp_path / "dutybot.env"
    out.write_text(text)
    return out


def test_the_environment_file_means_the_same_to_a_shell_and_to_systemd(tmp_path):
    for path in (ENV_EXAMPLE, _filled(tmp_path)):
        assert _shell_environment(path) == _systemd_environment_file(path.read_text())
    assert "<" not in ENV_EXAMPLE.read_text()  # a <placeholder> is a shell syntax error


def test_the_example_admin_is_commented_out_and_the_filled_file_loads(tmp_path, monkeypatch):
    assert "DUTYBOT_ACCESS__ADMINS" not in _systemd_environment_file(ENV_EXAMPLE.read_text())
    for key, value in _shell_environment(_filled(tmp_path)).items():
        monkeypatch.setenv(key, value)
    settings = load_settings(None)
    assert settings.access.admins == ["telegram:123456789", "zalo:4f1c2a"]
    assert settings.storage.url.startswith("postgresql+psycopg://dutybot:s3cret@")


def test_a_placeholder_left_in_the_file_stops_start_up_naming_it(monkeypatch):
    for key, value in _shell_environment(ENV_EXAMPLE).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    assert "DUTYBOT_TELEGRAM__TOKEN" in str(err.value) and "CHANGE-ME" in str(err.value)


def test_the_unit_names_no_folder_that_may_not_exist():
    unit = UNIT.read_text()
    service = dict(line.split("=", 1) for line in unit.splitlines() if re.match(r"^[A-Za-z]+=", line))
    assert "ReadWritePaths" not in service  # systemd refuses to start (226/NAMESPACE) when it is missing
    assert service["StateDirectory"] == "dutybot" and service["WorkingDirectory"] == "/var/lib/dutybot"
    assert service["ProtectSystem"] == "strict" and service["EnvironmentFile"] == "/etc/dutybot/dutybot.env"
    # the helper an officer runs commands with is valid sh and runs them as the service user
    helper = ROOT / "deploy" / "dutybotctl"
    assert subprocess.run(["sh", "-n", str(helper)]).returncode == 0 and os.access(helper, os.X_OK)


def test_a_strangers_whoami_tells_their_channel_id_and_nothing_else(sqlite_app):
    chat = Chat(sqlite_app)
    answer = chat.say("998877", "/whoami")
    assert "fake:998877" in answer
    assert "fake:998877" in chat.say("998877", "/toila")
    assert "fake:998877" not in chat.say("998877", "/viec")  # other commands: the usual greeting
    group = chat.say("998877", "/whoami", chat_type="group")
    assert "fake:998877" not in group  # never in a group
    add_user(sqlite_app, "998877", "coordinator")
    assert "fake:998877" not in chat.say("998877", "/whoami")  # a member gets their profile instead


async def test_the_scheduler_writes_no_per_job_lines_at_info(sqlite_app, caplog):
    from bot.scheduler import Scheduler

    caplog.set_level(logging.INFO)
    sched = Scheduler(sqlite_app)
    sched.start()
    try:
        for _ in range(20):
            sched.poke()
            sched._plan(sched.app.now())
    finally:
        sched.shutdown()
    assert not [r for r in caplog.records if r.name.startswith("apscheduler")]
