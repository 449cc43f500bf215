"""The figures every report shares, and the after-action review of an event.

Everything here reads the export dict (`bot.render.export.event_export`) and nothing else, so the
workbook, the chart, the digest and the after-action message tell the same truth as the chat.

Definitions (PRODUCT.md: on-time statistics count against the **original** deadline):
- a task is *done on time* when it was completed at or before its original deadline, *done late*
  otherwise; cancelled tasks are left out of every count except `cancelled`;
- *overdue*: open (not done, not cancelled) and past its current deadline at `now`; *blocked*:
  status blocked. The two overlap (a blocked task can be overdue), as in /status;
- *due*: the tasks that should be finished by `now`: done ones plus open ones whose original
  deadline has passed; the *on-time rate* is done-on-time / due (None when nothing is due yet);
- *delay*: completion (or `now`, for a task still open) minus the original deadline;
- *extensions granted*: approved extension requests, and deadlines a coordinator moved later
  by hand (`deadline` audit entries); an event move is not an extension.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import Safe, Texts
from workflows.clock import utc_now

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
OPEN_NOT_STARTED = frozenset({"todo", "acknowledged", "waiting"})
# Mutually exclusive states for charts, in stacking order (a blocked task that is also overdue
# counts as blocked: the reason is what a coordinator acts on).
CATEGORIES = ("done_on_time", "done_late", "in_progress", "blocked", "overdue", "not_started")


# -- time ------------------------------------------------------------------------------------
def event_tz(data: dict, fallback: ZoneInfo | None = None) -> ZoneInfo:
    name = (data.get("event") or {}).get("timezone")
    if name:
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError):
            pass
    return fallback or ZoneInfo(DEFAULT_TZ)


def parse_time(value, tz: ZoneInfo) -> datetime | None:
    """An ISO string (or datetime) as an aware datetime in `tz`; naive values are taken as local."""
    if value is None or value == "":
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)


def report_now(data: dict, now: datetime | None = None, tz: ZoneInfo | None = None) -> datetime:
    """`now` if given, else the export's own time, else the wall clock, in the event's zone."""
    tz = tz or event_tz(data)
    if now is not None:
        return parse_time(now, tz)
    exported = (data.get("event") or {}).get("exported_at")
    return parse_time(exported, tz) if exported else utc_now().astimezone(tz)


# -- one task --------------------------------------------------------------------------------
class TaskView:
    """A task of the export with its times parsed once and its derived states at `now`."""

    __slots__ = ("raw", "deadline", "original", "completed", "status", "is_open", "overdue", "on_time",
                 "due", "category")

    def __init__(self, raw: dict, tz: ZoneInfo, now: datetime) -> None:
        self.raw = raw
        self.status = raw.get("status") or "todo"
        self.deadline = parse_time(raw.get("deadline"), tz)
        self.original = parse_time(raw.get("original_deadline"), tz) or self.deadline
        self.completed = parse_time(raw.get("completed_at"), tz)
        self.is_open = self.status not in ("done", "cancelled")
        if self.deadline is not None:
            self.overdue = self.is_open and self.deadline < now
        else:
            self.overdue = self.is_open and bool(raw.get("overdue"))
        self.on_time: bool | None = None
        if self.status == "done":
            self.on_time = self.completed is None or self.original is None or self.completed <= self.original
        # Should be finished by now: counts in the on-time rate's denominator.
        self.due = self.status == "done" or (self.is_open and self.original is not None and self.original < now)
        self.category = _category(self)


def _category(v: TaskView) -> str | None:
    if v.status == "cancelled":
        return None
    if v.status == "done":
        return "done_on_time" if v.on_time else "done_late"
    if v.status == "blocked":
        return "blocked"
    if v.overdue:
        return "overdue"
    if v.status == "in_progress":
        return "in_progress"
    return "not_started"


def views(data: dict, now: datetime, tz: ZoneInfo) -> list[TaskView]:
    return [TaskView(t, tz, now) for t in data.get("tasks") or []]


def tally(tasks: list[TaskView]) -> dict:
    """Counts for a group of tasks (see the module docstring for the definitions).

    `overdue` and `blocked` may overlap; `by_category` splits `total` into CATEGORIES exactly.
    """
    out = {"total": 0, "cancelled": 0, "done": 0, "on_time": 0, "late": 0, "open": 0, "overdue": 0,
           "blocked": 0, "due": 0, "by_category": dict.fromkeys(CATEGORIES, 0)}
    for v in tasks:
        if v.status == "cancelled":
            out["cancelled"] += 1
            continue
        out["total"] += 1
        out["by_category"][v.category] += 1
        if v.status == "done":
            out["done"] += 1
            out["on_time" if v.on_time else "late"] += 1
            out["due"] += 1
            continue
        out["open"] += 1
        out["overdue"] += v.overdue
        out["blocked"] += v.status == "blocked"
        out["due"] += v.due
    out["on_time_rate"] = out["on_time"] / out["due"] if out["due"] else None
    return out


def agency_name(data: dict, code: str, lang: str) -> str:
    info = (data.get("agencies") or {}).get(code) or {}
    if isinstance(info, str):
        return info
    return (info.get("name_en") if lang == "en" else None) or info.get("name") or code


def phase_name(data: dict, code: str, lang: str) -> str:
    for p in data.get("phases") or []:
        if p.get("code") == code:
            return (p.get("name_en") if lang == "en" else None) or p.get("name") or code
    return code


def task_title(task: dict, lang: str) -> str:
    return (task.get("title_en") if lang == "en" else None) or task.get("title") or ""


def by_agency(tasks: list[TaskView]) -> list[tuple[str, dict]]:
    """(agency code, tally) for every lead agency, by code."""
    groups: dict[str, list[TaskView]] = {}
    for v in tasks:
        groups.setdefault(v.raw.get("lead") or "?", []).append(v)
    return [(code, tally(groups[code])) for code in sorted(groups)]


# -- the after-action review ----------------------------------------------------------------
def after_action(data: dict, now: datetime | None = None) -> dict:
    """On-time rate per agency, longest delays, why things were blocked, extensions granted.

    Returns plain Python values (aware datetimes in the event's zone, timedeltas):
    `{"event", "ended", "as_of", "totals", "agencies": [{"agency", ...tally}] (worst rate first),
      "delays": [{"code", "title", "lead", "original_deadline", "deadline", "completed_at", "delay", "open"}],
      "blocked": [{"code", "title", "lead", "at", "actor", "reason", "until", "duration", "still"}],
      "extensions": [{"code", "title", "lead", "at", "actor", "kind", "from", "to", "added", "reason"}]}`
    """
    tz = event_tz(data)
    now = report_now(data, now, tz)
    vs = views(data, now, tz)
    agencies = [{"agency": code, **t} for code, t in by_agency(vs)]
    agencies.sort(key=lambda a: (a["on_time_rate"] is None, a["on_time_rate"] if a["on_time_rate"] is not None else 0,
                                 -a["late"] - a["overdue"], a["agency"]))
    delays, blocked, extensions = [], [], []
    for v in vs:
        t = v.raw
        base = {"code": t.get("code"), "title": t.get("title"), "title_en": t.get("title_en") or "",
                "lead": t.get("lead")}
        if v.status != "cancelled" and v.original is not None:
            end = v.completed if v.status == "done" and v.completed else now
            if end > v.original:
                delays.append({**base, "original_deadline": v.original, "deadline": v.deadline,
                               "completed_at": v.completed if v.status == "done" else None,
                               "delay": end - v.original, "open": v.status != "done"})
        blocked += _blocked_spells(t, v, base, tz, now)
        extensions += _extensions(t, v, base, tz)
    delays.sort(key=lambda d: (-d["delay"].total_seconds(), d["code"] or ""))
    blocked.sort(key=lambda b: (b["at"] is None, b["at"] or now, b["code"] or ""))
    extensions.sort(key=lambda e: (e["at"] or now, e["code"] or ""))
    event = data.get("event") or {}
    return {"event": event, "ended": bool(event.get("ended")), "as_of": now, "totals": tally(vs),
            "agencies": agencies, "delays": delays, "blocked": blocked, "extensions": extensions}


def _sorted_audit(t: dict, tz: ZoneInfo) -> list[tuple[datetime | None, dict]]:
    entries = [(parse_time(e.get("at"), tz), e) for e in t.get("audit") or []]
    return sorted(entries, key=lambda p: (p[0] is None, p[0] or datetime.min.replace(tzinfo=tz)))


def _blocked_spells(t: dict, v: TaskView, base: dict, tz: ZoneInfo, now: datetime) -> list[dict]:
    spells: list[dict] = []
    current: dict | None = None
    for at, e in _sorted_audit(t, tz):
        if e.get("action") != "status":
            continue
        detail = e.get("detail") or {}
        if current is not None:
            current["until"] = at
            current["duration"] = at - current["at"] if at and current["at"] else None
            current = None
        if detail.get("to") == "blocked":
            current = {**base, "at": at, "actor": e.get("actor") or "", "reason": detail.get("reason") or "",
                       "until": None, "duration": None, "still": False}
            spells.append(current)
    if current is not None:
        current["still"] = v.status == "blocked"
        current["duration"] = now - current["at"] if current["at"] and current["still"] else None
    if not spells and v.status == "blocked" and t.get("blocked_reason"):
        spells.append({**base, "at": None, "actor": "", "reason": t["blocked_reason"], "until": None,
                       "duration": None, "still": True})
    return spells


def _extensions(t: dict, v: TaskView, base: dict, tz: ZoneInfo) -> list[dict]:
    out: list[dict] = []
    reasons: dict = {}
    current = v.original
    for at, e in _sorted_audit(t, tz):
        action, detail = e.get("action"), e.get("detail") or {}
        if action == "extension_requested":
            reasons[detail.get("request")] = detail.get("reason") or ""
        if action not in ("deadline", "extension_approved", "deadline_moved"):
            continue
        old = parse_time(detail.get("from"), tz) or current
        new = parse_time(detail.get("to"), tz)
        if new is None:
            continue
        current = new
        if action == "deadline_moved":
            continue  # the whole event moved: not an extension
        if old is not None and new <= old:
            continue  # brought forward: not an extension
        out.append({**base, "at": at, "actor": e.get("actor") or "",
                    "kind": "approved" if action == "extension_approved" else "set",
                    "from": old, "to": new, "added": new - old if old else None,
                    "reason": (reasons.get(detail.get("request"), "") if action == "extension_approved"
                               else detail.get("reason") or "")})
    return out


# -- formatting shared by the messages -------------------------------------------------------
def fmt_duration(texts: Texts, td: timedelta | None) -> Safe:
    if td is None:
        return texts("rpt.unit.unknown")
    hours = td.total_seconds() / 3600
    if hours < 24:
        return texts("rpt.unit.hours", n=max(1, round(hours)))
    days = f"{hours / 24:.1f}".rstrip("0").rstrip(".")
    return texts("rpt.unit.days", n=days.replace(".", str(texts("rpt.unit.decimal"))))


def fmt_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 100)}%"


def capped(texts: Texts, items: list, limit: int, sep: str = ", ") -> Safe:
    """The first `limit` items (already Safe or plain) joined, with "+N more" for the rest."""
    shown = [texts.value(i) for i in items[:limit]]
    if len(items) > limit:
        shown.append(texts("rpt.more", count=len(items) - limit))
    return Safe(sep.join(shown))


def short(text: str | None, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def after_action_text(data: dict, texts: Texts, now: datetime | None = None, *, limit: int = 5) -> str:
    """The after-action review as a chat message (Telegram HTML, user text escaped)."""
    aar = after_action(data, now)
    lang = texts.lang
    event = aar["event"]
    lines = [texts("rpt.aar.head", event=event.get("name") or "", at=aar["as_of"])]
    if not aar["ended"]:
        lines.append(texts("rpt.aar.provisional"))
    tot = aar["totals"]
    if not tot["total"] and not tot["cancelled"]:
        lines.append(texts("rpt.common.no_tasks"))
        return "\n".join(lines)
    lines.append(texts("rpt.aar.overall", on_time=tot["on_time"], due=tot["due"], rate=fmt_rate(tot["on_time_rate"]),
                       late=tot["late"], open=tot["open"], cancelled=tot["cancelled"]))
    rated = [a for a in aar["agencies"] if a["on_time_rate"] is not None]
    if rated:
        lines.append("")
        lines.append(texts("rpt.aar.rates_head"))
        items = [texts("rpt.aar.rate_item", agency=a["agency"], rate=fmt_rate(a["on_time_rate"]),
                       on_time=a["on_time"], due=a["due"]) for a in rated]
        lines.append(capped(texts, items, 2 * limit, " · "))
    lines.append("")
    lines.append(texts("rpt.aar.delays_head"))
    if aar["delays"]:
        for d in aar["delays"][:limit]:
            lines.append(texts("rpt.aar.delay_open" if d["open"] else "rpt.aar.delay_line", code=d["code"],
                               lead=d["lead"], delay=fmt_duration(texts, d["delay"]),
                               title=short(task_title(d, lang), 50)))
        if len(aar["delays"]) > limit:
            lines.append(texts("rpt.more_line", count=len(aar["delays"]) - limit))
    else:
        lines.append(texts("rpt.aar.no_delays"))
    lines.append("")
    lines.append(texts("rpt.aar.blocked_head"))
    if aar["blocked"]:
        for b in aar["blocked"][:limit]:
            lines.append(texts("rpt.aar.blocked_line", code=b["code"], lead=b["lead"], reason=short(b["reason"], 70),
                               duration=texts("rpt.aar.blocked_for", duration=fmt_duration(texts, b["duration"]))
                               if b["duration"] else ""))
        if len(aar["blocked"]) > limit:
            lines.append(texts("rpt.more_line", count=len(aar["blocked"]) - limit))
    else:
        lines.append(texts("rpt.aar.no_blocked"))
    lines.append("")
    lines.append(texts("rpt.aar.ext_head", count=len(aar["extensions"])))
    if aar["extensions"]:
        for x in aar["extensions"][:limit]:
            lines.append(texts("rpt.aar.ext_line", code=x["code"], lead=x["lead"], old=x["from"], new=x["to"],
                               added=fmt_duration(texts, x["added"]),
                               reason=texts("rpt.aar.reason", text=short(x["reason"], 60)) if x["reason"] else ""))
        if len(aar["extensions"]) > limit:
            lines.append(texts("rpt.more_line", count=len(aar["extensions"]) - limit))
    else:
        lines.append(texts("rpt.aar.no_ext"))
    return "\n".join(lines)
