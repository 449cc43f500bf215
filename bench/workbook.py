"""Benchmark: the coordinators' workbook and chart for a huge event (5,000 tasks).

    .venv/bin/python bench/workbook.py [--tasks 5000] [--samples docs/reports]

The event is the bundled ceremony plan (58 duties, 17 agencies) copied until it has --tasks
tasks, with a deterministic mix of outcomes (on time, late, overdue, blocked, extended,
cancelled) and an audit trail, as `event_export` would return it; no database is involved.
Prints a table (what, tasks, seconds, bytes) and, as its LAST line, one JSON object with the
figures. --samples DIR also writes the 58-task sample workbook, chart and messages used in
docs/reports.md. A benchmark, not a test: no target is set for these times, so there is no `ok`
(its figures are for reading, not for passing). Friendlier than production: no database read
(the export is built in memory), no sending of the file.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.i18n import Texts, strip_html  # noqa: E402
from bot.render.aftermath import after_action_text  # noqa: E402
from bot.render.chart import chart_png  # noqa: E402
from bot.render.digest import digest_text  # noqa: E402
from bot.render.export import to_csv  # noqa: E402
from bot.render.xlsx import workbook_bytes  # noqa: E402
from workflows.plan import plan_tasks  # noqa: E402
from workflows.spec import bundled_templates_dir, load_template  # noqa: E402

try:  # the shared bench helpers (table for people, last-line JSON for scripts)
    from bench._common import emit, machine_note, table  # noqa: E402
except ImportError:  # pragma: no cover - run without them

    def table(headers, rows, *, title=None, out=sys.stdout):
        if title:
            print(title, file=out)
        print("  ".join(f"{h:>10}" for h in headers), file=out)
        for r in rows:
            print("  ".join(f"{c!s:>10}" for c in r), file=out)

    def emit(figures: dict) -> None:
        print(json.dumps(figures, ensure_ascii=False), flush=True)

    def machine_note() -> dict:
        return {}


TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 6, 11, 7, 0, tzinfo=TZ)
NOW = datetime(2026, 6, 4, 8, 0, tzinfo=TZ)  # a week before the ceremony
REASONS = (
    "chờ kinh phí bổ sung",
    "nhà in giao chậm",
    "chưa có danh sách đại biểu",
    "thiếu xe chuyên dụng",
    "chờ Thường trực UBND tỉnh duyệt",
    "địa điểm đang sửa chữa",
)
NOTES = ("đã gửi văn bản", "đã bố trí đủ lực lượng", "đang rà soát lần cuối", "đã liên hệ đơn vị phối hợp")


def ceremony_data(n_tasks: int = 58, now: datetime = NOW, *, seed: int = 5, ended: bool = False) -> dict:
    """An export dict of the ceremony plan with `n_tasks` tasks (the 58 duties repeated)."""
    tpl = load_template(bundled_templates_dir() / "ceremony.toml")
    planned = plan_tasks(tpl, START.astimezone(timezone.utc))
    rnd = random.Random(seed)
    tasks = []
    for i in range(n_tasks):
        p = planned[i % len(planned)]
        copy = i // len(planned)
        code = p.code if copy == 0 else f"{p.code}.{copy + 1}"
        tasks.append(_outcome(rnd, i + 1, code, p, now, ended))
    agencies = {a.code: {"name": a.name, "name_en": a.name_en} for a in tpl.agencies}
    return {
        "event": {
            "id": 1,
            "name": tpl.name,
            "template": "ceremony",
            "start": START.isoformat(),
            "launched": True,
            "ended": ended,
            "ended_at": now.isoformat() if ended else None,
            "timezone": "Asia/Ho_Chi_Minh",
            "exported_at": now.isoformat(),
        },
        "agencies": agencies,
        "phases": [{"code": ph.code, "name": ph.name, "name_en": ph.name_en} for ph in tpl.phases],
        "tasks": tasks,
    }


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(TZ).isoformat() if dt else None


def _outcome(rnd: random.Random, number: int, code: str, p, now: datetime, ended: bool = False) -> dict:
    deadline = original = p.deadline.astimezone(TZ)
    actor = p.lead.lower()
    audit: list[dict] = []

    def log(at, action, who=actor, **detail):
        audit.append(
            {
                "at": _iso(at),
                "actor": who,
                "channel": rnd.choice(("telegram", "zalo")),
                "action": action,
                "detail": detail,
            }
        )

    status, percent, completed, reason, note = "todo", 0, None, None, None
    r = rnd.random()
    launched = START - timedelta(days=85)
    if r < 0.03:
        status = "cancelled"
        log(launched + timedelta(days=3), "status", "coord", **{"from": "todo", "to": "cancelled", "percent": 0})
    elif original < now:
        if r < 0.10:  # extended by an approved request, then done before the new deadline
            deadline = original + timedelta(days=rnd.choice((2, 3, 5)))
            asked = original - timedelta(days=1)
            log(asked, "extension_requested", request=number, to=_iso(deadline), reason=rnd.choice(REASONS))
            log(asked + timedelta(hours=3), "extension_approved", "coord", request=number, to=_iso(deadline))
        if r < 0.80:
            status, percent = "done", 100
            late = rnd.random() < 0.15 or r < 0.10
            completed = (
                original + timedelta(hours=rnd.randint(2, 60))
                if late
                else original - timedelta(hours=rnd.randint(1, 72))
            )
            completed = min(completed, now - timedelta(minutes=5))
            note = rnd.choice(NOTES)
            log(completed, "status", **{"from": "in_progress", "to": "done", "percent": 100, "note": note})
            if rnd.random() < 0.5:
                log(completed + timedelta(minutes=2), "evidence", kind="photo", size=240_000, filename="anh.jpg")
        elif r < 0.90:
            status, percent = "blocked", rnd.choice((20, 40, 60))
            reason = rnd.choice(REASONS)
            log(
                max(original - timedelta(days=2), launched),
                "status",
                **{"from": "in_progress", "to": "blocked", "percent": percent, "reason": reason},
            )
            if ended and r < 0.87:  # unblocked in the end, and finished late
                status, percent, reason = "done", 100, None
                completed = min(original + timedelta(hours=rnd.randint(6, 96)), now - timedelta(hours=1))
                log(completed, "status", **{"from": "blocked", "to": "done", "percent": 100})
        elif ended and r < 0.97:
            status, percent = "done", 100
            completed = min(original + timedelta(hours=rnd.randint(1, 30)), now - timedelta(hours=1))
            log(completed, "status", **{"from": "in_progress", "to": "done", "percent": 100})
        else:
            status, percent = "in_progress", rnd.choice((30, 50, 70, 90))
            note = rnd.choice(NOTES)
            log(
                now - timedelta(hours=rnd.randint(2, 40)),
                "status",
                **{"from": "acknowledged", "to": "in_progress", "percent": percent, "note": note},
            )
    else:
        if r < 0.12:
            status, percent = "done", 100
            completed = now - timedelta(hours=rnd.randint(1, 100))
            log(completed, "status", **{"from": "todo", "to": "done", "percent": 100})
        elif r < 0.35:
            status, percent = "in_progress", rnd.choice((10, 30, 50, 70))
            log(
                now - timedelta(hours=rnd.randint(1, 60)),
                "status",
                **{"from": "acknowledged", "to": "in_progress", "percent": percent},
            )
        elif r < 0.40:
            status, reason = "blocked", rnd.choice(REASONS)
            log(
                now - timedelta(hours=rnd.randint(1, 30)),
                "status",
                **{"from": "acknowledged", "to": "blocked", "percent": 0, "reason": reason},
            )
        elif r < 0.75:
            status = "acknowledged" if not p.depends_on else "waiting"
        else:
            status = "todo" if not p.depends_on else "waiting"
        if r > 0.97:  # a coordinator moved the deadline later by hand
            deadline = original + timedelta(days=1)
            log(
                now - timedelta(hours=20),
                "deadline",
                "coord",
                **{"from": _iso(original), "to": _iso(deadline), "reason": "đổi lịch tổng duyệt"},
            )
    return {
        "number": number,
        "code": code,
        "title": p.title,
        "title_en": p.title_en,
        "phase": p.phase,
        "lead": p.lead,
        "supporting": list(p.supporting),
        "depends_on": list(p.depends_on),
        "deadline": _iso(deadline),
        "original_deadline": _iso(original),
        "status": status,
        "overdue": status not in ("done", "cancelled") and deadline < now,
        "percent": percent,
        "blocked_reason": reason,
        "completed_at": _iso(completed),
        "evidence_count": sum(e["action"] == "evidence" for e in audit),
        "last_note": note,
        "audit": audit,
    }


def _timed(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def write_samples(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    vi = Texts("vi", TZ)
    data = ceremony_data(58)
    (folder / "sample-report.xlsx").write_bytes(workbook_bytes(data, vi))
    (folder / "sample-chart.png").write_bytes(chart_png(data, vi))
    (folder / "sample-digest.txt").write_text(strip_html(digest_text(data, vi)) + "\n", encoding="utf-8")
    ended = ceremony_data(58, START + timedelta(days=8), ended=True)
    (folder / "sample-after-action.txt").write_text(strip_html(after_action_text(ended, vi)) + "\n", encoding="utf-8")
    print(f"samples written to {folder}", file=sys.stderr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    ap.add_argument("--samples", type=Path, help="also write the 58-task samples into this folder")
    args = ap.parse_args(argv)
    if args.samples:
        write_samples(args.samples)
    texts = Texts("vi", TZ)
    rows, datas = [], {}
    for n in sorted({58, args.tasks}):
        data = datas[n] = ceremony_data(n)
        audit = sum(len(t["audit"]) for t in data["tasks"])
        for what, fn in (
            ("workbook", lambda: workbook_bytes(data, texts)),
            ("chart", lambda: chart_png(data, texts)),
            ("digest", lambda: digest_text(data, texts).encode()),
            ("csv", lambda: to_csv(data).encode()),
        ):
            seconds, out = _timed(fn, args.repeat)
            rows.append(
                {"what": what, "tasks": n, "audit_rows": audit, "seconds": round(seconds, 3), "bytes": len(out)}
            )
    table(
        ("what", "tasks", "audit rows", "seconds", "bytes"),
        [(r["what"], r["tasks"], r["audit_rows"], r["seconds"], r["bytes"]) for r in rows],
        title=f"reports for the ceremony plan repeated to {args.tasks} tasks (best of {args.repeat})",
    )
    big = {r["what"]: r for r in rows if r["tasks"] == args.tasks}
    emit(
        {
            "tasks": args.tasks,
            "repeat": args.repeat,
            "workbook_seconds": big["workbook"]["seconds"],
            "workbook_bytes": big["workbook"]["bytes"],
            "chart_seconds": big["chart"]["seconds"],
            "chart_bytes": big["chart"]["bytes"],
            "digest_chars": len(digest_text(datas[args.tasks], texts)),
            **machine_note(),
            "rows": rows,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
