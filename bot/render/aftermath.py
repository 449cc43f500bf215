"""The after-action review as a chat message, and the formatting the report messages share.

The figures (on-time rates, delays, blocked spells, extensions) and their definitions are in
`workflows.report_figures`; this module only words them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.i18n import Safe, Texts
from workflows.report_figures import after_action
from workflows.report_model import EventReport, as_report


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


def after_action_text(data: EventReport | dict, texts: Texts, now: datetime | None = None, *, limit: int = 5) -> str:
    """The after-action review as a chat message (Telegram HTML, user text escaped)."""
    aar = after_action(as_report(data), now)
    lang = texts.lang
    lines = [texts("rpt.aar.head", event=aar.event.name, at=aar.as_of)]
    if not aar.ended:
        lines.append(texts("rpt.aar.provisional"))
    tot = aar.totals
    if not tot.total and not tot.cancelled:
        lines.append(texts("rpt.common.no_tasks"))
        return "\n".join(lines)
    lines.append(
        texts(
            "rpt.aar.overall",
            on_time=tot.on_time,
            due=tot.due,
            rate=fmt_rate(tot.on_time_rate),
            late=tot.late,
            open=tot.open,
            cancelled=tot.cancelled,
        )
    )
    rated = [a for a in aar.agencies if a.on_time_rate is not None]
    if rated:
        lines.append("")
        lines.append(texts("rpt.aar.rates_head"))
        items = [
            texts("rpt.aar.rate_item", agency=a.agency, rate=fmt_rate(a.on_time_rate), on_time=a.on_time, due=a.due)
            for a in rated
        ]
        lines.append(capped(texts, items, 2 * limit, " · "))
    lines.append("")
    lines.append(texts("rpt.aar.delays_head"))
    if aar.delays:
        for d in aar.delays[:limit]:
            lines.append(
                texts(
                    "rpt.aar.delay_open" if d.open else "rpt.aar.delay_line",
                    code=d.code,
                    lead=d.task.lead,
                    delay=fmt_duration(texts, d.delay),
                    title=short(d.task.title_in(lang), 50),
                )
            )
        if len(aar.delays) > limit:
            lines.append(texts("rpt.more_line", count=len(aar.delays) - limit))
    else:
        lines.append(texts("rpt.aar.no_delays"))
    lines.append("")
    lines.append(texts("rpt.aar.blocked_head"))
    if aar.blocked:
        for b in aar.blocked[:limit]:
            lines.append(
                texts(
                    "rpt.aar.blocked_line",
                    code=b.code,
                    lead=b.task.lead,
                    reason=short(b.reason, 70),
                    duration=texts("rpt.aar.blocked_for", duration=fmt_duration(texts, b.duration))
                    if b.duration
                    else "",
                )
            )
        if len(aar.blocked) > limit:
            lines.append(texts("rpt.more_line", count=len(aar.blocked) - limit))
    else:
        lines.append(texts("rpt.aar.no_blocked"))
    lines.append("")
    lines.append(texts("rpt.aar.ext_head", count=len(aar.extensions)))
    if aar.extensions:
        for x in aar.extensions[:limit]:
            lines.append(
                texts(
                    "rpt.aar.ext_line",
                    code=x.code,
                    lead=x.task.lead,
                    old=x.old,
                    new=x.new,
                    added=fmt_duration(texts, x.added),
                    reason=texts("rpt.aar.reason", text=short(x.reason, 60)) if x.reason else "",
                )
            )
        if len(aar.extensions) > limit:
            lines.append(texts("rpt.more_line", count=len(aar.extensions) - limit))
    else:
        lines.append(texts("rpt.aar.no_ext"))
    return "\n".join(lines)
