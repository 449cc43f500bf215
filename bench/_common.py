"""Shared helpers for the benchmarks in bench/: a plain-text table for people, then the figures.

Every benchmark prints its table(s) and, as its LAST line, one JSON object with its figures
(`emit`), so a script can read the result with `tail -n 1 | python -m json.tool`.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def fmt(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence], *, title: str | None = None,
          out=sys.stdout) -> None:
    """Print rows under headers, columns aligned (numbers to the right)."""
    rows = [[fmt(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    if title:
        print(title, file=out)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print("  ".join(c.rjust(w) if c[:1].isdigit() or c[:1] == "-" and c[1:2].isdigit() else c.ljust(w)
                        for c, w in zip(r, widths)), file=out)
    print(file=out)


def emit(figures: dict) -> None:
    """The last line of a benchmark's output: one JSON object with its figures."""
    sys.stdout.flush()
    print(json.dumps(figures, ensure_ascii=False, sort_keys=False, default=str), flush=True)


def machine_note() -> dict:
    """What may have disturbed the timings: cores and the load when the run ended."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {"cores": os.cpu_count(), "load_1m": round(load[0], 2)}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
