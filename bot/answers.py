"""Answers to inbox updates are written down before they are sent, so a crash loses none.

The batch that applies a status update also inserts its answer into the outbox, claimed by
this process for a short while; after the commit the channel sends it at once and marks it
sent (with the rest of the batch, in one statement). Killed in between, the claim runs out
and the delivery worker sends what was not. Files and photos (a report, evidence) are
answered directly only: they are large, and a person who asked for one can ask again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.channels.base import ChannelError, Reply
from bot.instance import WORKER_ID
from bot.liveness import Pulse
from bot.outgoing import queue_reply
from storage import outbox as rows
from storage import retry

log = logging.getLogger(__name__)
# Longer than a send takes (a send that outlives it may be sent again by the delivery worker).
CLAIM = timedelta(seconds=30)
CLAIMER = f"{WORKER_ID}:answer"[:80]
_MARK = "answer:"


def durable(reply: Reply) -> bool:
    return not reply.edit and reply.document is None and reply.photo is None


def key_for(channel: str, row_id: int, index: int) -> str:
    """One key per (update, answer): a replayed update can never queue its answer twice."""
    return f"{_MARK}{channel}:{row_id}:{index}"


def stage(session, channel: str, answers: list[tuple[str, str, Reply]], now) -> None:
    """Insert (key, chat_id, reply) rows, claimed by this process, in the batch's transaction."""
    if not answers:
        return
    rows.stage_answers(
        session,
        [
            dict(
                dedupe_key=key,
                user_id=None,
                channel=channel,
                chat_id=str(chat_id),
                kind=reply.kind,
                text=reply.text,
                payload=_payload(reply),
                task_id=reply.task_id,
                urgent=True,
                status="pending",
                attempts=0,
                created_at=now,
                next_attempt_at=now,
                claimed_by=CLAIMER,
                claimed_until=now + CLAIM,
            )
            for key, chat_id, reply in answers
        ],
    )


def _payload(reply: Reply) -> dict:
    payload = {"buttons": [[{"label": b.label, "data": b.data} for b in row] for row in reply.buttons]}
    if reply.reply_to:
        payload["reply_to"] = str(reply.reply_to)
    return payload


def settle(
    app,
    channel: str,
    sent: list[tuple[str, str, str, Reply]],
    failed: list[tuple[str, ChannelError]],
    remember: list[tuple[str, str, int, str]],
    deferred: list[str] = (),
) -> None:
    """After sending: mark sent rows, hand failed ones and the ones that must wait their turn
    (`deferred`) to the delivery worker (or park them), and remember which task each message
    was about; one transaction for the whole batch."""
    if not (sent or failed or remember or deferred):
        return
    now = app.now()
    sent, failed = sorted(sent, key=lambda x: x[0]), sorted(failed, key=lambda x: x[0])  # rows in one order
    with app.db.write() as s:
        rows.mark_answers_sent(s, [(key, mid) for key, _chat, mid, _r in sent], now)
        # Left to wait their turn (bot.ratelimit): the delivery worker sends them, paced.
        rows.release_answers(s, deferred, now)
        for key, exc in failed:
            park = exc.permanent or exc.blocked
            if park:
                log.warning("answer %s refused: %s", key, exc)
            # else a flood limit or a network error: the delivery worker sends it after the wait
            rows.answer_failed(
                s,
                key,
                error=exc.stored(),
                park=park,
                retry_at=None if park else now + timedelta(seconds=exc.retry_after or 1),
            )
        memo = [
            dict(channel=channel, chat_id=str(chat), message_id=str(mid), task_id=task_id, kind=kind, at=now)
            for chat, mid, task_id, kind in remember
        ]
        memo += [
            dict(channel=channel, chat_id=str(chat), message_id=str(mid), task_id=r.task_id, kind=r.kind, at=now)
            for _key, chat, mid, r in sent
            if r.task_id is not None and mid
        ]
        rows.remember_sent_rows(s, memo)


def release_orphans(app, channel: str) -> int:
    """At start on SQLite (one process at a time): answers claimed by a previous, dead process
    go out now instead of after their claim runs out."""
    if not app.db.is_sqlite:
        return 0
    with app.db.write() as s:
        return rows.release_orphans(s, channel, _MARK, CLAIMER)


async def wait_turn(pipe, chat_id: str, reply: Reply, key: str | None, out: Outcome) -> bool:
    """Paced per chat like every send (about one message a second): an answer that would come
    too soon after the last one, or behind answers already waiting, is left to the delivery
    worker (`pipe`: a bot.pipeline.Pipeline), which sends it in its turn (the waiting texts
    together, as one message). True when it was left to it."""
    chat, now = str(chat_id), time.monotonic()
    wait = pipe.pacer.chat_delay(chat, now)
    if reply.edit or (wait <= 0 and not pipe.pacer.queued(chat, now)):
        return False
    pipe.pacer.queue(chat, 1, now)
    if key is not None:
        out.deferred.append(key)
    else:  # a file: its row carries it (bot.outgoing.queue_reply)
        await asyncio.to_thread(queue_reply, pipe.app, pipe.channel.name, chat, reply, max(wait, 0.01))
        pipe.on_change()
    return True


@dataclass
class Outcome:
    """What happened to answers once sent: `settle`'s arguments, collected."""

    sent: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    memo: list = field(default_factory=list)
    deferred: list = field(default_factory=list)  # keys of answers left to the outbox, paced

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed or self.memo or self.deferred)


class Settler:
    """Settles sent answers in the background: outcomes collect while one `settle` runs, and
    the next takes them all, so the next batch's answers never wait for it (under load several
    batches settle in one transaction). A crash before it leaves the answers claimed: they are
    sent again, never lost."""

    def __init__(self, app, channel: str, on_deferred=lambda: None) -> None:
        self.app, self.channel, self.on_deferred = app, channel, on_deferred
        self._waiting = Outcome()
        self._waiters: list[asyncio.Future] = []  # one per add(), resolved once its outcome is written
        self._task: asyncio.Task | None = None
        self.pulse = Pulse(f"{channel}-answers")  # runs only when there is something to settle

    def add(self, out: Outcome) -> asyncio.Future:
        """Queue an outcome; the future resolves once it is written (or writing it failed)."""
        done = asyncio.get_running_loop().create_future()
        for name in ("sent", "failed", "memo", "deferred"):
            getattr(self._waiting, name).extend(getattr(out, name))
        self._waiters.append(done)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return done

    async def drain(self, timeout: float) -> None:
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=timeout)

    async def _run(self) -> None:
        while self._waiters:
            out, self._waiting = self._waiting, Outcome()
            waiters, self._waiters = self._waiters, []
            try:
                if out:
                    await self._settle(out)
                if out.deferred:  # released to the delivery worker: wake it
                    self.on_deferred()
            finally:
                for done in waiters:
                    if not done.done():
                        done.set_result(None)

    async def _settle(self, out: Outcome) -> None:
        """Write one outcome; while the database is down, try again for as long as the answers'
        claim lasts (after that the delivery worker sends them again anyway)."""
        first = time.monotonic()
        while True:
            try:
                await asyncio.to_thread(
                    retry.transaction, settle, self.app, self.channel, out.sent, out.failed, out.memo, out.deferred
                )
                self.pulse.ok()
                return
            except Exception as exc:
                if not retry.is_transient(exc) or time.monotonic() - first > CLAIM.total_seconds() - 5:
                    self.pulse.failed(exc)
                    log.warning(
                        "%d answers not marked sent (%s); the outbox sends them again",
                        len(out.sent) + len(out.failed) + len(out.deferred),
                        type(exc).__name__,
                    )
                    self.pulse.gave_up()
                    return
                await self.pulse.pause(exc)


class InFlight:
    """Chats whose answers are still being sent or settled. Which task a sent message is about
    is written by `settle`, after the send; a free-text reply from such a chat is read only
    once it is written, or it would be asked "which task?"."""

    def __init__(self) -> None:
        self._count: Counter[str] = Counter()
        self._changed = asyncio.Event()

    def hold(self, chats: Iterable[str]) -> None:
        self._count.update(chats)

    def release(self, chats: Iterable[str]) -> None:
        self._count.subtract(chats)
        self._count += Counter()  # drops the chats at zero
        self._changed.set()

    async def wait_clear(self, chats: set[str], timeout: float) -> bool:
        """Wait until none of `chats` has answers in flight; False when `timeout` ran out."""
        deadline = time.monotonic() + timeout
        while chats & self._count.keys():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return False
        return True
