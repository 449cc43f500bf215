"""The bundled sample: a preparation under way, written through the engine; and `./run` itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bot.demo import ensure_demo
from workflows.queries import overdue_tasks

ROOT = Path(__file__).resolve().parents[1]


def test_demo_is_a_third_past_with_a_realistic_spread(sqlite_app, clock):
    assert ensure_demo(sqlite_app)
    assert not ensure_demo(sqlite_app)  # once only
    with sqlite_app.read() as store:
        event = store.current_event(clock.now)
        tasks = store.tasks(event.id)
        audit = store.event_audit(event.id)
        users = store.users()
    past = [t for t in tasks if t.deadline < clock.now]
    assert abs(len(past) - len(tasks) / 3) <= 3
    statuses = Counter(t.status for t in past)
    assert statuses["done"] >= 0.6 * len(past)
    assert 1 <= statuses["blocked"] <= 2 and all(t.blocked_reason for t in past if t.status == "blocked")
    late = [t for t in past if t.status == "done" and t.completed_at > t.original_deadline]
    assert late, "some duties were done late"
    assert 1 <= len(overdue_tasks(tasks, clock.now)) <= len(past) // 3
    # Every status is backed by an audit entry made by the agency's own contact.
    for t in tasks:
        if t.status != "todo":
            entries = [a for a in audit if a.task_id == t.id and a.action == "status"]
            assert entries and entries[-1].detail["to"] == t.status
            assert entries[-1].actor == f"Đầu mối {t.lead}"
    roles = Counter(u.role for u in users)
    assert roles["coordinator"] == 1 and roles["contact"] == 17 and roles["admin"] == 1


def test_readme_run_command_drives_the_local_chat_from_a_pipe(tmp_path):
    """`./run` with no token: the local chat on the demo, driven by piped commands."""
    env = {**os.environ, "DUTYBOT_STORAGE__URL": f"sqlite:///{tmp_path / 'run.db'}"}
    env.pop("DUTYBOT_TELEGRAM__TOKEN", None)
    env.pop("DUTYBOT_ZALO__TOKEN", None)
    script = "/as dieuphoi\n/tinhhinh\n/as stc\n/viec\n/quit\n"
    runner = (
        [str(ROOT / "run")]
        if (ROOT / ".venv" / "bin" / "dutybot").exists()
        else [sys.executable, "-m", "bot.cli", "run"]
    )
    out = subprocess.run(runner, input=script, capture_output=True, text=True, env=env, cwd=ROOT, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Đã tạo bản thử" in out.stdout
    assert "xong" in out.stdout and "quá hạn" in out.stdout  # the coordinator's status view
    assert "Việc của STC" in out.stdout


def test_quitting_the_local_chat_at_once_is_a_clean_end(tmp_path):
    """`/quit` while the first reminder pass is still running: no traceback on the terminal."""
    env = {**os.environ, "DUTYBOT_STORAGE__URL": f"sqlite:///{tmp_path / 'quit.db'}"}
    env.pop("DUTYBOT_TELEGRAM__TOKEN", None)
    env.pop("DUTYBOT_ZALO__TOKEN", None)
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        input="/help\n/quit\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=180,
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
