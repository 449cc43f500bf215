"""What every part of SqlStore shares: the session, and the caches kept in the session's `info`."""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import CursorResult, Result, event
from sqlmodel import Session

from storage.models import Event, Identity, Task, User

# Who is staff, how to reach a person and which event is current are read for every
# command and notice, and a batch of inbox updates (one session) has hundreds: they are kept
# in the session's `info` and dropped whenever people or events change in it, or a
# (savepoint) rollback happens.
PEOPLE = "dutybot.people"

# Task references already resolved in this session ((event, REF) -> the Task, held here: the
# session's identity map only holds objects weakly), so a batch in which the same tasks come
# up again finds them without a query. SQLite only:
# there the batch holds the one write lock, so no one else can change a task meanwhile; on
# PostgreSQL every lookup is a `SELECT ... FOR UPDATE`. Dropped when tasks are added or removed.
TASK_IDS = "dutybot.task_ids"


def tasks_added_or_removed(session: Session) -> bool:
    """Tasks added or removed but not yet flushed: resolve references by query meanwhile."""
    return any(isinstance(o, Task) for o in chain(session.new, session.deleted))


def people_touched(session: Session) -> bool:
    return any(isinstance(o, (User, Identity, Event)) for o in chain(session.new, session.dirty, session.deleted))


@event.listens_for(Session, "before_flush")
def _forget_people_on_flush(session: Session, _ctx: object, _instances: object) -> None:
    if PEOPLE in session.info and people_touched(session):
        session.info.pop(PEOPLE, None)


@event.listens_for(Session, "after_rollback")
def _forget_people_on_rollback(session: Session) -> None:
    session.info.pop(PEOPLE, None)
    session.info.pop(TASK_IDS, None)


@event.listens_for(Session, "before_flush")
def _forget_task_ids_on_flush(session: Session, _ctx: object, _instances: object) -> None:
    if TASK_IDS in session.info and tasks_added_or_removed(session):
        session.info.pop(TASK_IDS, None)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (SQLAlchemy types `Session.execute`'s result without it)."""
    assert isinstance(result, CursorResult)
    return result.rowcount


class Repo:
    """Reads and writes through `session`; the caller owns commit/rollback."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def _people(self) -> dict[Any, Any]:
        """This session's cache of people and events (see PEOPLE)."""
        cache: dict[Any, Any] | None = self.s.info.get(PEOPLE)
        if cache is None or people_touched(self.s):
            cache = self.s.info[PEOPLE] = {}
        return cache
