"""What the engine needs from the outside world, as Protocols (storage implements them).

The engine never imports SQL or a chat library: it reads and changes records through a
`Store` bound to one transaction, and returns `Notice` values that the bot layer turns
into outbox rows in that same transaction.

Records are read (and, where the engine changes them, written) through the attribute
Protocols below; the store creates them from the `New*` values (so the engine never names
a storage class). Two stores implement `Store`: `storage.repositories.SqlStore` (SQLite and
PostgreSQL) and `tests.memory_store.MemoryStore` (the engine's unit tests, no database).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from workflows.access import Role
from workflows.states import TaskStatus

if TYPE_CHECKING:
    from workflows.plan import PlannedTask

__all__ = [
    "Actor",
    "AgencyRecord",
    "AuditRecord",
    "Ctx",
    "EventRecord",
    "EvidenceRecord",
    "ExtensionRecord",
    "IdentityRecord",
    "InviteRecord",
    "NewEvent",
    "NewEvidence",
    "NewExtension",
    "NewIdentity",
    "NewInvite",
    "NewUser",
    "Notice",
    "Role",
    "Store",
    "TaskRecord",
    "TaskStatus",
    "UserRecord",
]

# JSON held in a record (audit details, a template's reminder overrides, a pending question).
Json = dict[str, Any]


# ---- records the engine reads (and changes) ---------------------------------------------------
class Actor(Protocol):
    """Who acts: a person (a `UserRecord`) or the system itself (bot.app.SystemActor)."""

    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def agency_code(self) -> str | None: ...
    @property
    def is_deputy(self) -> bool: ...


class UserRecord(Protocol):
    id: int
    name: str
    role: Role
    agency_code: str | None
    is_deputy: bool
    active: bool
    admin_source: str | None
    preferred_channel: str | None
    pending: Json | None


class AgencyRecord(Protocol):
    code: str
    name: str
    name_en: str


class IdentityRecord(Protocol):
    id: int
    user_id: int
    channel: str
    external_id: str
    chat_id: str
    display_name: str


class EventRecord(Protocol):
    id: int
    name: str
    template_id: str
    timezone: str
    start: datetime
    launched_at: datetime | None
    ended_at: datetime | None
    default_due_time: str  # "HH:MM", local
    reminders: Json | None


class TaskRecord(Protocol):
    id: int
    event_id: int
    number: int
    code: str
    title: str
    title_en: str
    phase: str
    lead: str
    supporting: list[str]
    depends_on: list[str]
    offset: str
    deadline: datetime
    original_deadline: datetime
    deadline_manual: bool
    is_cue: bool
    reminders: Json | None
    status: TaskStatus
    percent: int
    blocked_reason: str | None
    acknowledged_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime | None
    version: int
    next_reminder_at: datetime | None


class AuditRecord(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def task_id(self) -> int | None: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor_id(self) -> int | None: ...
    @property
    def action(self) -> str: ...
    @property
    def detail(self) -> Json: ...


class InviteRecord(Protocol):
    id: int
    code_hash: str
    role: str  # a Role, or "link"
    agency_code: str | None
    is_deputy: bool
    event_id: int | None
    expires_at: datetime
    used_at: datetime | None
    used_by: int | None
    link_user_id: int | None
    replaces_contacts: bool


class ExtensionRecord(Protocol):
    id: int
    task_id: int
    status: str  # pending | approved | rejected
    requested_deadline: datetime
    decided_by: int | None
    decided_at: datetime | None


class EvidenceRecord(Protocol):
    @property
    def id(self) -> int: ...


# ---- records the engine asks the store to create ----------------------------------------------
@dataclass(frozen=True)
class NewEvent:
    name: str
    template_id: str
    template_path: str
    timezone: str
    start: datetime
    created_at: datetime
    default_due_time: str
    reminders: Json | None = None


@dataclass(frozen=True)
class NewUser:
    name: str
    role: Role
    created_at: datetime
    agency_code: str | None = None
    is_deputy: bool = False
    language: str | None = None


@dataclass(frozen=True)
class NewIdentity:
    user_id: int
    channel: str
    external_id: str
    chat_id: str
    created_at: datetime
    display_name: str = ""


@dataclass(frozen=True)
class NewInvite:
    code_hash: str
    role: str  # a Role, or "link"
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    agency_code: str | None = None
    is_deputy: bool = False
    event_id: int | None = None
    link_user_id: int | None = None
    replaces_contacts: bool = False


@dataclass(frozen=True)
class NewExtension:
    task_id: int
    requested_by: int | None
    requested_deadline: datetime
    previous_deadline: datetime
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class NewEvidence:
    task_id: int
    kind: str  # photo | document | link | confirm
    size: int
    user_id: int | None
    channel: str
    at: datetime
    data: bytes | None = None
    filename: str = ""
    mime: str = ""
    caption: str = ""
    external_ref: str = ""


@dataclass(frozen=True)
class Ctx:
    """Who acts, through which channel, from which message, at what time."""

    actor: Actor
    channel: str
    now: datetime
    message_ref: str | None = None


@dataclass(frozen=True)
class Notice:
    """A message the engine wants sent; rendered per recipient by the bot layer."""

    key: str
    to: str  # "coordinators" | "agency" | "deputies" | "user"
    params: dict[str, Any] = field(default_factory=dict)
    agency: str | None = None
    user_id: int | None = None
    task_id: int | None = None
    kind: str = "info"
    urgent: bool = False
    dedupe_key: str | None = None
    with_buttons: bool = False


class Store(Protocol):
    """One transaction's view of the data (see storage.repositories.SqlStore)."""

    # -- agencies --
    def upsert_agency(self, code: str, name: str, name_en: str) -> None: ...
    def agency(self, code: str) -> AgencyRecord | None: ...
    def agencies(self) -> Sequence[AgencyRecord]: ...

    # -- events and tasks --
    def get_event(self, event_id: int) -> EventRecord | None: ...
    def list_events(self) -> Sequence[EventRecord]: ...
    def add_event(self, new: NewEvent) -> EventRecord: ...
    def add_tasks(self, event_id: int, planned: Sequence[PlannedTask], now: datetime) -> None: ...
    def task(self, task_id: int, *, lock: bool = False) -> TaskRecord | None: ...
    def find_task(self, event_id: int, ref: str, *, lock: bool = False) -> TaskRecord | None: ...
    def tasks(self, event_id: int) -> Sequence[TaskRecord]: ...
    def tasks_by_codes(self, event_id: int, codes: Iterable[str]) -> Sequence[TaskRecord]: ...
    def task_statuses(self, event_id: int, codes: Iterable[str] | None = None) -> dict[str, str]: ...

    # -- the audit trail --
    def audit(self, *, event_id: int | None, task_id: int | None, ctx: Ctx, action: str, detail: Json) -> int: ...
    def history(self, task_id: int) -> Sequence[AuditRecord]: ...

    # -- people (workflows.people, workflows.linking, workflows.quota) --
    def user(self, user_id: int) -> UserRecord | None: ...
    def user_locked(self, user_id: int) -> UserRecord | None: ...
    def add_user(self, new: NewUser) -> UserRecord: ...
    def is_active(self, user_id: int) -> bool: ...
    def contacts_of(self, agency: str, *, deputies: bool | None = None) -> Sequence[UserRecord]: ...
    def identity(self, channel: str, external_id: str) -> IdentityRecord | None: ...
    def identities_of(self, user_id: int) -> Sequence[IdentityRecord]: ...
    def add_identity(self, new: NewIdentity) -> IdentityRecord: ...
    def remove_identities(self, user_id: int, channel: str) -> int: ...
    def cancel_outbox_for(self, user_id: int, now: datetime, *, channel: str | None = None) -> int: ...
    def cancel_task_messages(self, event_id: int, kinds: Sequence[str], now: datetime) -> int: ...

    # -- invites --
    def add_invite(self, new: NewInvite) -> InviteRecord: ...
    def invite_by_hash(self, code_hash: str) -> InviteRecord | None: ...
    def claim_invite(self, code_hash: str, user_id: int, now: datetime) -> bool: ...
    def revoke_invites_of(self, user_id: int, now: datetime) -> int: ...

    # -- evidence and extensions --
    def add_evidence(self, new: NewEvidence) -> EvidenceRecord: ...
    def evidence_count(self, task_id: int) -> int: ...
    def evidence_bytes_of_agency(self, agency: str) -> int: ...
    def add_extension(self, new: NewExtension) -> ExtensionRecord: ...
    def extension(self, request_id: int) -> ExtensionRecord | None: ...

    # -- the reminder pass (workflows.chase) --
    def tasks_due_for_reminders(self, now: datetime, limit: int) -> Sequence[TaskRecord]: ...
    def last_reports_of(self, task_ids: Iterable[int]) -> dict[int, datetime | None]: ...
    def slot_keys_of(self, task_ids: Iterable[int]) -> dict[int, frozenset[str]]: ...
    def record_slot(self, *, task_id: int, key: str, kind: str, at: datetime, now: datetime, late: bool) -> bool: ...
