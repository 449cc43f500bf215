"""How tasks, lists and summaries look in a chat message (HTML, escaped via Texts)."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.channels.base import Button
from bot.i18n import Safe, Texts
from workflows.states import dependency_met, effective_status, is_overdue

# Callback data: "t:<task id>:<action>" stays far inside Telegram's 64-byte limit.
ACTIONS = ("ack", "prog", "done", "blk")
_ICON = {
    "todo": "⚪",
    "acknowledged": "🔵",
    "in_progress": "🟡",
    "blocked": "🔴",
    "done": "✅",
    "cancelled": "⚫",
    "waiting": "⏳",
}


def task_buttons(texts: Texts, task_id: int) -> list[list[Button]]:
    return [[Button(texts(f"button.{a}"), f"t:{task_id}:{a}") for a in ACTIONS]]


def deps_done(task, by_code: dict) -> bool:
    return all(by_code.get(code) is not None and dependency_met(by_code[code].status) for code in task.depends_on or [])


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
    return texts(
        "line.task",
        code=task.code,
        number=task.number,
        title=_short(texts.title(task)),
        deadline=task.deadline,
        status=Safe(texts.value(status_label(texts, task, now, by_code))),
        lead=task.lead,
    )


def task_card(texts: Texts, task, now: datetime, by_code: dict, evidence: int = 0) -> Safe:
    """One task in full: title, lead, supporting, deadline (and original), status, waits, evidence."""
    waits = [c for c in task.depends_on or [] if by_code.get(c) is None or not dependency_met(by_code[c].status)]
    parts = [
        texts("card.head", code=task.code, number=task.number, title=texts.title(task)),
        texts("card.lead", lead=task.lead, supporting=", ".join(task.supporting) or "—"),
        texts("card.deadline", deadline=task.deadline),
    ]
    if task.original_deadline != task.deadline:
        parts.append(texts("card.original", deadline=task.original_deadline))
    parts.append(texts("card.status", status=status_label(texts, task, now, by_code)))
    if task.status == "blocked" and task.blocked_reason:
        parts.append(texts("card.reason", reason=task.blocked_reason))
    if waits and task.status not in ("done", "cancelled"):
        parts.append(texts("card.waits", codes=", ".join(waits)))
    kinds = [k for k in task.evidence_kinds or [] if k != "none"]
    if kinds:
        kind_names = ", ".join(texts(f"evidence_kind.{k}") for k in kinds)
        parts.append(texts("card.evidence", kinds=kind_names, count=evidence))
    if task.note:
        parts.append(texts("card.note", note=task.note))
    return Safe("\n".join(parts))


def history_lines(texts: Texts, entries, *, names: bool = True) -> list[Safe]:
    """The audit trail as lines; without `names` (a group chat) nobody's name or account is shown."""
    out = []
    for e in entries:
        what = audit_detail(texts, e.action, e.detail or {})
        action = texts(f"action.{e.action}") if texts.has(f"action.{e.action}") else e.action
        at = e.at if e.at.tzinfo else e.at.replace(tzinfo=timezone.utc)  # stored in UTC, read naive on SQLite
        if names:
            out.append(texts("line.audit", at=at, actor=e.actor, channel=e.channel, action=action, detail=what))
        else:
            out.append(texts("line.audit_anon", at=at, action=action, detail=what))
    return out


def _when(value) -> datetime | str:
    """An ISO time from an audit detail as a datetime (shown local dd/mm/yyyy hh:mm); else as is."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else value or ""
    except ValueError:
        return value


def audit_detail(texts: Texts, action: str, d: dict) -> Safe:
    """What an audit entry changed, in words: statuses by name, times local, with the reasons."""
    if action in ("status", "cancelled", "restored"):
        to = d.get("to", "")
        what = (
            texts("history.percent", status=texts.status(to), percent=d["percent"])
            if d.get("percent") and to == "in_progress"
            else texts("history.status", status=texts.status(to))
        )
    elif action == "undo":
        what = texts("history.undo", status=texts.status(d.get("to", "")))
    elif action == "deadline":
        what = texts("history.deadline", to=_when(d.get("to")), **{"from": _when(d.get("from"))})
    elif action in ("extension_requested", "extension_approved", "extension_rejected"):
        what = texts("history.extension", to=_when(d.get("to")))
    elif action == "deadline_moved":
        what = texts("history.moved", to=_when(d.get("to")))
    elif action == "reassign":
        what = texts("history.reassign", to=d.get("to", ""), **{"from": d.get("from", "")})
    elif action == "evidence":
        kind = d.get("kind", "")
        what = texts(
            "history.evidence", kind=texts(f"evidence_kind.{kind}") if texts.has(f"evidence_kind.{kind}") else kind
        )  # not the file's name: the history may be read in a group
    else:
        what = Safe("")
    if d.get("reason"):
        what = Safe(what + texts("history.reason", reason=d["reason"]))
    if d.get("note"):
        what = Safe(what + texts("history.note", note=d["note"]))
    return what


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
