"""The web board's sign-in links and sessions: tokens are kept only as SHA-256 hashes.

A leaked database leaks no usable link or session; a link is claimed with one conditional
UPDATE, so of two browsers opening it at once exactly one gets in.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import namedtuple
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import CursorResult, Text, and_, case, cast, func, or_, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Row
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from storage.models import Agency, AuditEntry, Evidence, ExtensionRequest, ReminderSlot, Task, User, WebLink, WebSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def create_link(s: Session, user_id: int, now: datetime, ttl: timedelta) -> str:
    """A fresh single-use sign-in token for `user_id` (returned once, stored hashed)."""
    token = new_token()
    s.add(WebLink(token_hash=token_hash(token), user_id=user_id, created_at=now, expires_at=now + ttl))
    s.flush()
    return token


def link_state(s: Session, token: str, now: datetime) -> tuple[str, int | None]:
    """('ok'|'used'|'expired'|'unknown', its user id), for the sign-in page; claiming decides."""
    link = s.exec(select(WebLink).where(WebLink.token_hash == token_hash(token))).first()
    if link is None:
        return "unknown", None
    if link.used_at is not None:
        return "used", None
    expired = link.expires_at is None or link.expires_at <= now
    return ("expired", None) if expired else ("ok", link.user_id)


def claim_link(s: Session, token: str, now: datetime) -> int | None:
    """Spend the link: the user id it signs in, or None if unknown, spent or expired."""
    h = token_hash(token)
    res = s.execute(
        update(WebLink)
        .where(col(WebLink.token_hash) == h, col(WebLink.used_at).is_(None), col(WebLink.expires_at) > now)
        .values(used_at=now)
    )
    if not isinstance(res, CursorResult) or res.rowcount != 1:
        return None
    return s.exec(select(WebLink.user_id).where(WebLink.token_hash == h)).one()


def create_session(s: Session, user_id: int, now: datetime) -> tuple[str, WebSession]:
    token = new_token()
    row = WebSession(
        token_hash=token_hash(token), user_id=user_id, csrf=secrets.token_urlsafe(24), created_at=now, last_seen=now
    )
    s.add(row)
    s.flush()
    return token, row


def session_and_user(s: Session, token: str) -> tuple[WebSession, User] | tuple[None, None]:
    row = s.exec(
        select(WebSession, User)
        .join(User, col(User.id) == col(WebSession.user_id))
        .where(WebSession.token_hash == token_hash(token))
    ).first()
    return (row[0], row[1]) if row else (None, None)


def touch_session(s: Session, session_id: int, now: datetime) -> None:
    s.execute(update(WebSession).where(col(WebSession.id) == session_id).values(last_seen=now))


def end_session(s: Session, session_id: int, now: datetime) -> None:
    s.execute(
        update(WebSession)
        .where(col(WebSession.id) == session_id, col(WebSession.ended_at).is_(None))
        .values(ended_at=now)
    )


def change_stamp(s: Session, event_id: int) -> str:
    """Changes to an event show here: every change is audited and bumps a task's version;
    check-ins asked and escalated are reminder slots."""
    last = s.exec(select(func.max(AuditEntry.id)).where(AuditEntry.event_id == event_id)).one()
    slot = s.exec(select(func.max(ReminderSlot.id))).one()
    versions = s.exec(
        select(func.coalesce(func.sum(Task.version), 0), func.count()).where(Task.event_id == event_id)
    ).one()
    return f"{last or 0}.{slot or 0}.{versions[0]}.{versions[1]}"


def evidence(s: Session, evidence_id: int) -> Evidence | None:
    return s.get(Evidence, evidence_id)


# -- the board's figures, computed by the database (an event may have thousands of tasks) ------
_CLOSED = ("done", "cancelled")


Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


def _scope(q: Q, event_id: int, agency: str | None) -> Q:
    q = q.where(col(Task.event_id) == event_id)
    return q.where(col(Task.lead) == agency) if agency else q


STORED = ("todo", "acknowledged", "in_progress", "blocked", "done", "cancelled")


def status_counts(
    s: Session, event_id: int, now: datetime, agency: str | None = None
) -> list[tuple[str, dict[str, int], int, int]]:
    """One row per lead agency: (lead, {stored status: count}, overdue, done on time).

    Pivoted by the database (one row per agency, not one per agency and status): the board is
    recomputed after every change, and each row fetched is Python objects to build and collect."""
    status = col(Task.status)
    overdue = case((and_(col(Task.deadline) < now, status.not_in(_CLOSED)), 1), else_=0)
    on_time = case((and_(status == "done", col(Task.completed_at) <= col(Task.original_deadline)), 1), else_=0)
    per_status = [func.sum(case((status == st, 1), else_=0)) for st in STORED]
    q = sa_select(col(Task.lead), func.sum(overdue), func.sum(on_time), *per_status)
    return [
        (lead, dict(zip(STORED, (int(n or 0) for n in counts), strict=True)), int(late or 0), int(good or 0))
        for lead, late, good, *counts in s.execute(_scope(q, event_id, agency).group_by(col(Task.lead)))
    ]


# A not-started task is `waiting` while one of its dependencies is not done or cancelled (or does not
# exist; workflows.states.dependency_met):
# counted by the database, which reads each dependency through the (event_id, code) key.
_WAITING = """
SELECT {select} FROM task t
WHERE t.event_id = :event AND t.status IN ('todo', 'acknowledged') {scope}
  AND CAST(t.depends_on AS TEXT) <> '[]'
  AND EXISTS (SELECT 1 FROM {each} WHERE NOT EXISTS (
        SELECT 1 FROM task u WHERE u.event_id = t.event_id AND u.code = d.value AND u.status IN ('done', 'cancelled')))
{tail}"""
_EACH = {"sqlite": "json_each(t.depends_on) AS d", "postgresql": "json_array_elements_text(t.depends_on) AS d(value)"}


def _waiting(s: Session, event_id: int, agency: str | None, select_: str, tail: str = "") -> Any:
    sql = _WAITING.format(
        select=select_, tail=tail, scope="AND t.lead = :agency" if agency else "", each=_EACH[s.get_bind().dialect.name]
    )
    return s.execute(text(sql), {"event": event_id, **({"agency": agency} if agency else {})})


def waiting_counts(s: Session, event_id: int, agency: str | None = None) -> list[tuple[str, str, int]]:
    """(lead, stored status, how many of those are `waiting`) per lead agency."""
    rows = _waiting(s, event_id, agency, "t.lead, t.status, COUNT(*)", "GROUP BY t.lead, t.status")
    return [(lead, status, int(n)) for lead, status, n in rows]


def waiting_ids(s: Session, event_id: int) -> set[int]:
    """The ids of the event's tasks shown as `waiting`."""
    return {i for (i,) in _waiting(s, event_id, None, "t.id")}


# A page listing many tasks (timeline, agency) reads the columns it shows, not ORM objects.
_SUPPORTING = col(Task.supporting)
_SHOWN = (
    *(col(c) for c in (Task.id, Task.code, Task.number, Task.title, Task.title_en, Task.phase, Task.lead)),
    _SUPPORTING,
    *(col(c) for c in (Task.deadline, Task.status, Task.percent)),
)


def phase_codes(s: Session, event_id: int) -> list[str]:
    """The phase codes the event's tasks use, each where its first task by deadline comes."""
    q = (
        sa_select(col(Task.phase), func.min(col(Task.deadline)), func.min(col(Task.number)))
        .where(col(Task.event_id) == event_id)
        .group_by(col(Task.phase))
    )
    return [str(code) for code, *_ in sorted(s.execute(q), key=lambda r: (r[1], r[2]))]


def task_rows(s: Session, event_id: int, involving: str | None = None, *, supporting: bool = True) -> list[Row[Any]]:
    """The event's tasks (plain rows) by deadline; with `involving`, those that agency leads or supports.
    `supporting=False` leaves that column out (decoding 5,000 JSON lists is most of a reader's timeline)."""
    shown = _SHOWN if supporting or involving else tuple(c for c in _SHOWN if c is not _SUPPORTING)
    q = sa_select(*shown).where(col(Task.event_id) == event_id)
    if involving:  # the database narrows by the JSON text; the exact test is below
        quoted = '%"' + json.dumps(involving)[1:-1] + '"%'
        q = q.where(or_(col(Task.lead) == involving, cast(col(Task.supporting), Text).like(quoted)))
    rows = list(s.execute(q.order_by(col(Task.deadline), col(Task.number))))
    return [r for r in rows if r.lead == involving or involving in (r.supporting or [])] if involving else rows


# The board's lists show a few columns of a few rows: plain rows (attribute access like a Task),
# not ORM objects, which cost far more to build for the same thirty lines.
_LISTED = tuple(
    col(c)
    for c in (
        Task.id,
        Task.code,
        Task.title,
        Task.title_en,
        Task.lead,
        Task.status,
        Task.deadline,
        Task.blocked_reason,
        Task.updated_at,
    )
)
Listed = namedtuple("Listed", "id code title title_en lead status deadline blocked_reason updated_at")
Pending = namedtuple("Pending", "id previous_deadline requested_deadline reason")


def overdue_tasks(s: Session, event_id: int, now: datetime, limit: int, agency: str | None = None) -> list[Row[Any]]:
    q = _scope(sa_select(*_LISTED), event_id, agency).where(col(Task.status).not_in(_CLOSED), col(Task.deadline) < now)
    return list(s.execute(q.order_by(col(Task.deadline), col(Task.id)).limit(limit)))


def blocked_tasks(s: Session, event_id: int, limit: int, agency: str | None = None) -> list[Row[Any]]:
    q = _scope(sa_select(*_LISTED), event_id, agency).where(col(Task.status) == "blocked")
    return list(s.execute(q.order_by(col(Task.updated_at), col(Task.id)).limit(limit)))


def waiting_extensions(
    s: Session, event_id: int, limit: int, agency: str | None = None
) -> tuple[list[tuple[Any, Any]], int]:
    """(request, task) rows for extension requests waiting for a decision, oldest first; and how many wait."""
    req = tuple(
        col(c)
        for c in (
            ExtensionRequest.id,
            ExtensionRequest.previous_deadline,
            ExtensionRequest.requested_deadline,
            ExtensionRequest.reason,
        )
    )
    joined = col(Task.id) == col(ExtensionRequest.task_id)
    pending = col(ExtensionRequest.status) == "pending"
    base = _scope(sa_select(*req, *_LISTED).join(Task, joined), event_id, agency).where(pending)
    rows = list(s.execute(base.order_by(col(ExtensionRequest.created_at), col(ExtensionRequest.id)).limit(limit)))
    total = len(rows)
    if total >= limit:
        counted = sa_select(func.count()).select_from(ExtensionRequest).join(Task, joined)
        total = int(s.execute(_scope(counted, event_id, agency).where(pending)).scalar_one())
    return [(Pending(*r[:4]), Listed(*r[4:])) for r in rows], total


def cue_rows(s: Session, event_id: int, agency: str | None = None) -> list[Row[Any]]:
    """The ceremony-day cues (only the columns the run-of-show shows), in time order."""
    cols = tuple(
        col(c)
        for c in (
            Task.id,
            Task.code,
            Task.number,
            Task.title,
            Task.title_en,
            Task.lead,
            Task.deadline,
            Task.status,
            Task.blocked_reason,
            Task.supporting,
        )
    )
    q = _scope(sa_select(*cols), event_id, None).where(col(Task.is_cue).is_(True))
    rows = list(s.execute(q.order_by(col(Task.deadline), col(Task.number))))
    if agency:  # a contact: cues their agency leads or supports
        rows = [r for r in rows if r.lead == agency or agency in (r.supporting or [])]
    return rows


def agency_names(s: Session) -> dict[str, tuple[str, str]]:
    return {c: (n, e) for c, n, e in s.execute(sa_select(col(Agency.code), col(Agency.name), col(Agency.name_en)))}
