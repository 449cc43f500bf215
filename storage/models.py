"""All of dutybot's tables, in one module (schema changes go through Alembic).

Times are stored as UTC. `UTCDateTime` keeps them naive-UTC in the column (the same on
SQLite and PostgreSQL) and hands back aware UTC datetimes, so no caller ever compares a
naive time with an aware one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from workflows.access import Role
from workflows.states import TaskStatus

Json = dict[str, Any]


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime column that only accepts aware values and returns aware UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class StrEnumText(TypeDecorator[StrEnum]):
    """A VARCHAR holding a StrEnum's value (the same strings as before the enum), read back as the enum."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: StrEnum | str | None, dialect: Dialect) -> str | None:
        # Passed through as the plain string: a query may compare with any text.
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def table(model: type[SQLModel]) -> Table:
    """A table model's Table (SQLModel sets `__table__` when the class is made; its types do not say so)."""
    t = model.__table__  # type: ignore[attr-defined]
    assert isinstance(t, Table)
    return t


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Agency(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=32)
    name: str
    name_en: str = ""


class User(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    name: str
    role: Role = Field(sa_column=Column(StrEnumText(Role, 16), nullable=False, index=True))
    agency_code: str | None = Field(default=None, foreign_key="agency.code", index=True)
    is_deputy: bool = False
    language: str | None = Field(default=None, max_length=8)
    preferred_channel: str | None = Field(default=None, max_length=16)
    unreachable: bool = False
    active: bool = True  # False: removed (workflows.people); history kept, a new invite brings them back
    # How an admin became one: "config" ([access] admins: re-synced at every start, demoted when
    # no longer listed), "cli" (`dutybot user add-admin` / `set-role`: stays); NULL: from before.
    admin_source: str | None = Field(default=None, max_length=16)
    digest: bool = True
    # A question the bot asked and is waiting on ({"kind": "blocked_reason", "task_id": 5}).
    pending: Json | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime | None = _ts()


class Identity(SQLModel, table=True):
    """One person's account on one channel; (channel, external_id) is who writes to us."""

    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    display_name: str = ""
    created_at: datetime | None = _ts()
    # On channels without buttons (Zalo, the terminal) the last choices offered in this
    # chat, as callback data: a reply "2" presses the second one.
    choices: list[str] | None = Field(default=None, sa_column=Column(JSON))


class Event(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    name: str
    template_id: str
    template_path: str
    timezone: str = "Asia/Ho_Chi_Minh"
    start: datetime = _ts(nullable=False)
    launched_at: datetime | None = _ts()
    ended_at: datetime | None = _ts()
    created_at: datetime | None = _ts()
    default_due_time: str = "17:00"
    reminders: Json | None = Field(default=None, sa_column=Column(JSON))


class Task(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        UniqueConstraint("event_id", "number"),
        Index("ix_task_lead_status", "lead", "status"),
    )
    id: int = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    number: int
    code: str = Field(max_length=32)
    title: str
    title_en: str = ""
    phase: str = Field(max_length=32)
    lead: str = Field(foreign_key="agency.code", max_length=32)
    supporting: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    depends_on: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    evidence_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    offset: str = ""
    deadline: datetime = _ts(nullable=False, index=True)
    original_deadline: datetime = _ts(nullable=False)
    deadline_manual: bool = False
    is_cue: bool = False
    reminders: Json | None = Field(default=None, sa_column=Column(JSON))
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: TaskStatus = Field(default=TaskStatus.TODO, sa_column=Column(StrEnumText(TaskStatus, 16), nullable=False))
    percent: int = 0
    blocked_reason: str | None = Field(default=None, sa_column=Column(Text))
    acknowledged_at: datetime | None = _ts()
    completed_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    version: int = 0
    # The earliest moment a reminder slot of this task falls due (NULL: none ever will).
    # The scheduler reads only tasks whose moment has come, so its cost follows due slots.
    next_reminder_at: datetime | None = _ts(index=True)


class AuditEntry(SQLModel, table=True):
    """Append-only: rows are inserted, never updated or deleted."""

    id: int = Field(default=None, primary_key=True)
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    at: datetime = _ts(nullable=False)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    actor: str = ""
    channel: str = Field(default="system", max_length=16)
    action: str = Field(max_length=32)
    detail: Json = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message_ref: str | None = Field(default=None, max_length=128)


class Invite(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    # Only the SHA-256 of the code is kept: a leaked database does not leak usable invites.
    code_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    role: str = Field(max_length=16)
    agency_code: str | None = Field(default=None, foreign_key="agency.code")
    is_deputy: bool = False
    event_id: int | None = Field(default=None, foreign_key="event.id")
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime | None = _ts()
    expires_at: datetime = _ts(nullable=False)
    used_at: datetime | None = _ts()
    used_by: int | None = Field(default=None, foreign_key="user.id")
    # role "link": binds the redeeming account (on another app) to this existing user.
    link_user_id: int | None = Field(default=None, foreign_key="user.id")
    # A contact invite that, once redeemed, removes the agency's current contacts of the same
    # kind (primary or deputy): handing over an agency leaves no gap and no stale contact.
    replaces_contacts: bool = False


class Evidence(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    kind: str = Field(max_length=16)  # photo | document | link | confirm
    filename: str = ""
    mime: str = ""
    size: int = 0
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    caption: str = ""
    external_ref: str = ""
    user_id: int | None = Field(default=None, foreign_key="user.id")
    channel: str = ""
    at: datetime | None = _ts()


class ExtensionRequest(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    requested_by: int | None = Field(default=None, foreign_key="user.id")
    requested_deadline: datetime = _ts(nullable=False)
    previous_deadline: datetime = _ts(nullable=False)
    reason: str = ""
    status: str = Field(default="pending", max_length=16)  # pending | approved | rejected
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = _ts()
    created_at: datetime | None = _ts()


class Outbox(SQLModel, table=True):
    """Every outgoing message, written in the transaction of the change that caused it."""

    __table_args__ = (Index("ix_outbox_due", "status", "urgent", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    # Unique per (task, reminder slot) etc., so a second insert of the same slot is a no-op.
    dedupe_key: str | None = Field(default=None, sa_column=Column(String(200), unique=True))
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    kind: str = Field(max_length=24)
    text: str = Field(sa_column=Column(Text, nullable=False))
    payload: Json = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    task_id: int | None = Field(default=None, foreign_key="task.id")
    urgent: bool = False
    status: str = Field(default="pending", max_length=16)  # pending | sent | parked
    attempts: int = 0
    created_at: datetime | None = _ts()
    next_attempt_at: datetime | None = _ts()
    sent_at: datetime | None = _ts()
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    external_message_id: str | None = Field(default=None, max_length=64)
    # Several workers share the outbox: a row is claimed for a while; a dead worker's
    # claims expire and are taken over.
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = _ts()


class SentMessage(SQLModel, table=True):
    """Which task a delivered chat message was about, so a reply to it binds to that task."""

    __table_args__ = (UniqueConstraint("channel", "chat_id", "message_id"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    task_id: int | None = Field(default=None, foreign_key="task.id")
    kind: str = Field(default="", max_length=24)
    at: datetime | None = _ts()


class ReminderSlot(SQLModel, table=True):
    """A reminder slot that was turned into messages; (task, key) exists once, even across restarts."""

    __table_args__ = (UniqueConstraint("task_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    key: str = Field(max_length=80)
    kind: str = Field(max_length=24)
    at: datetime | None = _ts(nullable=False)
    created_at: datetime | None = _ts()
    late: bool = False


class InboundUpdate(SQLModel, table=True):
    """A platform update, stored before it is confirmed to the platform and processed once."""

    __table_args__ = (UniqueConstraint("channel", "update_key"), Index("ix_inbound_pending", "status", "id"))
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    update_key: str = Field(max_length=64)
    payload: Json = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending | done | failed
    received_at: datetime | None = _ts()
    processed_at: datetime | None = _ts()
    error: str | None = Field(default=None, sa_column=Column(Text))


class Lease(SQLModel, table=True):
    """A named lease (e.g. the scheduler's leadership): one holder at a time, until it expires."""

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=80)
    until: datetime = _ts(nullable=False)


class WebLink(SQLModel, table=True):
    """A single-use sign-in link for the web board (only the SHA-256 of its token is kept)."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime | None = _ts()
    expires_at: datetime | None = _ts(nullable=False)
    used_at: datetime | None = _ts()


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds the token, the row its hash and CSRF token."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = Field(foreign_key="user.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime | None = _ts()
    last_seen: datetime | None = _ts(nullable=False)
    ended_at: datetime | None = _ts()
