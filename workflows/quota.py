"""The evidence quota of an agency: how many bytes of files its tasks may hold.

Evidence counts against the lead agency of the task it is attached to. A file that would take
the agency past its quota is refused (nothing stored); the coordinators are told once per
agency and quota, the first time it is reached.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.ports import Notice, Store, TaskRecord


@dataclass(frozen=True)
class QuotaRefusal:
    """Why a file was not stored, with what to tell the coordinators (deduplicated per agency)."""

    agency: str
    used: int
    limit: int
    size: int
    notice: Notice


def check_agency_quota(store: Store, task: TaskRecord, size: int, limit: int) -> QuotaRefusal | None:
    """None when `size` more bytes fit in the quota of `task`'s lead agency."""
    used = store.evidence_bytes_of_agency(task.lead)
    if used + size <= limit:
        return None
    notice = Notice(
        key="evidence_quota_reached",
        to="coordinators",
        kind="news",
        urgent=True,
        params={"agency": task.lead, "used": mib(used), "limit": mib(limit)},
        dedupe_key=f"evidence_quota:{task.lead}:{limit}",
    )
    return QuotaRefusal(task.lead, used, limit, size, notice)


def mib(n: int) -> str:
    """A size as people read it: '12.5 MB' (MiB, one decimal), '0.3 MB' for small files."""
    return f"{n / 1024**2:.1f} MB"
