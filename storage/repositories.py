"""SqlStore: the engine's `Store` protocol on one SQLModel session (one transaction)."""

from __future__ import annotations

from datetime import datetime
from itertools import chain

from sqlalchemy import event, func, insert, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from storage.models import (
    Agency, AuditEntry, Event, Evidence, ExtensionRequest, Identity, Invite, Outbox, ReminderSlot, SentMessage,
    Task, User,
)
from storage import statements as st
from workflows.ports import Ctx


# Who is staff, how to reach a person and which event is current are read for every
# command and notice, and a batch of inbox updates (one session) has hundreds: they are kept
# in the session's `info` and dropped whenever people or events change in it, or a
# (savepoint) rollback happens.
_PEOPLE = "dutybot.people"


def _tasks_added_or_removed(session) -> bool:
    """Tasks added or removed but not yet flushed: resolve references by query meanwhile."""
    return any(isinstance(o, Task) for o in chain(session.new, session.deleted))


def _people_touched(session) -> bool:
    return any(isinstance(o, (User, Identity, Event)) for o in chain(session.new, session.dirty, session.deleted))


@event.listens_for(Session, "before_flush")
def _forget_people_on_flush(session, _ctx, _instances) -> None:
    if _PEOPLE in session.info and _people_touched(session):
        session.info.pop(_PEOPLE, None)


@event.listens_for(Session, "after_rollback")
def _forget_people_on_rollback(session) -> None:
    session.info.pop(_PEOPLE, None)
    session.info.pop(_TASK_IDS, None)


# Task references already resolved in this session ((event, REF) -> the Task, held here: the
# session's identity map only holds objects weakly), so a batch in which the same tasks come
# up again finds them without a query. SQLite only:
# there the batch holds the one write lock, so no one else can change a task meanwhile; on
# PostgreSQL every lookup is a `SELECT ... FOR UPDATE`. Dropped when tasks are added or removed.
_TASK_IDS = "dutybot.task_ids"


@event.listens_for(Session, "before_flush")
def _forget_task_ids_on_flush(session, _ctx, _instances) -> None:
    if _TASK_IDS in session.info and _tasks_added_or_removed(session):
        session.info.pop(_TASK_IDS, None)


_OUTBOX_DEFAULTS = dict(dedupe_key=None, user_id=None, payload={}, task_id=None, urgent=False, status="pending",
                        attempts=0, sent_at=None, last_error=None, external_message_id=None, claimed_by=None,
                        claimed_until=None)


_AUDIT_INSERT = insert(AuditEntry.__table__)
_OUTBOX_INSERT_ONCE = {  # by "is PostgreSQL": ON CONFLICT DO NOTHING, RETURNING says if a row went in
    pg: ins(Outbox.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Outbox.__table__.c.id)
    for pg, ins in ((True, pg_insert), (False, sqlite_insert))
}


class SqlStore:
    """Reads and writes through `session`; the caller owns commit/rollback."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # -- generic -------------------------------------------------------------------------
    def add(self, obj):
        self.s.add(obj)
        self.s.flush()
        return obj

    # -- agencies ------------------------------------------------------------------------
    def upsert_agency(self, code: str, name: str, name_en: str) -> None:
        row = self.s.get(Agency, code)
        if row is None:
            self.s.add(Agency(code=code, name=name, name_en=name_en))
        else:
            row.name, row.name_en = name, name_en
        self.s.flush()

    def agency(self, code: str) -> Agency | None:
        return self.s.get(Agency, code.upper()) if code else None

    def agencies(self) -> list[Agency]:
        return list(self.s.exec(select(Agency).order_by(Agency.code)))

    # -- events and tasks ----------------------------------------------------------------
    def get_event(self, event_id: int) -> Event | None:
        return self.s.get(Event, event_id)

    def list_events(self) -> list[Event]:
        cache = self._people()
        if "events" not in cache:
            cache["events"] = list(self.s.exec(st.EVENTS))
        return list(cache["events"])

    def current_event(self, now: datetime) -> Event | None:
        """The event people mean when they name none: the latest launched one, else the latest."""
        events = self.list_events()
        launched = [e for e in events if e.launched_at is not None and e.ended_at is None]
        pool = launched or events
        return max(pool, key=lambda e: (e.launched_at is not None, e.id)) if pool else None

    def task(self, task_id: int, *, lock: bool = False) -> Task | None:
        if lock:
            return self.s.exec(st.TASK_LOCKED, params={"p_task": task_id}).first()
        return self.s.get(Task, task_id)

    def find_task(self, event_id: int, ref: str, *, lock: bool = False) -> Task | None:
        """A task by code (`CB-05`, any case) or number (`#17` or `17`)."""
        ref = ref.strip()
        digits = ref.lstrip("#")
        key = (event_id, f"#{int(digits)}" if digits.isdigit() else ref.upper())
        known = self._task_ids()
        if known is not None and key in known:
            return known[key]
        by_number = digits.isdigit()
        params = {"p_event": event_id, "p_number": int(digits)} if by_number else \
            {"p_event": event_id, "p_code": ref.upper()}
        task = self.s.exec(st.FIND_TASK[by_number, lock], params=params).first()
        if task is not None and known is not None:
            known[key] = task
        return task

    def _task_ids(self) -> dict | None:
        if self.s.get_bind().dialect.name != "sqlite" or _tasks_added_or_removed(self.s):
            return None
        return self.s.info.setdefault(_TASK_IDS, {})

    def tasks(self, event_id: int) -> list[Task]:
        return list(self.s.exec(select(Task).where(Task.event_id == event_id).order_by(Task.deadline, Task.number)))

    # -- audit ---------------------------------------------------------------------------
    def audit(self, *, event_id, task_id, ctx: Ctx, action: str, detail: dict) -> int:
        """Append an audit entry now (a plain INSERT: entries are never changed); returns its id."""
        actor = ctx.actor
        # On the connection: no autoflush of the session's pending changes for a plain INSERT;
        # one prepared statement with parameters (building `.values(...)` each time costs more).
        res = self.s.connection().execute(_AUDIT_INSERT, dict(
            event_id=event_id, task_id=task_id, at=ctx.now, actor_id=getattr(actor, "id", None),
            actor=getattr(actor, "name", "system"), channel=ctx.channel, action=action, detail=detail,
            message_ref=ctx.message_ref))
        return res.inserted_primary_key[0]

    def last_audit_id(self, task_id: int) -> int | None:
        return self.s.exec(st.LAST_AUDIT_ID, params={"p_task": task_id}).one()

    def tasks_by_codes(self, event_id: int, codes) -> list[Task]:
        codes = list(codes)
        if not codes:
            return []
        known = self._task_ids()
        if known is not None and all((event_id, c.upper()) in known for c in codes):
            return [known[(event_id, c.upper())] for c in codes]
        found = list(self.s.exec(st.TASKS_BY_CODES, params={"p_event": event_id, "p_codes": codes}))
        if known is not None:
            known.update({(event_id, t.code.upper()): t for t in found})
        return found

    def history(self, task_id: int) -> list[AuditEntry]:
        q = select(AuditEntry).where(AuditEntry.task_id == task_id).order_by(AuditEntry.at, AuditEntry.id)
        return list(self.s.exec(q))

    def audit_entry(self, entry_id: int) -> AuditEntry | None:
        return self.s.get(AuditEntry, entry_id)

    def event_audit(self, event_id: int) -> list[AuditEntry]:
        q = select(AuditEntry).where(AuditEntry.event_id == event_id).order_by(AuditEntry.at, AuditEntry.id)
        return list(self.s.exec(q))

    # -- people --------------------------------------------------------------------------
    def user(self, user_id: int) -> User | None:
        return self.s.get(User, user_id)

    def user_locked(self, user_id: int) -> User | None:
        """The person, row-locked until the transaction ends and read afresh (PostgreSQL: a
        second remover waits, then sees the first one's change)."""
        q = select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
        return self.s.exec(q).first()

    def users(self) -> list[User]:
        return list(self.s.exec(select(User).order_by(User.id)))

    def identity(self, channel: str, external_id: str) -> Identity | None:
        q = select(Identity).where(Identity.channel == channel, Identity.external_id == str(external_id))
        return self.s.exec(q).first()

    def identity_and_user(self, channel: str, external_id: str) -> tuple[Identity, User] | tuple[None, None]:
        """Who writes: one query for the identity and its person (or none, after `prefetch_senders`)."""
        cache = self._people()
        key = ("sender", channel, str(external_id))
        if key not in cache:
            row = self.s.exec(st.SENDER, params={"p_channel": channel, "p_ext": str(external_id)}).first()
            cache[key] = (row[0], row[1]) if row else (None, None)
        return cache[key]

    def prefetch_senders(self, channel: str, external_ids) -> None:
        """Look up everyone who wrote in a batch at once (dropped, like the rest, when people change)."""
        ids = sorted({str(i) for i in external_ids})
        if not ids:
            return
        cache = self._people()
        found = {i.external_id: (i, u) for i, u in self.s.exec(st.SENDERS, params={"p_channel": channel,
                                                                                     "p_exts": ids})}
        for ext in ids:
            cache[("sender", channel, ext)] = found.get(ext, (None, None))

    def _people(self) -> dict:
        cache = self.s.info.get(_PEOPLE)
        if cache is None or _people_touched(self.s):
            cache = self.s.info[_PEOPLE] = {}
        return cache

    def identities_of(self, user_id: int) -> list[Identity]:
        cache = self._people()
        key = ("identities", user_id)
        if key not in cache:
            cache[key] = list(self.s.exec(st.IDENTITIES_OF, params={"p_user": user_id}))
        return list(cache[key])

    def chats_reached(self, channel: str, chat_ids: list[str]) -> set[str]:
        """Which of these chats the bot has delivered to: a sign the person wrote to it first
        (Telegram refuses a bot's first word, and calls about a chat it never saw)."""
        if not chat_ids:
            return set()
        ids = [str(c) for c in chat_ids]
        sent = select(Outbox.chat_id).where(Outbox.channel == channel, Outbox.status == "sent",
                                            Outbox.chat_id.in_(ids)).distinct()
        memo = select(SentMessage.chat_id).where(SentMessage.channel == channel, SentMessage.chat_id.in_(ids)).distinct()
        return set(self.s.exec(sent)) | set(self.s.exec(memo))

    def remember_choices(self, channel: str, chat_id: str, choices: list[str] | None) -> None:
        """Store the numbered choices just offered in a chat (None clears them)."""
        q = select(Identity).where(Identity.channel == channel, Identity.chat_id == str(chat_id))
        for ident in self.s.exec(q):
            ident.choices = choices

    def users_with_role(self, *roles: str) -> list[User]:
        cache = self._people()
        key = ("roles", *sorted(roles))
        if key not in cache:
            cache[key] = list(self.s.exec(st.USERS_WITH_ROLE, params={"p_roles": list(roles)}))
        return list(cache[key])

    def contacts_of(self, agency: str, *, deputies: bool | None = None) -> list[User]:
        q = select(User).where(User.role == "contact", User.agency_code == agency, User.active == True)  # noqa: E712
        if deputies is not None:
            q = q.where(User.is_deputy == deputies)
        return list(self.s.exec(q.order_by(User.id)))

    # -- invites -------------------------------------------------------------------------
    def invite_by_hash(self, code_hash: str) -> Invite | None:
        return self.s.exec(select(Invite).where(Invite.code_hash == code_hash)).first()

    def claim_invite(self, code_hash: str, user_id: int, now: datetime) -> bool:
        # One conditional UPDATE: of concurrent claims, the database lets exactly one match.
        res = self.s.execute(
            update(Invite)
            .where(Invite.code_hash == code_hash, Invite.used_at.is_(None), Invite.expires_at > now)
            .values(used_at=now, used_by=user_id)
        )
        return res.rowcount == 1

    # -- evidence, extensions ------------------------------------------------------------
    def evidence_count(self, task_id: int) -> int:
        return self.s.exec(select(func.count()).select_from(Evidence).where(Evidence.task_id == task_id)).one()

    def evidence_counts(self, event_id: int) -> dict[int, int]:
        q = (select(Evidence.task_id, func.count()).join(Task, Task.id == Evidence.task_id)
             .where(Task.event_id == event_id).group_by(Evidence.task_id))
        return dict(self.s.exec(q).all())

    def evidence_of(self, task_id: int) -> list[Evidence]:
        return list(self.s.exec(select(Evidence).where(Evidence.task_id == task_id).order_by(Evidence.id)))

    def extension(self, request_id: int) -> ExtensionRequest | None:
        return self.s.get(ExtensionRequest, request_id)

    def pending_extensions(self, event_id: int) -> list[ExtensionRequest]:
        q = (select(ExtensionRequest).join(Task, Task.id == ExtensionRequest.task_id)
             .where(Task.event_id == event_id, ExtensionRequest.status == "pending"))
        return list(self.s.exec(q))

    # -- reminders -------------------------------------------------------------------------
    def tasks_due_for_reminders(self, now: datetime, limit: int) -> list[Task]:
        q = (select(Task).where(Task.next_reminder_at.is_not(None), Task.next_reminder_at <= now)
             .order_by(Task.next_reminder_at).limit(limit))
        return list(self.s.exec(q))

    def record_slot(self, *, task_id: int, key: str, kind: str, at: datetime, now: datetime, late: bool) -> bool:
        """Record a sent reminder slot once; False when it was already recorded (no error)."""
        dialect = self.s.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        table = ReminderSlot.__table__
        stmt = insert(table).values(task_id=task_id, key=key, kind=kind, at=at, created_at=now, late=late)
        # RETURNING tells reliably whether a row went in (rowcount is -1 with RETURNING on psycopg).
        res = self.s.connection().execute(
            stmt.on_conflict_do_nothing(index_elements=["task_id", "key"]).returning(table.c.id))
        return res.first() is not None

    def next_reminder_moment(self) -> datetime | None:
        return self.s.exec(select(func.min(Task.next_reminder_at))).one()

    def task_statuses(self, event_id: int, codes=None) -> dict[str, str]:
        """Status by code for the event's tasks (only `codes`, when given)."""
        q = select(Task.code, Task.status).where(Task.event_id == event_id)
        if codes is not None:
            if not codes:
                return {}
            q = q.where(Task.code.in_(list(codes)))
        return dict(self.s.exec(q).all())

    def slot_keys(self, task_id: int) -> frozenset[str]:
        return frozenset(self.s.exec(select(ReminderSlot.key).where(ReminderSlot.task_id == task_id)))

    def slot_keys_of(self, task_ids) -> dict[int, frozenset[str]]:
        """`slot_keys` for many tasks in one query (a reminder pass reads them for every task)."""
        ids, out = list(task_ids), {}
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            for task_id, key in self.s.exec(select(ReminderSlot.task_id, ReminderSlot.key)
                                            .where(ReminderSlot.task_id.in_(chunk))):
                out.setdefault(task_id, set()).add(key)
        return {t: frozenset(out.get(t, ())) for t in ids}

    def last_reports_of(self, task_ids) -> dict[int, datetime | None]:
        """`last_report_at` for many tasks in one query."""
        ids, out = list(task_ids), {}
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            q = (select(AuditEntry.task_id, func.max(AuditEntry.at))
                 .where(AuditEntry.task_id.in_(chunk), AuditEntry.action == "status").group_by(AuditEntry.task_id))
            out.update(dict(self.s.exec(q).all()))
        return {t: out.get(t) for t in ids}

    def last_report_at(self, task_id: int) -> datetime | None:
        q = select(func.max(AuditEntry.at)).where(AuditEntry.task_id == task_id, AuditEntry.action == "status")
        return self.s.exec(q).one()

    # -- outbox --------------------------------------------------------------------------
    def enqueue(self, row: Outbox) -> bool:
        """Insert an outbox row; a row whose dedupe_key already exists is skipped (False)."""
        return self.enqueue_values({c.name: getattr(row, c.name) for c in Outbox.__table__.columns
                                    if c.name != "id"})

    def enqueue_values(self, values: dict) -> bool:
        """`enqueue` from column values: a plain INSERT (no ORM object, no flush), and with a
        dedupe key ON CONFLICT DO NOTHING, so two workers queueing the same key cannot clash."""
        values = {**_OUTBOX_DEFAULTS, **values}
        if values.get("dedupe_key") is None:
            self.enqueue_new(values)
            return True
        conn = self.s.connection()  # no autoflush for a plain INSERT
        stmt = _OUTBOX_INSERT_ONCE[conn.dialect.name == "postgresql"]
        return conn.execute(stmt, values).first() is not None

    def enqueue_new(self, values: dict) -> int:
        """A plain INSERT of an outbox row without dedupe key; returns its id."""
        return self.s.connection().execute(st.OUTBOX_INSERT, {**_OUTBOX_DEFAULTS, **values}).inserted_primary_key[0]

    def append_news(self, row_id: int, user_id: int, sep: str, text: str, task_id: int | None, max_len: int) -> bool:
        """Append to a waiting plain-news row no worker has touched yet, in one statement (the
        database concatenates: two writers cannot lose each other's text, and a rolled-back
        append leaves nothing behind). False if the row is gone, taken, or would grow too long."""
        return self.s.connection().execute(st.APPEND_NEWS, dict(
            p_row=row_id, p_user=user_id, p_grow=len(sep) + len(text), p_max=max_len, p_sep=sep, p_item=text,
            p_same_task=task_id)).rowcount == 1

    def cancel_outbox_for(self, user_id: int, now: datetime, *, channel: str | None = None) -> int:
        """Messages still waiting for a removed person (or an unlinked app of theirs: `channel`)
        are not sent; the rows are kept, marked cancelled."""
        q = update(Outbox).where(Outbox.user_id == user_id, Outbox.status == "pending")
        if channel is not None:
            q = q.where(Outbox.channel == channel)
        res = self.s.execute(q.values(status="cancelled", last_error="recipient removed", claimed_by=None,
                                      claimed_until=None, next_attempt_at=now))
        return res.rowcount

    def release_held(self, kinds: tuple[str, ...], now: datetime) -> int:
        """Messages of these kinds held for the night (a launch, a broadcast) go now instead.
        Rows waiting out a flood limit (last_error set) keep their wait."""
        res = self.s.execute(update(Outbox).where(Outbox.status == "pending", Outbox.kind.in_(kinds),
                                                  Outbox.next_attempt_at > now, Outbox.last_error.is_(None))
                             .values(next_attempt_at=now))
        return res.rowcount

    def revoke_invites_of(self, user_id: int, now: datetime) -> int:
        """Unused codes someone made (invites, link codes) expire now: a removed person's codes die with them."""
        res = self.s.execute(update(Invite).where(Invite.created_by == user_id, Invite.used_at.is_(None),
                                                  Invite.expires_at > now).values(expires_at=now))
        return res.rowcount

    def remove_identities(self, user_id: int, channel: str) -> int:
        """Unlink a person's account(s) on one app (their history names the person, not the account)."""
        found = list(self.s.exec(select(Identity).where(Identity.user_id == user_id, Identity.channel == channel)))
        for ident in found:
            self.s.delete(ident)
        self.s.flush()
        return len(found)

    def one_at_a_time(self, name: str) -> None:
        """Until this transaction ends, another transaction asking for the same `name` waits:
        a check-then-create (a button pressed twice, by two people at once) creates once.
        SQLite's write transactions already run one at a time."""
        if self.s.get_bind().dialect.name == "postgresql":
            self.s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:n, 0))"), {"n": name})

    def is_active(self, user_id: int) -> bool:
        """The person exists and has not been removed (see workflows.people.is_active)."""
        user = self.s.get(User, user_id)
        return bool(user is not None and user.active)

    def pending_for_user(self, user_id: int) -> int:
        return self.s.exec(st.PENDING_FOR_USER, params={"p_user": user_id}).one()

    def evidence_bytes(self) -> int:
        return self.s.exec(select(func.coalesce(func.sum(Evidence.size), 0))).one()

    def evidence_bytes_of_agency(self, agency: str) -> int:
        """Bytes of evidence on the tasks `agency` leads (its quota, see workflows.quota)."""
        q = (select(func.coalesce(func.sum(Evidence.size), 0)).select_from(Evidence)
             .join(Task, Task.id == Evidence.task_id).where(Task.lead == agency))
        return self.s.exec(q).one()

    def pending_by_chat(self, channel: str) -> dict[str, int]:
        q = (select(Outbox.chat_id, func.count()).where(Outbox.channel == channel, Outbox.status == "pending")
             .group_by(Outbox.chat_id))
        return dict(self.s.exec(q).all())

    def remember_sent(self, channel: str, chat_id: str, message_id: str, task_id: int | None, kind: str,
                      now: datetime) -> None:
        self.s.add(SentMessage(channel=channel, chat_id=str(chat_id), message_id=str(message_id),
                               task_id=task_id, kind=kind, at=now))

    def last_task_message(self, channel: str, chat_id: str) -> SentMessage | None:
        """The newest message about a task in this chat: what a bare reply most likely answers."""
        q = (select(SentMessage).where(SentMessage.channel == channel, SentMessage.chat_id == str(chat_id),
                                       SentMessage.task_id.is_not(None)).order_by(SentMessage.id.desc()))
        return self.s.exec(q).first()

    def sent_message(self, channel: str, chat_id: str, message_id: str) -> SentMessage | None:
        q = select(SentMessage).where(SentMessage.channel == channel, SentMessage.chat_id == str(chat_id),
                                      SentMessage.message_id == str(message_id))
        return self.s.exec(q).first()
