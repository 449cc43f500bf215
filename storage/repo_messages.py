"""The outbox and the memo of delivered messages (part of SqlStore)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from storage import statements as st
from storage.models import Outbox, SentMessage, Task, table
from storage.repo_base import Repo, rowcount

_OUTBOX_DEFAULTS: dict[str, Any] = dict(
    dedupe_key=None,
    user_id=None,
    payload={},
    task_id=None,
    urgent=False,
    status="pending",
    attempts=0,
    sent_at=None,
    last_error=None,
    external_message_id=None,
    claimed_by=None,
    claimed_until=None,
)
_OUTBOX_INSERT_ONCE = {  # by "is PostgreSQL": ON CONFLICT DO NOTHING, RETURNING says if a row went in
    pg: ins(table(Outbox)).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table(Outbox).c.id)
    for pg, ins in ((True, pg_insert), (False, sqlite_insert))
}


class MessageRepo(Repo):
    def enqueue(self, row: Outbox) -> bool:
        """Insert an outbox row; a row whose dedupe_key already exists is skipped (False)."""
        return self.enqueue_values({c.name: getattr(row, c.name) for c in table(Outbox).columns if c.name != "id"})

    def enqueue_values(self, values: dict[str, Any]) -> bool:
        """`enqueue` from column values: a plain INSERT (no ORM object, no flush), and with a
        dedupe key ON CONFLICT DO NOTHING, so two workers queueing the same key cannot clash."""
        values = {**_OUTBOX_DEFAULTS, **values}
        if values.get("dedupe_key") is None:
            self.enqueue_new(values)
            return True
        conn = self.s.connection()  # no autoflush for a plain INSERT
        stmt = _OUTBOX_INSERT_ONCE[conn.dialect.name == "postgresql"]
        return conn.execute(stmt, values).first() is not None

    def enqueue_new(self, values: dict[str, Any]) -> int:
        """A plain INSERT of an outbox row without dedupe key; returns its id."""
        key = self.s.connection().execute(st.OUTBOX_INSERT, {**_OUTBOX_DEFAULTS, **values}).inserted_primary_key
        assert key is not None
        return int(key[0])

    def append_news(self, row_id: int, user_id: int, sep: str, text: str, task_id: int | None, max_len: int) -> bool:
        """Append to a waiting plain-news row no worker has touched yet, in one statement (the
        database concatenates: two writers cannot lose each other's text, and a rolled-back
        append leaves nothing behind). False if the row is gone, taken, or would grow too long."""
        return (
            self.s.connection()
            .execute(
                st.APPEND_NEWS,
                dict(
                    p_row=row_id,
                    p_user=user_id,
                    p_grow=len(sep) + len(text),
                    p_max=max_len,
                    p_sep=sep,
                    p_item=text,
                    p_same_task=task_id,
                ),
            )
            .rowcount
            == 1
        )

    def cancel_outbox_for(self, user_id: int, now: datetime, *, channel: str | None = None) -> int:
        """Messages still waiting for a removed person (or an unlinked app of theirs: `channel`)
        are not sent; the rows are kept, marked cancelled."""
        q = update(Outbox).where(col(Outbox.user_id) == user_id, col(Outbox.status) == "pending")
        if channel is not None:
            q = q.where(col(Outbox.channel) == channel)
        res = self.s.execute(
            q.values(
                status="cancelled",
                last_error="recipient removed",
                claimed_by=None,
                claimed_until=None,
                next_attempt_at=now,
            )
        )
        return rowcount(res)

    def cancel_task_messages(self, event_id: int, kinds: Sequence[str], now: datetime) -> int:
        """Unsent messages of these kinds about the event's tasks (and its launch summaries) are not
        sent: the event has ended. The rows are kept, marked cancelled."""
        tasks = select(Task.id).where(col(Task.event_id) == event_id)
        about = or_(col(Outbox.task_id).in_(tasks), col(Outbox.dedupe_key).like(f"launch:{event_id}:%"))
        res = self.s.execute(
            update(Outbox)
            .where(col(Outbox.status) == "pending", col(Outbox.kind).in_(list(kinds)), about)
            .values(
                status="cancelled", last_error="event ended", claimed_by=None, claimed_until=None, next_attempt_at=now
            )
        )
        return rowcount(res)

    def release_held(self, kinds: tuple[str, ...], now: datetime) -> int:
        """Messages of these kinds held for the night (a launch, a broadcast) go now instead.
        Rows waiting out a flood limit (last_error set) keep their wait."""
        res = self.s.execute(
            update(Outbox)
            .where(
                col(Outbox.status) == "pending",
                col(Outbox.kind).in_(kinds),
                col(Outbox.next_attempt_at) > now,
                col(Outbox.last_error).is_(None),
            )
            .values(next_attempt_at=now)
        )
        return rowcount(res)

    def pending_for_user(self, user_id: int) -> int:
        return self.s.exec(st.PENDING_FOR_USER, params={"p_user": user_id}).one()

    def pending_by_chat(self, channel: str) -> dict[str, int]:
        q = (
            select(Outbox.chat_id, func.count())
            .where(Outbox.channel == channel, Outbox.status == "pending")
            .group_by(col(Outbox.chat_id))
        )
        return {chat: n for chat, n in self.s.exec(q).all()}

    def chats_reached(self, channel: str, chat_ids: list[str]) -> set[str]:
        """Which of these chats the bot has delivered to: a sign the person wrote to it first
        (Telegram refuses a bot's first word, and calls about a chat it never saw)."""
        if not chat_ids:
            return set()
        ids = [str(c) for c in chat_ids]
        sent = (
            select(Outbox.chat_id)
            .where(Outbox.channel == channel, Outbox.status == "sent", col(Outbox.chat_id).in_(ids))
            .distinct()
        )
        memo = (
            select(SentMessage.chat_id)
            .where(SentMessage.channel == channel, col(SentMessage.chat_id).in_(ids))
            .distinct()
        )
        return set(self.s.exec(sent)) | set(self.s.exec(memo))

    def remember_sent(
        self, channel: str, chat_id: str, message_id: str, task_id: int | None, kind: str, now: datetime
    ) -> None:
        self.s.add(
            SentMessage(
                channel=channel, chat_id=str(chat_id), message_id=str(message_id), task_id=task_id, kind=kind, at=now
            )
        )

    def last_task_message(self, channel: str, chat_id: str) -> SentMessage | None:
        """The newest message about a task in this chat: what a bare reply most likely answers."""
        q = (
            select(SentMessage)
            .where(
                SentMessage.channel == channel,
                SentMessage.chat_id == str(chat_id),
                col(SentMessage.task_id).is_not(None),
            )
            .order_by(col(SentMessage.id).desc())
        )
        return self.s.exec(q).first()

    def sent_message(self, channel: str, chat_id: str, message_id: str) -> SentMessage | None:
        q = select(SentMessage).where(
            SentMessage.channel == channel,
            SentMessage.chat_id == str(chat_id),
            SentMessage.message_id == str(message_id),
        )
        return self.s.exec(q).first()
