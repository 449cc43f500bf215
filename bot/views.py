"""How tasks, lists and summaries look in a chat message (HTML, escaped via Texts)."""

from __future__ import annotations

from datetime import datetime

from bot.channels.base import Button
from bot.i18n import Safe, Texts
from workflows.states import effective_status, is_overdue

# Callback data: "t:<task id>:<action>" stays far inside Telegram's 64-byte limit.
ACTIONS = ("ack", "prog", "done", "blk")
_ICON = {"todo": "⚪", "acknowledged": "🔵", "in_progress": "🟡", "blocked": "🔴", "done": "✅",
         "cancelled": "⚫", "waiting": "⏳"}


def task_buttons(texts: Texts, task_id: int) -> list[list[Button]]:
    return [[Button(texts(f"button.{a}"), f"t:{task_id}:{a}") for a in ACTIONS]]


def deps_done(task, by_code: dict) -> bool:
    return all(by_code.get(code) is not None and by_code[code].status == "done" for code in task.depends_on or [])


def status_label(texts: Texts, task, now: datetime, by_code: dict) -> str:
    """e.g. '🟡 Đang làm 40%' or '🔴 Vướng: kinh phí' with '· quá hạn' when overdue."""
    status = effective_status(task.status, dependencies_done=deps_done(task, by_code))
    label = f"{_ICON.get(status, '')} {texts.status(status)}"
    if status == "in_progress" and task.percent:
        label += f" {task.percent}%"
    if is_overdue(task.status, task.deadline, now):
        label += " · " + texts("word.overdue")
    return label


def task_line(texts: Texts, task, now: datetime, by_code: dict) -> Safe:
    return texts("line.task", code=task.code, number=task.number, title=_short(texts.title(task)),
                 deadline=task.deadline, status=Safe(texts.value(status_label(texts, task, now, by_code))),
                 lead=task.lead)


def task_card(texts: Texts, task, now: datetime, by_code: dict, evidence: int = 0) -> Safe:
    """One task in full: title, lead, supporting, deadline (and original), status, waits, evidence."""
    waits = [c for c in task.depends_on or [] if by_code.get(c) is None or by_code[c].status != "done"]
    parts = [texts("card.head", code=task.code, number=task.number, title=texts.title(task)),
             texts("card.lead", lead=task.lead, supporting=", ".join(task.supporting) or "—"),
             texts("card.deadline", deadline=task.deadline)]
    if task.original_deadline != task.deadline:
        parts.append(texts("card.original", deadline=task.original_deadline))
    parts.append(texts("card.status", status=status_label(texts, task, now, by_code)))
    if task.status == "blocked" and task.blocked_reason:
        parts.append(texts("card.reason", reason=task.blocked_reason))
    if waits and task.status not in ("done", "cancelled"):
        parts.append(texts("card.waits", codes=", ".join(waits)))
    kinds = [k for k in task.evidence_kinds or [] if k != "none"]
    if kinds:
        parts.append(texts("card.evidence", kinds=", ".join(texts(f"evidence_kind.{k}") for k in kinds), count=evidence))
    if task.note:
        parts.append(texts("card.note", note=task.note))
    return Safe("\n".join(parts))


def history_lines(texts: Texts, entries, *, names: bool = True) -> list[Safe]:
    """The audit trail as lines; without `names` (a group chat) nobody's name or account is shown."""
    out = []
    for e in entries:
        detail = e.detail or {}
        what = detail.get("to", "")
        if e.action == "status":
            what = texts.status(detail.get("to", ""))
            if detail.get("percent") and detail.get("to") == "in_progress":
                what += f" {detail['percent']}%"
            if detail.get("reason"):
                what += f": {detail['reason']}"
            if detail.get("note"):
                what += f" ({detail['note']})"
        action = texts(f"action.{e.action}") if texts.has(f"action.{e.action}") else e.action
        if names:
            out.append(texts("line.audit", at=e.at, actor=e.actor, channel=e.channel, action=action, detail=what))
        else:
            out.append(texts("line.audit_anon", at=e.at, action=action, detail=what))
    return out


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
