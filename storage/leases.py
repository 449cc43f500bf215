"""Leases in the database: leadership and claims that a dead process gives up by expiring."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CursorResult, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage.db import Database
from storage.models import Lease


def acquire(db: Database, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Take or renew lease `name` for `holder` until now+ttl; False while another holds it."""
    with db.write() as s:
        res = s.execute(
            update(Lease)
            .where(col(Lease.name) == name, or_(col(Lease.holder) == holder, col(Lease.until) < now))
            .values(holder=holder, until=now + ttl)
        )
        if isinstance(res, CursorResult) and res.rowcount == 1:
            return True
        if s.get(Lease, name) is not None:
            return False
    try:  # first use: nobody holds it yet
        with db.write() as s:
            s.add(Lease(name=name, holder=holder, until=now + ttl))
        return True
    except IntegrityError:  # someone else created it first
        return False


def release(db: Database, name: str, holder: str) -> None:
    with db.write() as s:
        s.execute(
            update(Lease)
            .where(col(Lease.name) == name, col(Lease.holder) == holder)
            .values(until=datetime(1970, 1, 1).astimezone())
        )


def holder(db: Database, name: str, now: datetime) -> str | None:
    with db.read() as s:
        lease = s.get(Lease, name)
        return lease.holder if lease is not None and lease.until > now else None
