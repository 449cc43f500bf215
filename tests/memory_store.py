"""An in-memory `Store` (workflows.ports): the engine's unit tests run on it without a database.

Records are plain dataclasses with the attributes the engine's Protocols name. `MemoryWorld`
gives the test the shape of the App it replaces: `write()` is one transaction (a change that
raises is rolled back, as the database would), `read()` a look, `now()` the test's clock.
What the SQL store does with SQL (row locks, ON CONFLICT, the outbox) is modelled only as far
as the engine can tell: `claim_invite` and `record_slot` succeed once, `cancel_outbox_for`
counts the messages it drops.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from workflows.access import Role
from workflows.plan import PlannedTask
from workflows.ports import Ctx, NewEvent, NewEvidence, NewExtension, NewIdentity, NewInvite, NewUser, Store
from workflows.report_model import ReportStore
from workflows.states import TaskStatus

Json = dict[str, Any]


@dataclass
class MemAgency:
    code: str
    name: str
    name_en: str = ""


@dataclass
class MemUser:
    id: int
    name: str
    role: Role
    agency_code: str | None = None
    is_deputy: bool = False
    language: str | None = None
    active: bool = True
    admin_source: str | None = None
    preferred_channel: str | None = None
    pending: Json | None = None
    created_at: datetime | None = None


@dataclass
class MemIdentity:
    id: int
    user_id: int
    channel: str
    external_id: str
    chat_id: str
    display_name: str = ""
    created_at: datetime | None = None


@dataclass
class MemEvent:
    id: int
    name: str
    template_id: str
    template_path: str
    timezone: str
    start: datetime
    created_at: datetime
    default_due_time: str
    reminders: Json | None = None
    launched_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class MemTask:
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
    evidence_kinds: list[str]
    offset: str
    deadline: datetime
    original_deadline: datetime
    is_cue: bool
    reminders: Json | None
    note: str
    updated_at: datetime | None
    deadline_manual: bool = False
    status: TaskStatus = TaskStatus.TODO
    percent: int = 0
    blocked_reason: str | None = None
    acknowledged_at: datetime | None = None
    completed_at: datetime | None = None
    version: int = 0
    next_reminder_at: datetime | None = None


@dataclass(frozen=True)
class MemAudit:
    id: int
    event_id: int | None
    task_id: int | None
    at: datetime
    actor_id: int | None
    actor: str
    channel: str
    action: str
    detail: Json
    message_ref: str | None


@dataclass
class MemInvite:
    id: int
    code_hash: str
    role: str
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    agency_code: str | None = None
    is_deputy: bool = False
    event_id: int | None = None
    link_user_id: int | None = None
    replaces_contacts: bool = False
    used_at: datetime | None = None
    used_by: int | None = None


@dataclass
class MemEvidence:
    id: int
    task_id: int
    kind: str
    size: int
    user_id: int | None
    channel: str
    at: datetime
    data: bytes | None = None
    filename: str = ""
    mime: str = ""
    caption: str = ""
    external_ref: str = ""


@dataclass
class MemExtension:
    id: int
    task_id: int
    requested_by: int | None
    requested_deadline: datetime
    previous_deadline: datetime
    reason: str
    created_at: datetime
    status: str = "pending"
    decided_by: int | None = None
    decided_at: datetime | None = None


@dataclass
class MemMessage:
    """A message waiting for someone (only what `cancel_outbox_for` needs)."""

    user_id: int
    channel: str
    status: str = "pending"


@dataclass
class _Data:
    agencies: dict[str, MemAgency] = field(default_factory=dict)
    users: dict[int, MemUser] = field(default_factory=dict)
    identities: dict[int, MemIdentity] = field(default_factory=dict)
    events: dict[int, MemEvent] = field(default_factory=dict)
    tasks: dict[int, MemTask] = field(default_factory=dict)
    audit: list[MemAudit] = field(default_factory=list)
    invites: dict[int, MemInvite] = field(default_factory=dict)
    evidence: dict[int, MemEvidence] = field(default_factory=dict)
    extensions: dict[int, MemExtension] = field(default_factory=dict)
    slots: dict[tuple[int, str], tuple[str, datetime, bool]] = field(default_factory=dict)
    outbox: list[MemMessage] = field(default_factory=list)
    last_id: int = 0


class MemoryStore:
    """The engine's `Store` on dictionaries (one instance is the whole database)."""

    def __init__(self) -> None:
        self.d = _Data()

    def _id(self) -> int:
        self.d.last_id += 1
        return self.d.last_id

    # -- agencies --
    def upsert_agency(self, code: str, name: str, name_en: str) -> None:
        self.d.agencies[code] = MemAgency(code, name, name_en)

    def agency(self, code: str) -> MemAgency | None:
        return self.d.agencies.get(code.upper()) if code else None

    def agencies(self) -> list[MemAgency]:
        return sorted(self.d.agencies.values(), key=lambda a: a.code)

    # -- events and tasks --
    def get_event(self, event_id: int) -> MemEvent | None:
        return self.d.events.get(event_id)

    def list_events(self) -> list[MemEvent]:
        return sorted(self.d.events.values(), key=lambda e: e.id)

    def add_event(self, new: NewEvent) -> MemEvent:
        event = MemEvent(id=self._id(), **asdict(new))
        self.d.events[event.id] = event
        return event

    def add_tasks(self, event_id: int, planned: Sequence[PlannedTask], now: datetime) -> None:
        for p in planned:
            task = MemTask(
                id=self._id(),
                event_id=event_id,
                number=p.number,
                code=p.code,
                title=p.title,
                title_en=p.title_en,
                phase=p.phase,
                lead=p.lead,
                supporting=list(p.supporting),
                depends_on=list(p.depends_on),
                evidence_kinds=list(p.evidence_kinds),
                offset=p.offset,
                deadline=p.deadline,
                original_deadline=p.deadline,
                is_cue=p.is_cue,
                reminders=p.reminders,
                note=p.note,
                updated_at=now,
            )
            self.d.tasks[task.id] = task

    def task(self, task_id: int, *, lock: bool = False) -> MemTask | None:
        return self.d.tasks.get(task_id)

    def find_task(self, event_id: int, ref: str, *, lock: bool = False) -> MemTask | None:
        """By code (any case) or number (`#17` or `17`), as SqlStore.find_task."""
        ref = ref.strip()
        digits = ref.lstrip("#")
        for t in self.d.tasks.values():
            if t.event_id == event_id and (t.number == int(digits) if digits.isdigit() else t.code == ref.upper()):
                return t
        return None

    def tasks(self, event_id: int) -> list[MemTask]:
        return sorted(
            (t for t in self.d.tasks.values() if t.event_id == event_id), key=lambda t: (t.deadline, t.number)
        )

    def tasks_by_codes(self, event_id: int, codes: Iterable[str]) -> list[MemTask]:
        wanted = {c.upper() for c in codes}
        return [t for t in self.tasks(event_id) if t.code.upper() in wanted]

    def task_statuses(self, event_id: int, codes: Iterable[str] | None = None) -> dict[str, str]:
        wanted = set(codes) if codes is not None else None
        return {t.code: t.status for t in self.tasks(event_id) if wanted is None or t.code in wanted}

    # -- the audit trail --
    def audit(self, *, event_id: int | None, task_id: int | None, ctx: Ctx, action: str, detail: Json) -> int:
        # Stored as JSON is: a later change to the caller's dict does not change the entry.
        entry = MemAudit(
            id=self._id(),
            event_id=event_id,
            task_id=task_id,
            at=ctx.now,
            actor_id=ctx.actor.id,
            actor=ctx.actor.name,
            channel=ctx.channel,
            action=action,
            detail=copy.deepcopy(detail),
            message_ref=ctx.message_ref,
        )
        self.d.audit.append(entry)
        return entry.id

    def history(self, task_id: int) -> list[MemAudit]:
        return sorted((a for a in self.d.audit if a.task_id == task_id), key=lambda a: (a.at, a.id))

    def event_audit(self, event_id: int) -> list[MemAudit]:
        """Not in the port (the bot's history views read it); SqlStore has the same method."""
        return sorted((a for a in self.d.audit if a.event_id == event_id), key=lambda a: (a.at, a.id))

    # -- people --
    def user(self, user_id: int) -> MemUser | None:
        return self.d.users.get(user_id)

    def user_locked(self, user_id: int) -> MemUser | None:
        return self.d.users.get(user_id)

    def add_user(self, new: NewUser) -> MemUser:
        user = MemUser(id=self._id(), **asdict(new))
        self.d.users[user.id] = user
        return user

    def is_active(self, user_id: int) -> bool:
        user = self.d.users.get(user_id)
        return user is not None and user.active

    def contacts_of(self, agency: str, *, deputies: bool | None = None) -> list[MemUser]:
        return [
            u
            for u in sorted(self.d.users.values(), key=lambda u: u.id)
            if u.role == Role.CONTACT
            and u.agency_code == agency
            and u.active
            and (deputies is None or u.is_deputy == deputies)
        ]

    def identity(self, channel: str, external_id: str) -> MemIdentity | None:
        return next(
            (i for i in self.d.identities.values() if i.channel == channel and i.external_id == str(external_id)), None
        )

    def identities_of(self, user_id: int) -> list[MemIdentity]:
        return sorted((i for i in self.d.identities.values() if i.user_id == user_id), key=lambda i: i.id)

    def add_identity(self, new: NewIdentity) -> MemIdentity:
        if self.identity(new.channel, new.external_id) is not None:
            raise ValueError(f"identity {new.channel}:{new.external_id} exists (a unique key in the database)")
        ident = MemIdentity(id=self._id(), **asdict(new))
        self.d.identities[ident.id] = ident
        return ident

    def remove_identities(self, user_id: int, channel: str) -> int:
        gone = [i.id for i in self.d.identities.values() if i.user_id == user_id and i.channel == channel]
        for i in gone:
            del self.d.identities[i]
        return len(gone)

    def queue_message(self, user_id: int, channel: str) -> None:
        """A message waiting for `user_id` (what the bot's notifier would have queued)."""
        self.d.outbox.append(MemMessage(user_id, channel))

    def cancel_task_messages(self, event_id: int, kinds: Sequence[str], now: datetime) -> int:
        return 0  # the engine's tests queue no task messages here (the storage tests check the SQL)

    def cancel_outbox_for(self, user_id: int, now: datetime, *, channel: str | None = None) -> int:
        dropped = 0
        for m in self.d.outbox:
            if m.user_id == user_id and m.status == "pending" and channel in (None, m.channel):
                m.status, dropped = "cancelled", dropped + 1
        return dropped

    # -- invites --
    def add_invite(self, new: NewInvite) -> MemInvite:
        invite = MemInvite(id=self._id(), **asdict(new))
        self.d.invites[invite.id] = invite
        return invite

    def invite_by_hash(self, code_hash: str) -> MemInvite | None:
        return next((i for i in self.d.invites.values() if i.code_hash == code_hash), None)

    def claim_invite(self, code_hash: str, user_id: int, now: datetime) -> bool:
        invite = self.invite_by_hash(code_hash)
        if invite is None or invite.used_at is not None or invite.expires_at <= now:
            return False
        invite.used_at, invite.used_by = now, user_id
        return True

    def revoke_invites_of(self, user_id: int, now: datetime) -> int:
        mine = [
            i for i in self.d.invites.values() if i.created_by == user_id and i.used_at is None and i.expires_at > now
        ]
        for i in mine:
            i.expires_at = now
        return len(mine)

    # -- evidence and extensions --
    def add_evidence(self, new: NewEvidence) -> MemEvidence:
        ev = MemEvidence(id=self._id(), **asdict(new))
        self.d.evidence[ev.id] = ev
        return ev

    def evidence_count(self, task_id: int) -> int:
        return sum(e.task_id == task_id for e in self.d.evidence.values())

    def evidence_counts(self, event_id: int) -> dict[int, int]:
        """Evidence per task of the event (the report's read model counts them all at once)."""
        out: dict[int, int] = {}
        for e in self.d.evidence.values():
            if self.d.tasks[e.task_id].event_id == event_id:
                out[e.task_id] = out.get(e.task_id, 0) + 1
        return out

    def evidence_bytes_of_agency(self, agency: str) -> int:
        return sum(e.size for e in self.d.evidence.values() if self.d.tasks[e.task_id].lead == agency)

    def add_extension(self, new: NewExtension) -> MemExtension:
        req = MemExtension(id=self._id(), **asdict(new))
        self.d.extensions[req.id] = req
        return req

    def extension(self, request_id: int) -> MemExtension | None:
        return self.d.extensions.get(request_id)

    # -- the reminder pass --
    def tasks_due_for_reminders(self, now: datetime, limit: int) -> list[MemTask]:
        due = [t for t in self.d.tasks.values() if t.next_reminder_at is not None and t.next_reminder_at <= now]
        return sorted(due, key=lambda t: (t.next_reminder_at or now, t.id))[:limit]

    def last_reports_of(self, task_ids: Iterable[int]) -> dict[int, datetime | None]:
        out: dict[int, datetime | None] = {}
        for t in task_ids:
            reports = [a.at for a in self.d.audit if a.task_id == t and a.action == "status"]
            out[t] = max(reports, default=None)
        return out

    def slot_keys_of(self, task_ids: Iterable[int]) -> dict[int, frozenset[str]]:
        return {t: frozenset(k for (task, k) in self.d.slots if task == t) for t in task_ids}

    def record_slot(self, *, task_id: int, key: str, kind: str, at: datetime, now: datetime, late: bool) -> bool:
        if (task_id, key) in self.d.slots:
            return False
        self.d.slots[(task_id, key)] = (kind, at, late)
        return True


class MemoryWorld:
    """What the engine tests need of an App: transactions on one MemoryStore, and a clock."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.store = MemoryStore()
        self.now = clock

    @contextmanager
    def write(self) -> Iterator[MemoryStore]:
        """One transaction: everything it changed is undone when it raises."""
        before = copy.deepcopy(self.store.d)
        try:
            yield self.store
        except BaseException:
            # Records handed out before keep their identity: restore their fields in place.
            _restore(self.store.d, before)
            raise

    @contextmanager
    def read(self) -> Iterator[MemoryStore]:
        yield self.store


def _restore(now: _Data, before: _Data) -> None:
    for name in ("agencies", "users", "identities", "events", "tasks", "invites", "evidence", "extensions"):
        live: dict[Any, Any] = getattr(now, name)
        old: dict[Any, Any] = getattr(before, name)
        for key in list(live):
            if key not in old:
                del live[key]
        for key, record in old.items():
            if key in live:
                live[key].__dict__.update(record.__dict__)
            else:
                live[key] = record
    now.audit[:] = before.audit
    now.slots.clear()
    now.slots.update(before.slots)
    now.outbox[:] = before.outbox
    now.last_id = before.last_id


def _is_a_store(store: MemoryStore) -> Store:
    return store  # mypy checks here that MemoryStore implements the engine's port


def _is_a_report_store(store: MemoryStore) -> ReportStore:
    return store  # and what the report's read model reads (workflows.report_model)
