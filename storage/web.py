"""The web board's sign-in links and sessions: tokens are kept only as SHA-256 hashes.

A leaked database leaks no usable link or session; a link is claimed with one conditional
UPDATE, so of two browsers opening it at once exactly one gets in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, select

from storage.models import AuditEntry, Evidence, ReminderSlot, Task, User, WebLink, WebSession


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
