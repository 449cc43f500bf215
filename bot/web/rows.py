"""The two long tables (the board's agency rows, the run-of-show's cues) as HTML built in Python.

Why not in the template: with 500 agencies or hundreds of cues, Jinja escaping every cell
(tens of thousands of calls) cost more than everything else on the page together. Numbers
need no escaping; every string from people or templates goes through `escape`.
"""

from __future__ import annotations

from markupsafe import Markup, escape


def bar(pct: int, cls: str = "") -> str:
    # SVG attributes, not inline styles: the page's CSP allows no inline style.
    return (
        f'<svg class="bar {cls}" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
        f'aria-label="{pct}%"><rect class="bg" width="100" height="10"/>'
        f'<rect class="fg" width="{pct}" height="10"/></svg>'
    )


def agency_rows(rows, statuses, event_id: int) -> Markup:
    out = []
    for r in rows:
        counts = r.counts
        cells = "".join(
            [f'<td class="num{"" if counts[s] else " zero"}" data-count="{s}">{counts[s]}</td>' for s in statuses]
        )
        pct, rate = r.percent, r.on_time  # each a computation: once per row
        on_time = f"{rate}%" if rate is not None else "—"
        trouble = ' class="trouble"' if r.overdue or counts["blocked"] else ""
        code = escape(r.code)
        out.append(
            f'<tr data-agency="{code}"{trouble}><th><a href="/web/agency/{code}?event={event_id}">{code}</a> '
            f'<span class="muted name">{escape(r.name)}</span></th>'
            f'<td class="num" data-count="total">{r.total}</td>{cells}'
            f'<td class="num {"bad" if r.overdue else "zero"}" data-count="overdue">{r.overdue}</td>'
            f'<td class="prog">{bar(pct)}<small>{pct}%</small></td><td class="num">{on_time}</td></tr>'
        )
    return Markup("\n".join(out))


def cue_rows(cues, page) -> Markup:
    labels = {s: page.t(f"web.show.{s}") for s in ("ready", "asked", "escalated", "upcoming", "cancelled")}
    out = []
    for c in cues:
        t = c["task"]
        reason = (
            f'<br><span class="warn">{escape(t.blocked_reason)}</span>' if c["blocked"] and t.blocked_reason else ""
        )
        out.append(
            f'<tr data-task="{escape(t.code)}" data-state="{c["state"]}" class="cue {c["state"]}'
            f'{" escalated" if c["escalated"] else ""}"><td class="time">{page.clock(t.deadline)}<br>'
            f'<small class="muted">{page.short(t.deadline)[:5]}</small></td>'
            f'<td><a href="/web/task/{t.id}"><b>{escape(t.code)}</b> {escape(page.title(t))}</a>{reason}</td>'
            f'<td><span class="tag">{escape(t.lead)}</span></td>'
            f'<td><span class="pill {c["state"]}">{labels[c["state"]]}</span></td></tr>'
        )
    return Markup("\n".join(out))


def timeline_dots(dots, page) -> Markup:
    """One phase's dots (a 5,000-task event has 5,000 of them; see the module's docstring)."""
    labels = {"overdue": page.t("web.col.overdue")}
    out = []
    for dot in dots:
        t, state = dot["task"], dot["state"]
        label = labels.get(state) or labels.setdefault(state, escape(page.status(state)))
        out.append(
            f'<a href="/web/task/{t.id}"><rect class="dot st-{state}" x="{dot["x"] - 0.3}" y="2" width="0.6" '
            f'height="8"><title>{escape(t.code)} · {escape(page.title(t))} · {page.short(t.deadline)} · '
            f"{label}</title></rect></a>"
        )
    return Markup("".join(out))
