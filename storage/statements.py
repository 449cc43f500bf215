"""Statements on the hot path, built once and executed with parameters.

Why: SQLAlchemy caches the compiled SQL, but an expression built afresh on every call is
built (operators, coercions) and fingerprinted (its cache key) every time, and on SQLite that
Python work cost more than running the statement: for one status update it was about half of
the database time (bench/telegram_updates.py, py-spy). A statement object kept here is built
once and fingerprinted once (SQLAlchemy memoizes the key on the object); each call only
binds its values. Names of parameters avoid column names (an UPDATE reserves those).
"""

from __future__ import annotations

from sqlalchemy import Integer, String, bindparam, case, func, insert, update
from sqlmodel import col, select

from storage.models import AuditEntry, Event, Identity, InboundUpdate, Outbox, SentMessage, Task, User, table

_out = table(Outbox)
_in = table(InboundUpdate)

# -- people and events (storage.repositories) ------------------------------------------------
SENDER = (
    select(Identity, User)
    .join(User, col(User.id) == col(Identity.user_id))
    .where(Identity.channel == bindparam("p_channel"), Identity.external_id == bindparam("p_ext"))
)
SENDERS = (
    select(Identity, User)
    .join(User, col(User.id) == col(Identity.user_id))
    .where(
        Identity.channel == bindparam("p_channel"), col(Identity.external_id).in_(bindparam("p_exts", expanding=True))
    )
)
IDENTITIES_OF = select(Identity).where(Identity.user_id == bindparam("p_user")).order_by(col(Identity.id))
USERS_WITH_ROLE = (
    select(User)
    .where(col(User.role).in_(bindparam("p_roles", expanding=True)), User.active == True)  # noqa: E712  (SQL, not Python)
    .order_by(col(User.id))
)
EVENTS = select(Event).order_by(col(Event.id))
PENDING_FOR_USER = (
    select(func.count()).select_from(Outbox).where(Outbox.user_id == bindparam("p_user"), Outbox.status == "pending")
)

# -- tasks: (by number?, locked?) -> statement -------------------------------------------------
_BY_NUMBER = select(Task).where(Task.event_id == bindparam("p_event"), Task.number == bindparam("p_number"))
_BY_CODE = select(Task).where(Task.event_id == bindparam("p_event"), func.upper(Task.code) == bindparam("p_code"))
FIND_TASK = {
    (True, False): _BY_NUMBER,
    (True, True): _BY_NUMBER.with_for_update(),
    (False, False): _BY_CODE,
    (False, True): _BY_CODE.with_for_update(),
}
TASK_LOCKED = select(Task).where(Task.id == bindparam("p_task")).with_for_update()
TASKS_BY_CODES = select(Task).where(
    Task.event_id == bindparam("p_event"), col(Task.code).in_(bindparam("p_codes", expanding=True))
)
LAST_AUDIT_ID = select(func.max(AuditEntry.id)).where(AuditEntry.task_id == bindparam("p_task"))

# -- outbox ------------------------------------------------------------------------------------
# Plain news appended to a waiting row no worker has touched, if it stays short enough; the
# database concatenates (see SqlStore.append_news).
APPEND_NEWS = (
    update(_out)
    .where(
        _out.c.id == bindparam("p_row"),
        _out.c.user_id == bindparam("p_user"),
        _out.c.status == "pending",
        _out.c.kind == "news",
        _out.c.urgent.is_(False),
        _out.c.attempts == 0,
        _out.c.claimed_by.is_(None),
        func.length(_out.c.text) + bindparam("p_grow", type_=Integer) <= bindparam("p_max", type_=Integer),
    )
    .values(
        text=_out.c.text + bindparam("p_sep", type_=String) + bindparam("p_item", type_=String),
        task_id=case((_out.c.task_id == bindparam("p_same_task", type_=Integer), _out.c.task_id), else_=None),
    )
)
OUTBOX_INSERT = insert(_out)
MARK_SENT = (
    update(_out)
    .where(_out.c.dedupe_key == bindparam("p_key"))
    .values(
        status="sent",
        sent_at=bindparam("p_now"),
        attempts=1,
        claimed_by=None,
        claimed_until=None,
        external_message_id=bindparam("p_mid"),
    )
)
SENT_INSERT = insert(table(SentMessage))

# -- inbox (bot.inbox) ---------------------------------------------------------------------------
INBOX_SEEN = select(InboundUpdate.update_key).where(
    InboundUpdate.channel == bindparam("p_channel"),
    col(InboundUpdate.update_key).in_(bindparam("p_keys", expanding=True)),
)
INBOX_INSERT = insert(_in).returning(_in.c.id, _in.c.update_key, sort_by_parameter_order=True)
INBOX_CLAIM = (
    update(_in)
    .where(_in.c.id == bindparam("p_row"), _in.c.status == "pending")
    .values(status="done", processed_at=bindparam("p_now"))
)
INBOX_DONE = (
    update(_in)
    .where(_in.c.id.in_(bindparam("p_rows", expanding=True)), _in.c.status == "pending")
    .values(status="done", processed_at=bindparam("p_now"))
)
