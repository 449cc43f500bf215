"""A % button pressed twice in a row (a double tap, or a press the app seemed not to take) is one report.

Telegram and Zalo deliver each press, so without this the same "Đang làm 50%" lands twice in
the task's history and twice in the coordinators' news. Only within a short window and only when
nothing happened to the task in between: the same percent reported again later is a report of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.channels.base import Button
from storage.repositories import SqlStore
from workflows.ports import TaskRecord

REPEAT_WINDOW = timedelta(seconds=60)


def repeated_percent(store: SqlStore, user_id: int, task: TaskRecord, percent: int, now: datetime) -> bool:
    """Is pressing `percent` now the same report `user_id` just made on `task`, with nothing since?"""
    if task.status != "in_progress" or task.percent != percent:
        return False
    last_id = store.last_audit_id(task.id)
    entry = store.audit_entry(last_id) if last_id is not None else None
    return (
        entry is not None
        and entry.action == "status"
        and entry.actor_id == user_id
        and (entry.detail or {}).get("to") == "in_progress"
        and (entry.detail or {}).get("percent") == percent
        and now - entry.at <= REPEAT_WINDOW
    )


def percent_buttons(task_id: int) -> list[list[Button]]:
    """The choices of "how many percent?" (asked by the Đang làm button)."""
    return [[Button(f"{p}%", f"p:{task_id}:{p}") for p in (25, 50, 75, 90)]]


def no_percent_in(text: str) -> bool:
    """An answer to "how many percent?" that gives none: "chưa", "không", "chưa biết", "đang làm".
    Recording it as in progress would say what the person did not; "xong rồi", "vướng …" still count."""
    from bot.understanding import understand

    if not text or any(c.isdigit() for c in text):  # a number that is no percent has its own answer
        return False
    reading = understand(text, last_prompt="ask")
    return reading.kind in ("progress", "ack", "unclear") and reading.percent is None and not reading.codes
