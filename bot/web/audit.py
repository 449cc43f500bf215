"""One audit entry as people read it on the task page: what happened, from what to what, why."""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup, escape

KNOWN = (
    "status",
    "deadline",
    "reassign",
    "extension_requested",
    "extension_approved",
    "extension_rejected",
    "evidence",
    "undo",
    "remind",
    "cancelled",
    "restored",
)


def action(page, entry) -> str:
    return page.t(f"web.audit.{entry.action}") if entry.action in KNOWN else entry.action


def _when(page, value) -> str:
    try:
        return page.short(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value or "")


def detail(page, entry) -> Markup:
    d = entry.detail or {}
    parts = []
    if entry.action in ("status", "undo", "cancelled", "restored") and "to" in d:
        parts.append(f"{escape(page.status(d.get('from', '')))} → <b>{escape(page.status(d['to']))}</b>")
        if d.get("to") == "in_progress" and d.get("percent") is not None:
            parts.append(f"{int(d['percent'])}%")
    elif entry.action == "deadline" or entry.action.startswith("extension"):
        if d.get("from"):
            parts.append(f"{escape(_when(page, d['from']))} → <b>{escape(_when(page, d.get('to')))}</b>")
        elif d.get("to"):
            parts.append(f"→ <b>{escape(_when(page, d['to']))}</b>")
    elif entry.action == "reassign":
        parts.append(f"{escape(d.get('from', ''))} → <b>{escape(d.get('to', ''))}</b>")
    elif entry.action == "evidence":
        parts.append(escape(d.get("filename") or d.get("kind", "")))
    elif entry.action == "remind" and d.get("agency"):
        parts.append(escape(d["agency"]))
    for key in ("reason", "note"):
        if d.get(key):
            parts.append(f"<i>{escape(d[key])}</i>")
    if entry.action not in KNOWN:
        parts += [f"<b>{escape(k)}</b> {escape(v)}" for k, v in d.items() if not str(k).startswith("prev_")]
    return Markup(" · ".join(parts))
