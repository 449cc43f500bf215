"""Progress pictures (matplotlib, Agg backend, no pyplot global state).

- `progress_chart_png`: stacked horizontal bars per lead agency: done on time, done late, in
  progress, blocked, overdue, not started (mutually exclusive; see workflows.report_figures);
- `timeline_chart_png`: one row per phase spanning its first to last deadline, each task a dot
  at its deadline coloured by state, the event start and "today" marked;
- `chart_png`: both panels in one figure (what /chart sends as a photo).

Text is drawn in DejaVu Sans (bundled with matplotlib), which has every Vietnamese letter.
Rendering is serialised by a lock: matplotlib's font cache and rc parameters are process-wide.
"""

from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")

from matplotlib import dates as mdates  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from bot.i18n import Texts, strip_html  # noqa: E402
from workflows.report_figures import CATEGORIES, Tally, by_agency, event_tz, parse_time, report_now, tally, views  # noqa: E402
from workflows.report_model import EventReport, as_report  # noqa: E402

COLORS = {"done_on_time": "#2E7D32", "done_late": "#9CCC65", "in_progress": "#1E88E5", "blocked": "#FB8C00",
          "overdue": "#E53935", "not_started": "#BDBDBD"}
MAX_BARS = 30          # agencies drawn one by one; the rest are summed into one "others" bar
DPI = 110
WIDTH = 10.0           # inches
_RC = {"font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 11, "axes.titleweight": "bold",
       "svg.fonttype": "none"}
_LOCK = threading.Lock()


def _literal(text: str) -> str:
    """Text drawn as it is: a pair of "$" in a name would otherwise start mathtext (and may not parse)."""
    return text.replace("$", r"\$")


def _plain(texts: Texts, key: str, **params) -> str:
    return _literal(strip_html(texts(key, **params)))


def _progress_height(n_agencies: int) -> float:
    return 1.6 + 0.30 * max(n_agencies, 1)


def _timeline_height(n_phases: int) -> float:
    return 1.8 + 0.55 * max(n_phases, 1)


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _prepare(report: EventReport, texts: Texts, now):
    tz = event_tz(report, texts.tz)
    now = report_now(report, now, tz)
    return tz, now, views(report, now, tz)


def progress_chart_png(data: EventReport | dict, texts: Texts, now: datetime | None = None) -> bytes:
    data = as_report(data)
    tz, now, vs = _prepare(data, texts, now)
    rows = _agency_rows(texts, vs)
    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH, _progress_height(len(rows))), layout="constrained")
        _draw_progress(fig.add_subplot(), texts, data, vs, rows, now)
        return _png(fig)


def timeline_chart_png(data: EventReport | dict, texts: Texts, now: datetime | None = None) -> bytes:
    data = as_report(data)
    tz, now, vs = _prepare(data, texts, now)
    phases = _phase_rows(data, texts, vs)
    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH, _timeline_height(len(phases))), layout="constrained")
        _draw_timeline(fig.add_subplot(), texts, data, vs, phases, now, tz)
        return _png(fig)


def chart_png(data: EventReport | dict, texts: Texts, now: datetime | None = None) -> bytes:
    """Progress by agency above the phase timeline, in one PNG."""
    data = as_report(data)
    tz, now, vs = _prepare(data, texts, now)
    rows = _agency_rows(texts, vs)
    phases = _phase_rows(data, texts, vs)
    h1, h2 = _progress_height(len(rows)), _timeline_height(len(phases))
    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH, h1 + h2), layout="constrained")
        top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [h1, h2]})
        _draw_progress(top, texts, data, vs, rows, now)
        _draw_timeline(bottom, texts, data, vs, phases, now, tz, categories_in_legend=False)
        return _png(fig)


# -- progress by agency ---------------------------------------------------------------------------
def _agency_rows(texts: Texts, vs) -> list[tuple[str, Tally]]:
    rows = [(code, t) for code, t in by_agency(vs) if t.total]
    if len(rows) <= MAX_BARS:
        return rows
    rows.sort(key=lambda r: (-r[1].total, r[0]))
    keep, rest = rows[: MAX_BARS - 1], rows[MAX_BARS - 1:]
    keep.sort(key=lambda r: r[0])
    other = Tally(total=sum(t.total for _, t in rest), done=sum(t.done for _, t in rest),
                  by_category={c: sum(t.by_category[c] for _, t in rest) for c in CATEGORIES})
    return keep + [(strip_html(texts("rpt.chart.others", count=len(rest))), other)]


def _draw_progress(ax, texts: Texts, data: EventReport, vs, rows, now) -> None:
    tot = tally(vs)
    ax.set_title(_plain(texts, "rpt.chart.progress_title", event=_short(data.event.name, 70),
                        done=tot.done, total=tot.total, at=now), loc="left")
    if not rows:
        _empty(ax, texts)
        return
    labels = [_literal(code) for code, _ in rows]
    y = list(range(len(rows)))
    left = [0] * len(rows)
    for cat in CATEGORIES:
        widths = [t.by_category[cat] for _, t in rows]
        ax.barh(y, widths, left=left, color=COLORS[cat], edgecolor="white", linewidth=0.5, height=0.72,
                label=_plain(texts, f"rpt.chart.cat.{cat}"))
        left = [a + b for a, b in zip(left, widths)]
    for yi, (_, t) in zip(y, rows):
        ax.text(t.total, yi, f"  {t.done}/{t.total}", va="center", fontsize=8, color="#333333")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, max(t.total for _, t in rows) * 1.12 + 0.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(_plain(texts, "rpt.chart.tasks_axis"))
    ax.grid(axis="x", color="#E0E0E0", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


# -- phase timeline ------------------------------------------------------------------------------
def _phase_rows(data: EventReport, texts: Texts, vs) -> list[tuple[str, list]]:
    groups: dict[str, list] = {}
    for v in vs:
        if v.deadline is not None and v.status != "cancelled":
            groups.setdefault(v.task.phase, []).append(v)
    order = [p.code for p in data.phases if p.code in groups]
    order += sorted((c for c in groups if c not in order), key=lambda c: min(v.deadline for v in groups[c]))
    return [(_literal(data.phase_name(c, texts.lang)), groups[c]) for c in order]


def _draw_timeline(ax, texts: Texts, data: EventReport, vs, phases, now: datetime, tz, *,
                   categories_in_legend: bool = True) -> None:
    ax.set_title(_plain(texts, "rpt.chart.timeline_title"), loc="left")
    if not phases:
        _empty(ax, texts)
        return

    def naive(dt: datetime) -> datetime:
        return dt.astimezone(tz).replace(tzinfo=None)

    lo = min(naive(v.deadline) for _, ps in phases for v in ps)
    hi = max(naive(v.deadline) for _, ps in phases for v in ps)
    start = parse_time(data.event.start, tz)
    span = max(hi - lo, timedelta(days=1))
    today = naive(now)
    show_today = lo - span <= today <= hi + span
    left = min(lo, today) if show_today else lo
    right = max(hi, today) if show_today else hi
    pad = max((right - left) * 0.04, timedelta(hours=12))
    min_width = max((right - left) / 150, timedelta(hours=3))
    for i, (_name, ps) in enumerate(phases):
        first, last = min(naive(v.deadline) for v in ps), max(naive(v.deadline) for v in ps)
        width = max(last - first, min_width)
        ax.barh(i, mdates.date2num(first + width) - mdates.date2num(first), left=mdates.date2num(first),
                height=0.55, color="#CFD8DC", edgecolor="#90A4AE", linewidth=0.6, zorder=1)
        done = sum(v.status == "done" for v in ps)
        ax.text(mdates.date2num(first + width), i - 0.36,
                " " + _plain(texts, "rpt.chart.phase_done", done=done, total=len(ps)),
                va="bottom", ha="right" if first + width > right - (right - left) * 0.15 else "left", fontsize=8,
                color="#37474F", zorder=4)
        xs = [mdates.date2num(naive(v.deadline)) for v in ps]
        cols = [COLORS[v.category] for v in ps]
        ax.scatter(xs, [i] * len(xs), c=cols, s=22 if len(ps) < 400 else 6, edgecolors="white", linewidths=0.4,
                   zorder=3)
    ax.set_yticks(range(len(phases)), [name for name, _ in phases])
    ax.set_ylim(len(phases) - 0.4, -0.75)
    ax.set_xlim(mdates.date2num(left - pad), mdates.date2num(right + pad))
    handles = []
    if start is not None and left - pad <= naive(start) <= right + pad:
        ax.axvline(mdates.date2num(naive(start)), color="#37474F", linestyle=":", linewidth=1.2, zorder=2)
        handles.append(Line2D([], [], color="#37474F", linestyle=":", label=_plain(
            texts, "rpt.chart.start", at=naive(start).strftime("%d/%m %H:%M"))))
    if show_today:
        ax.axvline(mdates.date2num(today), color="#C62828", linestyle="--", linewidth=1.4, zorder=5)
        handles.append(Line2D([], [], color="#C62828", linestyle="--",
                              label=_plain(texts, "rpt.chart.today", at=today.strftime("%d/%m %H:%M"))))
    else:
        ax.annotate(_plain(texts, "rpt.chart.today", at=today.strftime("%d/%m/%Y")), xy=(1 if today > hi else 0, 1.0),
                    xycoords="axes fraction", ha="right" if today > hi else "left", va="bottom", color="#C62828",
                    fontsize=8)
    if categories_in_legend:  # in chart_png the progress panel's legend already explains the colours
        present = [c for c in CATEGORIES if any(v.category == c for _, ps in phases for v in ps)]
        handles += [Patch(color=COLORS[c], label=_plain(texts, f"rpt.chart.cat.{c}")) for c in present]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m"))
    ax.grid(axis="x", color="#E0E0E0", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _empty(ax, texts: Texts) -> None:
    ax.text(0.5, 0.5, _plain(texts, "rpt.common.no_tasks"), ha="center", va="center", fontsize=12,
            transform=ax.transAxes, color="#555555")
    ax.set_axis_off()


def _short(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
