"""Every refused move gets its answer, in the user's language, and changes nothing.

The second press, the wrong state: these are the paths people hit on their first day.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from storage.models import AuditEntry
from tests.helpers import Chat, seed_world

ROOT = Path(__file__).resolve().parents[1]


def _task(app, code):
    with app.read() as store:
        return store.find_task(store.current_event(app.now()).id, code)


def _audit_count(app) -> int:
    with app.read() as store:
        return len(list(store.s.exec(select(AuditEntry))))


def _undo_button(replies) -> str:
    return next(b.data for r in replies for row in r.buttons for b in row if b.data.startswith("u:"))


def test_second_done_and_second_ack_are_answered_not_crashed(app):
    seed_world(app)
    chat = Chat(app)
    assert "hoàn thành" in chat.say("vpub", "/xong CB-01")
    audits = _audit_count(app)
    assert "Việc CB-01 đã hoàn thành rồi." in chat.say("vpub", "/xong CB-01")
    # The Done button pressed again on the old task message: the answer is also the toast.
    t = _task(app, "CB-01")
    [again] = chat.send("vpub", callback=f"t:{t.id}:done")
    assert "đã hoàn thành rồi" in again.text and again.toast and "đã hoàn thành rồi" in again.toast
    assert "đã nhận việc CB-05" in chat.say("stc", "/danhan CB-05")
    assert "Việc CB-05 đã được nhận rồi." in chat.say("stc", "/danhan CB-05")
    [press] = chat.send("stc", callback=f"t:{_task(app, 'CB-05').id}:ack")
    assert "đã được nhận rồi" in press.text
    assert _audit_count(app) == audits + 1  # only the first /danhan wrote anything
    # In English, for someone who chose English.
    chat.say("vpub", "/lang en")
    assert "Task CB-01 is already done." in chat.say("vpub", "/done CB-01")


def test_closed_task_and_extension_dates_are_refused_with_reasons(app):
    seed_world(app)
    chat = Chat(app)
    chat.say("vpub", "/xong CB-01")
    closed = chat.say("vpub", "/giahan CB-01 1/6/2026 17h cần thêm thời gian")
    assert "Việc CB-01 đã đóng (Xong), không cập nhật được nữa" in closed
    closed = chat.say("vpub", "/tiendo CB-01 50")
    assert "Việc CB-01 đã đóng (Xong)" in closed
    # CB-05's deadline is 03/05/2026 17:00 local: a "new" date before it is refused, naming it.
    deadline = _task(app, "CB-05").deadline
    audits = _audit_count(app)
    early = chat.say("stc", "/giahan CB-05 2/5/2026 17h chờ hồ sơ")
    assert "Hạn mới phải muộn hơn hạn hiện tại của CB-05" in early
    assert deadline.astimezone(app.tz).strftime("%d/%m/%Y %H:%M") in early
    assert _audit_count(app) == audits  # no request was filed
    assert _task(app, "CB-05").deadline == deadline


def test_undo_after_five_minutes_or_twice_is_refused(app, clock):
    seed_world(app)
    chat = Chat(app)
    undo = _undo_button(chat.send("stc", "/tiendo CB-05 40"))
    clock.advance(minutes=6)
    [late] = chat.send("stc", callback=undo)
    assert "Không hoàn tác được việc CB-05 nữa" in late.text and late.toast
    assert _task(app, "CB-05").percent == 40
    undo = _undo_button(chat.send("stc", "/tiendo CB-05 60"))
    assert "Đã hoàn tác" in chat.say("stc", callback=undo)
    assert _task(app, "CB-05").percent == 40
    assert "Không hoàn tác được việc CB-05 nữa" in chat.say("stc", callback=undo)  # the second press
    assert _task(app, "CB-05").percent == 40


def test_the_local_chat_answers_every_line_of_a_second_press(tmp_path):
    """The issue's acceptance line: `printf '/as vpub\\n/xong CB-01\\n/xong CB-01\\n/viec\\n' | ./run`."""
    env = {**os.environ, "DUTYBOT_STORAGE__URL": f"sqlite:///{tmp_path / 'run.db'}"}
    env.pop("DUTYBOT_TELEGRAM__TOKEN", None)
    env.pop("DUTYBOT_ZALO__TOKEN", None)
    runner = (
        [str(ROOT / "run")]
        if (ROOT / ".venv" / "bin" / "dutybot").exists()
        else [sys.executable, "-m", "bot.cli", "run"]
    )
    out = subprocess.run(
        runner,
        input="/as vpub\n/xong CB-01\n/xong CB-01\n/viec\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    assert "CB-01 đã hoàn thành rồi" in out.stdout
    assert "Việc của VPUB" in out.stdout
