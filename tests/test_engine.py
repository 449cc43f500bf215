"""The engine's use cases on both stores: in memory (tests.memory_store, no database) and on
real storage (SQLite and PostgreSQL): planning, the status machine, moving events, derived
states, undo, extensions, evidence, cancelling, invites, people, linking and the reminder pass.
A few tests at the end are about the SQL store itself (the outbox, times) and run on it alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import SystemActor
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Outbox
from tests.conftest import _truncate_pg, make_app
from tests.helpers import START, seed_event
from tests.memory_store import MemoryWorld
from workflows import chase, invites, linking, people, service
from workflows import events as event_uc
from workflows.access import AccessDenied, Role
from workflows.errors import DutyError
from workflows.ports import Ctx, NewIdentity, NewUser, UserRecord
from workflows.reminders import Policy
from workflows.states import TaskStatus, TransitionError, check_transition, effective_status, is_overdue


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def app(request, tmp_path, clock):
    """Where the engine runs: an in-memory store, or the App on a migrated database."""
    if request.param == "memory":
        yield MemoryWorld(clock)
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dutybot.db'}"
        db = Database(url)
        upgrade(db)
        db.dispose()
    else:
        url = request.getfixturevalue("pg_database_url")
        _truncate_pg(url)
    a = make_app(url, clock)
    yield a
    a.db.dispose()


def add_user(
    app, handle: str, role: str, agency: str | None = None, *, deputy: bool = False, channel: str = "fake"
) -> UserRecord:
    """A person with one account, made through the port (the same on both stores)."""
    with app.write() as store:
        user = store.add_user(
            NewUser(name=handle, role=Role(role), agency_code=agency, is_deputy=deputy, created_at=app.now())
        )
        store.add_identity(
            NewIdentity(user_id=user.id, channel=channel, external_id=handle, chat_id=handle, created_at=app.now())
        )
        return user


def _ctx(app, actor=None, **kw) -> Ctx:
    return Ctx(actor=actor or SystemActor(), channel="fake", now=app.now(), **kw)


def test_event_has_every_duty_with_absolute_deadlines(app):
    event = seed_event(app)
    with app.read() as store:
        tasks = {t.code: t for t in store.tasks(event.id)}
    assert len(tasks) == 58
    # T+0 07:30 in Asia/Ho_Chi_Minh is 00:30 UTC on the day.
    assert tasks["NL-06"].deadline.isoformat() == "2026-06-11T00:30:00+00:00"
    assert tasks["NL-06"].is_cue
    # T-5d 19:30 local
    assert tasks["NC-01"].deadline.isoformat() == "2026-06-06T12:30:00+00:00"
    assert tasks["CB-10"].depends_on == ["CB-09", "CB-05"]


def test_move_event_moves_deadlines_but_not_hand_set_ones(app):
    event = seed_event(app)
    ctx = _ctx(app)
    with app.write() as store:
        t = store.find_task(event.id, "CB-05")
        service.set_deadline(store, ctx, t, t.deadline + timedelta(days=2), "manual")
        manual, planned = t.deadline, t.original_deadline
        before = {x.code: x.deadline for x in store.tasks(event.id)}
    with app.write() as store:
        moved, kept = event_uc.move_event(store, ctx, store.get_event(event.id), START + timedelta(days=7))
    assert (moved, kept) == (57, 1)
    with app.read() as store:
        after = {x.code: x for x in store.tasks(event.id)}
        moves = [a for a in store.event_audit(event.id) if a.action == "deadline_moved"]
    assert after["CB-05"].deadline == manual
    assert after["CB-05"].original_deadline == planned + timedelta(days=7)  # the plan moved, not the deal
    assert after["NL-06"].deadline == before["NL-06"] + timedelta(days=7)
    assert len(moves) == 57


def test_status_machine_rules():
    check_transition("todo", "acknowledged", by_coordinator=False)
    check_transition("blocked", "done", by_coordinator=False)
    with pytest.raises(TransitionError):
        check_transition("done", "in_progress", by_coordinator=False)
    check_transition("done", "in_progress", by_coordinator=True)  # a coordinator reopens
    with pytest.raises(TransitionError):
        check_transition("cancelled", "done", by_coordinator=False)
    with pytest.raises(TransitionError):
        check_transition("done", "done", by_coordinator=True)


def test_waiting_and_overdue_are_derived(clock):
    assert effective_status("todo", dependencies_done=False) == "waiting"
    assert effective_status("in_progress", dependencies_done=False) == "in_progress"
    assert effective_status("todo", dependencies_done=True) == "todo"
    assert is_overdue("in_progress", clock.now - timedelta(minutes=1), clock.now)
    assert not is_overdue("done", clock.now - timedelta(days=9), clock.now)


def test_report_writes_audit_and_refuses_other_agency(app):
    event = seed_event(app)
    ca = add_user(app, "ca", "contact", "CA")
    syt = add_user(app, "syt", "contact", "SYT")
    with app.write() as store:
        t = store.find_task(event.id, "CB-23")
        result = service.report(
            store, Ctx(actor=ca, channel="fake", now=app.now(), message_ref="m1"), t, "progress", percent=30
        )
    assert result.task.status == "in_progress" and result.notices[0].to == "coordinators"
    with pytest.raises(AccessDenied):
        with app.write() as store:
            t = store.find_task(event.id, "CB-23")
            service.report(store, Ctx(actor=syt, channel="fake", now=app.now()), t, "done")
    with app.read() as store:
        t = store.find_task(event.id, "CB-23")
        assert (t.status, t.percent) == ("in_progress", 30)
        rows = store.history(t.id)
    assert [(r.actor, r.action, r.message_ref) for r in rows] == [("ca", "status", "m1")]


def test_launch_twice_is_refused(app):
    event = seed_event(app)
    coord = add_user(app, "coord", "coordinator")
    with app.write() as store:
        notices = event_uc.launch_event(
            store, Ctx(actor=coord, channel="fake", now=app.now()), store.get_event(event.id)
        )
    assert sum(n.key == "assignment" for n in notices) == 58
    with pytest.raises(DutyError):
        with app.write() as store:
            event_uc.launch_event(store, Ctx(actor=coord, channel="fake", now=app.now()), store.get_event(event.id))
    with app.read() as store:
        assert sum(a.action == "event_launched" for a in store.event_audit(event.id)) == 1


def test_the_error_tree_has_one_root():
    from bot.commands import UsageError
    from workflows.dates import DateParseError, parse_when

    for cls in (AccessDenied, TransitionError, DateParseError, UsageError):
        assert issubclass(cls, DutyError)
    with pytest.raises(DutyError) as err:
        parse_when("ngày mốt nào đó", now=START, tz=None)
    assert err.value.code == "bad_date" and err.value.params == {"text": "ngày mốt nào đó"}
    assert isinstance(err.value, ValueError)  # callers that caught ValueError still do


def test_one_clock_reads_the_wall_time():
    """Only workflows.clock.utc_now reads the wall clock; everything else asks it (or app.now())."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    wall = re.compile(r"datetime\.now\(|datetime\.utcnow\(|date\.today\(|\btime\.time\(\)")
    readers = sorted(
        f"{p.relative_to(root)}:{n}"
        for folder in ("bot", "workflows", "storage")
        for p in (root / folder).rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if wall.search(line)
    )
    assert readers == ["workflows/clock.py:21"]


def test_undo_takes_back_ones_own_report_once_within_minutes(app, clock):
    event = seed_event(app)
    ca, ca2 = add_user(app, "ca", "contact", "CA"), add_user(app, "ca2", "contact", "CA")
    with app.write() as store:
        t = store.find_task(event.id, "CB-23")
        entry_id = service.report(store, _ctx(app, ca), t, "blocked", reason="thiếu xe").audit_id
    with pytest.raises(DutyError) as err:
        with app.write() as store:
            entry = next(e for e in store.history(t.id) if e.id == entry_id)
            service.undo(store, _ctx(app, ca2), entry)  # not theirs
    assert err.value.code == "undo_not_yours"
    clock.advance(minutes=2)
    with app.write() as store:
        entry = next(e for e in store.history(t.id) if e.id == entry_id)
        result = service.undo(store, _ctx(app, ca), entry)
    assert (result.task.status, result.task.blocked_reason) == (TaskStatus.TODO, None)
    assert [n.key for n in result.notices] == ["news_undo"]
    with pytest.raises(DutyError):
        with app.write() as store:
            entry = next(e for e in store.history(t.id) if e.id == entry_id)
            service.undo(store, _ctx(app, ca), entry)  # an undo came after it
    with app.read() as store:
        assert [e.action for e in store.history(t.id)] == ["status", "undo"]
        assert store.find_task(event.id, "CB-23").status == "todo"  # the stored string


def test_an_approved_extension_moves_the_deadline_and_keeps_the_plan(app):
    event = seed_event(app)
    ca, coord = add_user(app, "ca", "contact", "CA"), add_user(app, "coord", "coordinator")
    with app.write() as store:
        t = store.find_task(event.id, "CB-23")
        planned, later = t.deadline, t.deadline + timedelta(days=1)
        with pytest.raises(DutyError, match="extension_not_later"):
            service.request_extension(store, _ctx(app, ca), t, planned, "xe hỏng")
        asked = service.request_extension(store, _ctx(app, ca), t, later, "xe hỏng")
        request_id = asked.detail["request"]
    assert [n.to for n in asked.notices] == ["coordinators"]
    with pytest.raises(AccessDenied):
        with app.write() as store:
            service.decide_extension(store, _ctx(app, ca), store.extension(request_id), True)
    with app.write() as store:
        result = service.decide_extension(store, _ctx(app, coord), store.extension(request_id), True)
    assert result.notices[0].key == "extension_approved" and result.notices[0].agency == "CA"
    with app.read() as store:
        t = store.find_task(event.id, "CB-23")
        assert (t.deadline, t.original_deadline, t.deadline_manual) == (later, planned, True)
        assert store.extension(request_id).status == "approved"
    with pytest.raises(DutyError, match="request_decided"):
        with app.write() as store:
            service.decide_extension(store, _ctx(app, coord), store.extension(request_id), False)


def test_evidence_over_the_size_limit_is_refused_and_nothing_is_stored(app):
    event = seed_event(app)
    ca = add_user(app, "ca", "contact", "CA")
    with app.write() as store:
        t = store.find_task(event.id, "CB-23")
        with pytest.raises(DutyError, match="evidence_too_large"):
            service.attach_evidence(store, _ctx(app, ca), t, kind="photo", size=11, max_bytes=10, data=b"x" * 11)
        result = service.attach_evidence(
            store, _ctx(app, ca), t, kind="photo", size=3, max_bytes=10, data=b"abc", filename="a.jpg"
        )
        assert result.detail["filename"] == "a.jpg" and [n.key for n in result.notices] == ["news_evidence"]
    with app.read() as store:
        assert store.evidence_count(t.id) == 1
        assert store.evidence_bytes_of_agency("CA") == 3 and store.evidence_bytes_of_agency("SYT") == 0


def test_cancel_then_restore_brings_the_blocker_back(app):
    event = seed_event(app)
    ca, coord = add_user(app, "ca", "contact", "CA"), add_user(app, "coord", "coordinator")
    with app.write() as store:
        t = store.find_task(event.id, "CB-23")
        service.report(store, _ctx(app, ca), t, "blocked", reason="thiếu xe")
        with pytest.raises(DutyError, match="reason_required"):
            service.cancel(store, _ctx(app, coord), t, " ")
        service.cancel(store, _ctx(app, coord), t, "không cần nữa")
        assert (t.status, t.blocked_reason) == (TaskStatus.CANCELLED, None)
        with pytest.raises(DutyError, match="already_cancelled"):
            service.cancel(store, _ctx(app, coord), t, "lần nữa")
    with app.write() as store:
        t = store.find_task(event.id, "CB-23")
        result = service.restore(store, _ctx(app, coord), t)
    assert (result.task.status, result.task.blocked_reason) == ("blocked", "thiếu xe")
    assert result.notices[0].with_buttons


def test_an_invite_is_claimed_once_and_a_link_code_binds_another_app(app, clock):
    seed_event(app)
    coord = add_user(app, "coord", "coordinator")
    with app.write() as store:
        code, invite = invites.create_invite(store, _ctx(app, coord), "ca", ttl=timedelta(days=1))
        with pytest.raises(DutyError, match="admin_only"):
            invites.create_invite(store, _ctx(app, coord), "coordinator", ttl=timedelta(days=1))
    assert (invite.role, invite.agency_code) == ("contact", "CA")
    newcomer = add_user(app, "x", "observer")
    with app.write() as store:
        assert invites.redeem(store, code, newcomer.id, app.now()).id == invite.id
    with pytest.raises(DutyError, match="invite_used"):
        with app.write() as store:
            invites.redeem(store, code, newcomer.id, app.now())
    with app.write() as store:
        link, _ = invites.create_link(store, _ctx(app, coord))
    clock.advance(hours=2)
    with pytest.raises(DutyError, match="invite_expired"):
        with app.write() as store:
            invites.check_code(store, link, app.now())

    with app.write() as store:
        owner = store.user(coord.id)
        with pytest.raises(DutyError, match="link_same_app"):
            linking.link_account(
                store,
                _ctx(app, owner),
                owner,
                None,
                channel="fake",
                external_id="coord2",
                chat_id="coord2",
                display_name="",
            )
        notice = linking.link_account(
            store,
            _ctx(app, owner),
            owner,
            None,
            channel="zalo",
            external_id="z1",
            chat_id="z1",
            display_name="Coord Zalo",
        )
        assert (notice.to, notice.user_id) == ("user", coord.id)
        assert sorted(i.channel for i in store.identities_of(coord.id)) == ["fake", "zalo"]
    with app.write() as store:
        assert linking.unlink_account(store, _ctx(app, coord), store.user(coord.id), "zalo") == 1
        with pytest.raises(DutyError, match="unlink_last"):
            linking.unlink_account(store, _ctx(app, coord), store.user(coord.id), "fake")


def test_removing_the_only_contact_leaves_the_agency_without_one(app):
    seed_event(app)
    coord, admin = add_user(app, "coord", "coordinator"), add_user(app, "admin", "admin")
    ca = add_user(app, "ca", "contact", "CA")
    with app.write() as store:
        with pytest.raises(DutyError, match="remove_not_allowed"):
            people.remove(store, _ctx(app, coord), store.user(admin.id))
        removal = people.remove(store, _ctx(app, coord), store.user(ca.id))
    assert removal.agency_without_contact == "CA"
    with app.write() as store:
        assert not people.is_active(store, ca.id) and people.find_person(store, "fake:ca").id == ca.id
        with pytest.raises(DutyError, match="already_removed"):
            people.remove(store, _ctx(app, coord), store.user(ca.id))
        assert people.set_role(store, _ctx(app, admin), store.user(ca.id), "contact", agency="syt")
        assert (store.user(ca.id).role, store.user(ca.id).agency_code) == (Role.CONTACT, "SYT")
        assert store.is_active(ca.id) and not store.contacts_of("CA")


def test_the_reminder_pass_sends_each_due_slot_once(app, clock):
    event = seed_event(app)
    coord = add_user(app, "coord", "coordinator")
    with app.write() as store:
        event_uc.launch_event(store, _ctx(app, coord), store.get_event(event.id))
    clock.advance(days=38)  # a week before the ceremony: every early duty is overdue
    policy, tz = Policy(), __import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh")
    with app.write() as store:
        first = chase.run_pass(store, app.now(), policy, tz)
    assert first.tasks_seen == 58 and first.slots > 0 and first.notices
    assert len({n.dedupe_key for n in first.notices}) == len(first.notices)
    with app.write() as store:
        again = chase.run_pass(store, app.now(), policy, tz)
        done = store.find_task(event.id, "CB-23")
        service.report(store, _ctx(app, coord), done, "done")
    assert again.slots == 0 and not again.notices
    with app.write() as store:
        chase.run_pass(store, app.now(), policy, tz)
        assert store.find_task(event.id, "CB-23").next_reminder_at is None  # done: never looked at again


# -- the SQL store itself ----------------------------------------------------------------------
@pytest.fixture
def sql_app(db_url, clock):
    a = make_app(db_url, clock)
    yield a
    a.db.dispose()


def test_outbox_dedupe_key_makes_a_second_insert_a_no_op(sql_app):
    app = sql_app
    with app.write() as store:
        assert store.enqueue(
            Outbox(
                dedupe_key="t1:slot",
                channel="fake",
                chat_id="x",
                kind="reminder",
                text="a",
                created_at=app.now(),
                next_attempt_at=app.now(),
            )
        )
        assert not store.enqueue(
            Outbox(
                dedupe_key="t1:slot",
                channel="fake",
                chat_id="x",
                kind="reminder",
                text="b",
                created_at=app.now(),
                next_attempt_at=app.now(),
            )
        )


def test_times_round_trip_as_aware_utc(sql_app):
    app = sql_app
    event = seed_event(app)
    with app.read() as store:
        e = store.get_event(event.id)
        assert e.start == START and e.start.utcoffset() == timedelta(0)
