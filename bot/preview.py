"""Seeing messages before they happen: a plan's or an event's message timeline, no sends.

Assumes nobody answers (the worst case a coordinator wants to check): every assignment at
launch, every reminder, overdue message, escalation, cue and check-in the policy would
produce, plus the coordinators' daily digest. Each item has the shape of PRODUCT.md:
{"at", "kind", "task", "agency", "recipient", "text"}.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from bot.i18n import Texts, strip_html
from bot.notify import render_notice
from workflows.chase import slot_notice, timeline
from workflows.plan import plan_tasks
from workflows.ports import Notice
from workflows.reminders import Policy


def plan_as_tasks(template, start: datetime) -> list[SimpleNamespace]:
    """A template's tasks at `start` as the plain records the engine reads (nothing stored)."""
    return [
        SimpleNamespace(
            id=p.number,
            number=p.number,
            code=p.code,
            title=p.title,
            title_en=p.title_en,
            lead=p.lead,
            status="todo",
            deadline=p.deadline,
            original_deadline=p.deadline,
            is_cue=p.is_cue,
            depends_on=p.depends_on,
            acknowledged_at=None,
            reminders=p.reminders,
        )
        for p in plan_tasks(template, start)
    ]


def default_launch(tasks, now: datetime) -> datetime:
    """An unlaunched plan is assumed launched now, or a day before its first deadline if that is past."""
    first = min(t.deadline for t in tasks)
    return now if now < first else first - timedelta(days=1)


def messages(
    tasks,
    *,
    launched_at: datetime,
    reminders: dict | None,
    base: Policy,
    tz: ZoneInfo,
    texts: Texts,
    until: datetime,
    since: datetime | None = None,
    digest_time: time = time(7, 30),
    assignments: bool = True,
    event_name: str = "",
) -> list[dict]:
    """Every message, in time order, from `since` (default: launch) to `until`."""
    since = since or launched_at
    event = SimpleNamespace(launched_at=launched_at, reminders=reminders)
    out: list[dict] = []
    if assignments and launched_at >= since:
        for t in sorted(tasks, key=lambda t: (t.deadline, t.number)):
            if t.status in ("done", "cancelled"):
                continue
            n = Notice(
                key="assignment",
                to="agency",
                params={"code": t.code, "title": t.title, "title_en": t.title_en, "deadline": t.deadline},
            )
            out.append(_item(launched_at, "assignment", t.code, t.lead, "contact", render_notice(texts, n), tz))
    for t, slot in timeline(tasks, event, base, tz, until=until):
        if slot.send_at < since:
            continue
        n = slot_notice(t, slot, late=False)
        out.append(_item(slot.send_at, slot.kind, t.code, t.lead, slot.recipient, render_notice(texts, n), tz))
    day = since.astimezone(tz).date()
    while True:
        at = datetime.combine(day, digest_time, tzinfo=tz)
        if at > until:
            break
        if at >= since:
            out.append(
                _item(
                    at,
                    "digest",
                    None,
                    None,
                    "coordinator",
                    strip_html(texts("digest.head", event=event_name, date=at.strftime("%d/%m"))),
                    tz,
                )
            )
        day += timedelta(days=1)
    out.sort(key=lambda m: (m["at"], m["task"] or ""))
    return out


def _item(
    at: datetime, kind: str, task: str | None, agency: str | None, recipient: str, text: str, tz: ZoneInfo
) -> dict:
    return {
        "at": at.astimezone(tz).isoformat(),
        "kind": kind,
        "task": task,
        "agency": agency,
        "recipient": recipient,
        "text": strip_html(text),
    }


def format_text(items: list[dict]) -> str:
    """One line per message for people: time, kind, task, agency → recipient, first line of text."""
    lines = []
    for m in items:
        head = m["text"].splitlines()[0] if m["text"] else ""
        who = f"{m['agency'] or '-'}→{m['recipient']}"
        lines.append(f"{m['at'][:16].replace('T', ' ')}  {m['kind']:<11} {m['task'] or '-':<6} {who:<18} {head[:80]}")
    return "\n".join(lines)


_CHAT_LINES = 40  # messages listed in a chat answer before "... and N more"


def chat_text(texts, items: list[dict], target: str) -> str:
    """/preview's answer: the first messages to come, one line each, in the reader's language."""
    lines = [texts("preview.head", count=len(items), target=target)]
    for m in items[:_CHAT_LINES]:
        kind, recipient = f"preview_kind.{m['kind']}", f"recipient.{m['recipient']}"
        lines.append(
            texts(
                "preview.line",
                at=datetime.fromisoformat(m["at"]),
                task=m["task"] or "—",
                kind=texts(kind) if texts.has(kind) else m["kind"],
                agency=m["agency"] or "—",
                recipient=texts(recipient) if texts.has(recipient) else m["recipient"],
            )
        )
    if len(items) > _CHAT_LINES:
        lines.append(texts("preview.more", count=len(items) - _CHAT_LINES))
    return "\n".join(lines)
