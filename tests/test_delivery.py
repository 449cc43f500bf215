"""Delivery through the Telegram double with the real python-telegram-bot, on SQLite and PostgreSQL.

The outbox worker (`bot.delivery.Delivery`) sends through the real `TelegramChannel.send`, so
PTB's errors (RetryAfter, Forbidden, BadRequest, NetworkError) are mapped by the real code:
rows go out once, a 429's retry_after is honoured, 5xx are retried with backoff, a user who
blocked the bot is parked and reported once, a rejected message is parked with its error,
urgent rows go first. Then the reminder pass end to end with a controlled clock: which outbox
rows exist after a moved deadline, a task done between two slots, and a downtime.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.app import SystemActor
from bot.channels.telegram import TelegramChannel
from bot.delivery import Delivery
from bot.ratelimit import Limits, Pacer
from bot.router import Router
from bot.scheduler import base_policy, reminder_pass
from storage.models import Event, Outbox, ReminderSlot, SentMessage, Task, User
from tests.conftest import Clock, make_app
from tests.doubles.telegram_api import TelegramDouble
from tests.helpers import add_user
from workflows import chase, service
from workflows import events as event_uc
from workflows.ports import Ctx
from workflows.spec import load_template

TOKEN = "123:TEST"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COORD, CA, SYT = 9002, 9101, 9102


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Hà Nội wall-clock moment as the aware UTC instant the engine stores."""
    return datetime(y, mo, d, h, mi, tzinfo=TZ).astimezone(timezone.utc)


# The event starts 01/06/2026 07:00; duties fall due at 17:00 local on T-20d, T-19d, T-18d.
# Only a "1d before" reminder, and no acknowledgement chase inside the window under test.
TEMPLATE = """
[template]
name = "Lễ thử nghiệm"
timezone = "Asia/Ho_Chi_Minh"
default_due_time = "17:00"
start_time = "07:00"

[reminders]
before = ["1d"]
ack_timeout = "30d"

[[agencies]]
code = "CA"
name = "Công an tỉnh"

[[agencies]]
code = "SYT"
name = "Sở Y tế"

[[phases]]
code = "CB"
name = "Chuẩn bị"

[[duties]]
code = "CA-1"
title = "Phương án an ninh"
phase = "CB"
lead = "CA"
due = "T-20d"

[[duties]]
code = "CA-2"
title = "Phân luồng giao thông"
phase = "CB"
lead = "CA"
due = "T-19d"

[[duties]]
code = "CA-3"
title = "Diễn tập phòng cháy"
phase = "CB"
lead = "CA"
due = "T-18d"

[[duties]]
code = "SYT-1"
title = "Đội cấp cứu trực"
phase = "CB"
lead = "SYT"
due = "T-20d"
"""
START = local(2026, 6, 1, 7)


@dataclass
class World:
    app: object
    tg: TelegramDouble
    clock: Clock
    channel: TelegramChannel
    users: dict

    def delivery(self, limits: Limits | None = None) -> Delivery:
        return Delivery(self.app, {"telegram": self.channel}, {"telegram": Pacer(limits or Limits())})

    def enqueue(
        self, chat: int, text: str, *, urgent: bool = False, task_id: int | None = None, kind: str = "info"
    ) -> int:
        now = self.clock()
        with self.app.write() as store:
            row = store.add(
                Outbox(
                    user_id=self.users[chat].id,
                    channel="telegram",
                    chat_id=str(chat),
                    kind=kind,
                    text=text,
                    task_id=task_id,
                    urgent=urgent,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            return row.id

    def row(self, row_id: int) -> Outbox:
        with self.app.read() as store:
            return store.s.get(Outbox, row_id)

    def rows(self) -> list[Outbox]:
        with self.app.read() as store:
            return list(store.s.exec(select(Outbox).order_by(Outbox.id)))

    def sends_to(self, chat: int) -> int:
        """sendMessage requests that reached the double for `chat`, answered or refused."""
        ok = sum(1 for r in self.tg.sent if r.method == "sendMessage" and r.chat_id == chat)
        refused = sum(
            1 for e in self.tg.errors if e["method"] == "sendMessage" and str(e["params"].get("chat_id")) == str(chat)
        )
        return ok + refused


@pytest.fixture
async def world(db_url, tmp_path):
    clock = Clock(local(2026, 5, 1, 9))
    async with TelegramDouble(token=TOKEN) as tg:
        app = make_app(
            db_url, clock, telegram={"token": TOKEN, "base_url": tg.base_url, "base_file_url": tg.base_file_url}
        )
        with app.write() as store:
            store.upsert_agency("CA", "Công an tỉnh", "Provincial Police")
            store.upsert_agency("SYT", "Sở Y tế", "Department of Health")
        users = {}
        for uid, role, agency in ((COORD, "coordinator", None), (CA, "contact", "CA"), (SYT, "contact", "SYT")):
            tg.make_user(uid, f"U{uid}")
            await tg.user_sends(uid, "/start")  # the bot may write to a user only after they wrote to it
            users[uid] = add_user(app, str(uid), role, agency, channel="telegram")
        channel = TelegramChannel(app, Router(app))
        await channel.start()
        try:
            yield World(app, tg, clock, channel, users)
        finally:
            await channel.stop()
            app.db.dispose()


async def drain(delivery: Delivery, until, timeout: float = 5.0) -> None:
    """Run drain passes until `until()` holds; the pacer's waits are real, so sleep between."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("delivery did not finish in time")
        await delivery.drain_once()
        await asyncio.sleep(min(delivery.next_wait or 0.01, 0.05))


async def until(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


def pending(world: World):
    return lambda: all(r.status != "pending" for r in world.rows())


# ---- the outbox worker ------------------------------------------------------------------------
async def test_rows_are_delivered_once_and_remembered(world, tmp_path):
    _seed(world, tmp_path)
    task_id = _task(world, "CA-1").id
    ids = [
        world.enqueue(CA, "<b>Một</b>"),
        world.enqueue(CA, "Hai &amp; ba", task_id=task_id, kind="reminder"),
        world.enqueue(SYT, "Bốn"),
        world.enqueue(COORD, "Năm"),
    ]
    delivery = world.delivery()
    passes = []
    real_drain = delivery.drain_once

    async def counted(*args, **kwargs):
        passes.append(await real_drain(*args, **kwargs))
        return passes[-1]

    delivery.drain_once = counted
    runner = asyncio.create_task(delivery.run_forever())
    try:
        await world.tg.wait_for_messages(CA, 2, timeout=5)  # two to one chat: paced a second apart
        await until(pending(world))
        seen = len(passes)
        await until(lambda: len(passes) >= seen + 2)  # a whole later pass found nothing to send again
    finally:
        delivery.stop()
        await runner
    texts = [r.text for r in world.tg.sent if r.method == "sendMessage"]
    assert sorted(texts) == sorted(["Một", "Hai & ba", "Bốn", "Năm"])  # each exactly once
    rows = {r.id: r for r in world.rows()}
    for row_id in ids:
        row = rows[row_id]
        assert row.status == "sent" and row.attempts == 1 and row.sent_at == world.clock()
        assert any(
            m.message_id == int(row.external_message_id) and m.chat_id == int(row.chat_id) for m in world.tg.sent
        )
    # A reply to the reminder binds to its task: the message is remembered.
    with world.app.read() as store:
        remembered = list(store.s.exec(select(SentMessage)))
    assert [(m.chat_id, m.message_id, m.task_id) for m in remembered] == [
        (str(CA), rows[ids[1]].external_message_id, task_id)
    ]
    # Draining again sends nothing more.
    before = world.tg.stats["requests"]
    assert await world.delivery().drain_once() == 0
    assert world.tg.stats["requests"] == before
    assert world.tg.stats["429"] == 0 and not world.tg.validation_errors


async def test_retry_after_is_honoured(world):
    world.tg.fail_next(1, 429, retry_after=1, methods=["sendMessage"])
    held, other = world.enqueue(CA, "Nhắc việc A"), world.enqueue(SYT, "Nhắc việc B")
    delivery = world.delivery()
    await delivery.drain_once()
    refused_at = world.tg.errors[-1]["time"]
    row = world.row(held)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "retry_after 1s: flood limit")
    assert row.next_attempt_at >= world.clock() + timedelta(seconds=1)
    # The database would allow it now; the pacer still holds the chat until the window ends.
    world.clock.advance(seconds=1)
    await drain(delivery, pending(world))
    assert world.row(other).status == "sent" and world.row(held).status == "sent"
    sent = next(r for r in world.tg.sent if r.chat_id == CA)
    assert sent.time - refused_at >= 1.0
    assert world.sends_to(CA) == 2  # the refused one and the one after the window, nothing between
    assert world.tg.stats["sent_inside_retry_after"] == 0
    other_sent = next(r for r in world.tg.sent if r.chat_id == SYT)
    assert other_sent.time < sent.time  # another chat was not held up by this one's window


async def test_bad_gateway_is_retried_with_backoff(world):
    world.tg.fail_next(2, 502, methods=["sendMessage"])
    row_id = world.enqueue(CA, "Báo cáo tiến độ")
    delivery = world.delivery(Limits.unlimited())  # pacing is not under test here
    t0 = world.clock()
    waits = []
    for step in (0, 1, 1, 3, 1):  # seconds of the app clock between passes
        world.clock.advance(seconds=step)
        pacer = delivery.pacers["telegram"]
        if step:  # a 502 also pauses the whole channel (real time): let that pause pass too
            pacer._paused_until = 0.0
        await delivery.drain_once()
        waits.append((world.sends_to(CA), world.row(row_id).attempts, world.row(row_id).status))
    # 502 at t0 -> next at t0+2s; nothing at +1s; 502 at +2s -> next at +6s; nothing at +5s; sent at +6s.
    assert waits == [(1, 1, "pending"), (1, 1, "pending"), (2, 2, "pending"), (2, 2, "pending"), (3, 3, "sent")]
    row = world.row(row_id)
    assert row.sent_at == t0 + timedelta(seconds=6)
    assert row.last_error.startswith("network")  # the last failure is kept for the record


async def test_blocked_user_is_parked_marked_unreachable_and_reported_once(world):
    world.tg.block_user(CA, notify=False)
    first, second = world.enqueue(CA, "Nhắc một"), world.enqueue(CA, "Nhắc hai")
    delivery = world.delivery(Limits.unlimited())
    await drain(delivery, pending(world))
    for row_id in (first, second):
        row = world.row(row_id)
        assert row.status == "parked" and row.attempts == 1 and "blocked" in row.last_error
    with world.app.read() as store:
        assert store.s.get(User, world.users[CA].id).unreachable is True
    told = [r for r in world.rows() if r.chat_id == str(COORD)]
    assert len(told) == 1 and told[0].urgent and told[0].status == "sent"
    coordinator_got = world.tg.messages_to(COORD)
    assert len(coordinator_got) == 1 and str(CA) in coordinator_got[0].text  # names whom, once
    assert world.sends_to(CA) == 2  # each row tried once, not retried


async def test_rejected_message_is_parked_with_its_error(world):
    bad = world.enqueue(CA, "Hạn <b>17:00")  # HTML Telegram cannot parse: a permanent refusal
    good = world.enqueue(SYT, "Hạn <b>17:00</b>")
    delivery = world.delivery(Limits.unlimited())
    await drain(delivery, pending(world))
    row = world.row(bad)
    assert row.status == "parked" and row.attempts == 1
    assert "parse entities" in row.last_error.lower()
    assert world.row(good).status == "sent"
    world.clock.advance(hours=1)
    await delivery.drain_once()
    assert world.sends_to(CA) == 1  # never retried


async def test_urgent_rows_go_before_routine_ones(world):
    for chat in (CA, SYT):
        world.enqueue(chat, f"Thường {chat}")
    world.enqueue(COORD, "Khẩn", urgent=True)  # queued last, sent first
    delivery = world.delivery()
    await drain(delivery, pending(world))
    order = [r.text for r in world.tg.sent if r.method == "sendMessage"]
    assert order == ["Khẩn", f"Thường {CA}", f"Thường {SYT}"]
    assert world.tg.stats["429"] == 0


# ---- the reminder pass, end to end ------------------------------------------------------------
def _seed(world: World, tmp_path) -> Event:
    path = tmp_path / "thu.toml"
    path.write_text(TEMPLATE, encoding="utf-8")
    with world.app.write() as store:
        return event_uc.create_event(store, _ctx(world), load_template(path), START, None)


def _ctx(world: World) -> Ctx:
    return Ctx(actor=SystemActor(), channel="cli", now=world.clock())


def _launch(world: World, tmp_path) -> Event:
    world.tg.set_limits(None)  # these tests are about which rows exist, not about pacing
    event = _seed(world, tmp_path)
    with world.app.write() as store:
        event_uc.launch_event(store, _ctx(world), store.get_event(event.id))  # assignments not queued here
    return event


def _task(world: World, code: str) -> Task:
    with world.app.read() as store:
        return store.s.exec(select(Task).where(Task.code == code)).one()


def _slots(world: World, code: str) -> list[ReminderSlot]:
    task = _task(world, code)
    with world.app.read() as store:
        return list(store.s.exec(select(ReminderSlot).where(ReminderSlot.task_id == task.id).order_by(ReminderSlot.id)))


def _slot_rows(world: World, code: str) -> list[str]:
    """Slot keys of the outbox rows about task `code` (their dedupe key is slot:<task>:<key>:<user>)."""
    task = _task(world, code)
    return [
        r.dedupe_key.split(":", 2)[2].rsplit(":", 1)[0]
        for r in world.rows()
        if r.dedupe_key and r.dedupe_key.startswith(f"slot:{task.id}:")
    ]


def _ep(when: datetime) -> int:
    return int(when.timestamp())


async def test_deadline_moved_after_a_reminder_gives_a_fresh_one_and_repeats_none(world, tmp_path):
    _launch(world, tmp_path)
    old, new = local(2026, 5, 12, 17), local(2026, 5, 15, 17)
    world.clock.now = local(2026, 5, 11, 17, 5)
    reminder_pass(world.app)
    assert _slot_rows(world, "CA-1") == [f"before:1d@{_ep(old)}"]
    with world.app.write() as store:
        result = service.set_deadline(
            store, _ctx(world), store.find_task(_task(world, "CA-1").event_id, "CA-1"), new, "chờ kinh phí"
        )
        world.app.notifier.enqueue(store, result.notices, world.clock())
    reminder_pass(world.app)  # same moment: nothing new for the new deadline yet
    world.clock.now = local(2026, 5, 12, 17, 5)  # the old deadline passes: no "due" for it
    reminder_pass(world.app)
    world.clock.now = local(2026, 5, 14, 17, 5)
    reminder_pass(world.app)
    reminder_pass(world.app)
    assert _slot_rows(world, "CA-1") == [f"before:1d@{_ep(old)}", f"before:1d@{_ep(new)}"]
    assert [s.key for s in _slots(world, "CA-1")] == [f"before:1d@{_ep(old)}", f"before:1d@{_ep(new)}"]
    # SYT-1 kept its deadline: its reminder and its due message, each once, then its overdue ones.
    syt = _slot_rows(world, "SYT-1")
    assert syt[:2] == [f"before:1d@{_ep(old)}", f"due@{_ep(old)}"] and len(set(syt)) == len(syt)
    # Delivered through Telegram: about CA-1 the contact reads the old reminder, the change, the new one.
    await drain(world.delivery(Limits.unlimited()), pending(world))
    got = [m.text for m in world.tg.messages_to(CA) if "CA-1" in m.text]
    assert len(got) == 3 and "12/05" in got[0] and "15/05" in got[1] and "15/05" in got[2]


async def test_task_done_between_two_slots_gets_no_later_slot(world, tmp_path):
    _launch(world, tmp_path)
    world.clock.now = local(2026, 5, 12, 17, 5)
    reminder_pass(world.app)
    assert _slot_rows(world, "CA-2") == [f"before:1d@{_ep(local(2026, 5, 13, 17))}"]
    with world.app.write() as store:
        task = store.find_task(_task(world, "CA-2").event_id, "CA-2")
        world.app.notifier.enqueue(store, service.report(store, _ctx(world), task, "done").notices, world.clock())
    for moment in (local(2026, 5, 13, 17, 5), local(2026, 5, 14, 17, 5), local(2026, 5, 15, 17, 5)):
        world.clock.now = moment
        reminder_pass(world.app)
    assert _slot_rows(world, "CA-2") == [f"before:1d@{_ep(local(2026, 5, 13, 17))}"]
    assert _task(world, "CA-2").next_reminder_at is None
    assert f"overdue:1@{_ep(local(2026, 5, 12, 17))}" in _slot_rows(world, "CA-1")  # the others went on


async def test_after_downtime_stale_reminders_of_one_agency_fold_into_one_late_catch_up(world, tmp_path):
    _launch(world, tmp_path)
    world.clock.now = local(2026, 5, 14, 18)  # down since launch; the last deadline passed an hour ago
    result = reminder_pass(world.app)
    assert result.late == 9  # CA: 3 + 2 + 1 contact slots; SYT: 3
    rows = world.rows()
    catch_up = [r for r in rows if r.kind == "catch_up"]
    assert sorted(r.chat_id for r in catch_up) == sorted([str(CA), str(SYT)])  # one per agency
    ca_row = next(r for r in catch_up if r.chat_id == str(CA))
    assert "6" in ca_row.text and "CA-1, CA-2, CA-3" in ca_row.text
    assert not [r for r in rows if r.chat_id in (str(CA), str(SYT)) and r.kind != "catch_up"]
    coordinator = [r for r in rows if r.chat_id == str(COORD)]
    assert coordinator and all("gửi muộn" in r.text for r in coordinator)  # escalations, marked late
    for code in ("CA-1", "CA-2", "CA-3", "SYT-1"):
        assert _slots(world, code) and all(s.late for s in _slots(world, code))
    # A second pass at the same moment adds nothing; the next overdue reminder is on time again.
    count = len(rows)
    reminder_pass(world.app)
    assert len(world.rows()) == count
    world.clock.now = local(2026, 5, 15, 17, 1)
    reminder_pass(world.app)
    fresh = [r for r in world.rows()[count:] if r.chat_id == str(CA)]
    assert fresh and all(r.kind == "overdue" and "gửi muộn" not in r.text for r in fresh)
    assert {s.key for s in _slots(world, "CA-1") if not s.late} == {f"overdue:3@{_ep(local(2026, 5, 12, 17))}"}
    await drain(world.delivery(Limits.unlimited()), pending(world))
    got = world.tg.messages_to(CA)
    assert "gián đoạn" in got[0].text and len(got) == 1 + len(fresh)


async def test_a_long_downtime_still_folds_into_one_catch_up(world, tmp_path):
    _launch(world, tmp_path)
    world.clock.now = local(2026, 5, 20, 9)  # a week of overdue reminders for CA missed
    result = reminder_pass(world.app)
    assert result.late == 8 + 7 + 6 + 8  # due + overdue:1..n for each task
    catch_up = [r for r in world.rows() if r.kind == "catch_up"]
    assert sorted(r.chat_id for r in catch_up) == sorted([str(CA), str(SYT)])
    assert all(len(r.dedupe_key) <= 200 for r in catch_up)


async def test_rerunning_a_pass_or_requeueing_its_notices_adds_nothing(world, tmp_path):
    _launch(world, tmp_path)
    world.clock.now = local(2026, 5, 11, 17, 5)
    first = reminder_pass(world.app)
    assert first.slots == 2
    count = len(world.rows())
    with world.app.write() as store:  # the same notices queued again
        assert world.app.notifier.enqueue(store, first.notices, world.clock()) == 0
    for task in ("CA-1", "SYT-1"):  # the tasks are looked at again at the same moment
        with world.app.write() as store:
            store.s.get(Task, _task(world, task).id).next_reminder_at = world.clock()
    assert reminder_pass(world.app).slots == 0
    assert len(world.rows()) == count


async def test_a_duplicate_insert_of_a_slot_is_a_no_op(world, tmp_path):
    _launch(world, tmp_path)
    world.clock.now = local(2026, 5, 11, 17, 5)
    reminder_pass(world.app)
    count, slots = len(world.rows()), len(_slots(world, "CA-1"))
    # A pass that read before the first one committed: it believes nothing was sent yet.
    with world.app.write() as store:
        for task in store.s.exec(select(Task)):
            task.next_reminder_at = world.clock()
    with world.app.write() as store:
        store.slot_keys = lambda task_id: frozenset()
        result = chase.run_pass(store, world.clock(), base_policy(world.app), world.app.tz)
        world.app.notifier.enqueue(store, result.notices, world.clock())
    assert len(_slots(world, "CA-1")) == slots and len(world.rows()) == count
