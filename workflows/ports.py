"""What the engine needs from the outside world, as Protocols (storage implements them).

The engine never imports SQL or a chat library: it reads and changes records through a
`Store` bound to one transaction, and returns `Notice` values that the bot layer turns
into outbox rows in that same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Ctx:
    """Who acts, through which channel, from which message, at what time."""

    actor: Any  # a user record: id, name, role, agency_code, is_deputy
    channel: str
    now: datetime
    message_ref: str | None = None


@dataclass(frozen=True)
class Notice:
    """A message the engine wants sent; rendered per recipient by the bot layer."""

    key: str
    to: str  # "coordinators" | "agency" | "deputies" | "user"
    params: dict = field(default_factory=dict)
    agency: str | None = None
    user_id: int | None = None
    task_id: int | None = None
    kind: str = "info"
    urgent: bool = False
    dedupe_key: str | None = None
    with_buttons: bool = False


class Store(Protocol):
    """One transaction's view of the data (see storage.repositories.SqlStore)."""

    def get_event(self, event_id: int) -> Any: ...
    def list_events(self) -> list[Any]: ...
    def add(self, obj: Any) -> Any: ...
    def upsert_agency(self, code: str, name: str, name_en: str) -> None: ...
    def agency(self, code: str) -> Any: ...
    def agencies(self) -> list[Any]: ...
    def task(self, task_id: int, *, lock: bool = False) -> Any: ...
    def find_task(self, event_id: int, ref: str, *, lock: bool = False) -> Any: ...
    def tasks(self, event_id: int) -> list[Any]: ...
    def audit(self, *, event_id: int | None, task_id: int | None, ctx: Ctx, action: str, detail: dict) -> Any: ...
    def history(self, task_id: int) -> list[Any]: ...
    def user(self, user_id: int) -> Any: ...
    def invite_by_hash(self, code_hash: str) -> Any: ...
    def claim_invite(self, code_hash: str, user_id: int, now: datetime) -> bool: ...
    def evidence_count(self, task_id: int) -> int: ...
