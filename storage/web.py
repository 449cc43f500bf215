"""The web board's sign-in links and sessions: tokens are kept only as SHA-256 hashes.

A leaked database leaks no usable link or session; a link is claimed with one conditional
UPDATE, so of two browsers opening it at once exactly one gets in.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Text, and_, case, func, type_coerce, update
from sqlmodel import Session, select

from storage.models import (Agency, AuditEntry, Evidence, ExtensionRequest, ReminderSlot, Task, User, WebLink,
                            WebSession)


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
    return ("expired", None) if link.expires_at <= now else ("ok", link.user_id)


def claim_link(s: Session, token: str, now: datetime) -> int | None:
    """Spend the link: the user id it signs in, or None if unknown, spent or expired."""
    h = token_hash(token)
    res = s.execute(update(WebLink).where(WebLink.token_hash == h, WebLink.used_at.is_(None),
                                          WebLink.expires_at > now).values(used_at=now))
    if res.rowcount != 1:
        return None
    return s.exec(select(WebLink.user_id).where(WebLink.token_hash == h)).one()


def create_session(s: Session, user_id: int, now: datetime) -> tuple[str, WebSession]:
    token = new_token()
    row = WebSession(token_hash=token_hash(token), user_id=user_id, csrf=secrets.token_urlsafe(24),
                     created_at=now, last_seen=now)
    s.add(row)
    s.flush()
    return token, row


def session_and_user(s: Session, token: str) -> tuple[WebSession, User] | tuple[None, None]:
    row = s.exec(select(WebSession, User).join(User, User.id == WebSession.user_id)
                 .where(WebSession.token_hash == token_hash(token))).first()
    return (row[0], row[1]) if row else (None, None)


def touch_session(s: Session, session_id: int, now: datetime) -> None:
    s.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen=now))


def end_session(s: Session, session_id: int, now: datetime) -> None:
    s.execute(update(WebSession).where(WebSession.id == session_id, WebSession.ended_at.is_(None))
              .values(ended_at=now))


def change_stamp(s: Session, event_id: int) -> str:
    """Changes to an event show here: every change is audited and bumps a task's version;
    check-ins asked and escalated are reminder slots."""
    last = s.exec(select(func.max(AuditEntry.id)).where(AuditEntry.event_id == event_id)).one()
    slot = s.exec(select(func.max(ReminderSlot.id))).one()
    versions = s.exec(select(func.coalesce(func.sum(Task.version), 0), func.count())
                      .where(Task.event_id == event_id)).one()
    return f"{last or 0}.{slot or 0}.{versions[0]}.{versions[1]}"


def evidence(s: Session, evidence_id: int) -> Evidence | None:
    return s.get(Evidence, evidence_id)


# -- the board's figures, computed by the database (an event may have thousands of tasks) ------
_CLOSED = ("done", "cancelled")


def _scope(q, event_id: int, agency: str | None):
    q = q.where(Task.event_id == event_id)
    return q.where(Task.lead == agency) if agency else q


def status_counts(s: Session, event_id: int, now: datetime, agency: str | None = None) -> list[tuple]:
    """(lead, stored status, count, overdue, done on time) per lead agency and status."""
    overdue = case((and_(Task.deadline < now, Task.status.not_in(_CLOSED)), 1), else_=0)
    on_time = case((and_(Task.status == "done", Task.completed_at <= Task.original_deadline), 1), else_=0)
    q = select(Task.lead, Task.status, func.count(), func.sum(overdue), func.sum(on_time))
    return list(s.exec(_scope(q, event_id, agency).group_by(Task.lead, Task.status)))


def not_started(s: Session, event_id: int, agency: str | None = None) -> tuple[list[tuple], set[str]]:
    """Tasks that may be `waiting` (lead, status, depends_on) and the codes already done."""
    deps = type_coerce(Task.depends_on, Text)  # decoded only when not empty
    rows = s.exec(_scope(select(Task.lead, Task.status, deps), event_id, agency)
                  .where(Task.status.in_(("todo", "acknowledged")))).all()
    done = set(s.exec(select(Task.code).where(Task.event_id == event_id, Task.status == "done")))
    out = []
    for lead, status, raw in rows:
        if raw in (None, "[]", []):
            continue
        out.append((lead, status, raw if isinstance(raw, list) else json.loads(raw)))
    return out, done


def overdue_tasks(s: Session, event_id: int, now: datetime, limit: int, agency: str | None = None) -> list[Task]:
    q = _scope(select(Task), event_id, agency).where(Task.status.not_in(_CLOSED), Task.deadline < now)
    return list(s.exec(q.order_by(Task.deadline).limit(limit)))


def blocked_tasks(s: Session, event_id: int, limit: int, agency: str | None = None) -> list[Task]:
    q = _scope(select(Task), event_id, agency).where(Task.status == "blocked")
    return list(s.exec(q.order_by(Task.updated_at).limit(limit)))


def waiting_extensions(s: Session, event_id: int, limit: int, agency: str | None = None) -> list[tuple]:
    """(request, task) for extension requests waiting for a decision, oldest first."""
    q = select(ExtensionRequest, Task).join(Task, Task.id == ExtensionRequest.task_id) \
        .where(ExtensionRequest.status == "pending")
    q = _scope(q, event_id, agency).order_by(ExtensionRequest.created_at, ExtensionRequest.id).limit(limit)
    return [(r, t) for r, t in s.exec(q)]


def cue_rows(s: Session, event_id: int, agency: str | None = None) -> list:
    """The ceremony-day cues (only the columns the run-of-show shows), in time order."""
    cols = (Task.id, Task.code, Task.number, Task.title, Task.title_en, Task.lead, Task.deadline, Task.status,
            Task.blocked_reason, Task.supporting)
    q = _scope(select(*cols), event_id, None).where(Task.is_cue == True)  # noqa: E712
    rows = list(s.exec(q.order_by(Task.deadline, Task.number)))
    if agency:  # a contact: cues their agency leads or supports
        rows = [r for r in rows if r.lead == agency or agency in (r.supporting or [])]
    return rows


def agency_names(s: Session) -> dict[str, tuple[str, str]]:
    return {c: (n, e) for c, n, e in s.exec(select(Agency.code, Agency.name, Agency.name_en))}
