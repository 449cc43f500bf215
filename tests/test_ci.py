"""CI refuses to run without ../shared instead of letting ~80 tests skip."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_stops_with_a_clear_line_when_shared_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DUTYBOT_TG_API_SPEC"}
    env["DUTYBOT_SHARED_DIR"] = str(tmp_path / "shared")
    run = subprocess.run([str(ROOT / ".ci" / "check-shared")], env=env, capture_output=True, text=True)
    assert run.returncode == 1
    assert "telegram-bot-api/api.min.json" in run.stderr and "status_phrases_dev.md" in run.stderr
    assert "../shared" in run.stderr
    assert ".ci/check-shared" in (ROOT / ".ci" / "run").read_text()  # and CI runs the check before the tests
