"""The engine on real storage: planning, the status machine, moving events, derived states."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import SystemActor
from storage.models import Outbox
from tests.helpers import START, add_user, seed_event
from workflows import events as event_uc
from workflows import service
from workflows.errors import DutyError
from workflows.ports import Ctx
from workflows.states import TransitionError, check_transition, effective_status, is_overdue


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
    ctx = Ctx(actor=SystemActor(), channel="cli", now=app.now())
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


def test_waiting_and_overdue_are_derived(app, clock):
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
        result = service.report(store, Ctx(actor=ca, channel="fake", now=app.now(), message_ref="m1"), t,
                                "progress", percent=30)
    assert result.task.status == "in_progress" and result.notices[0].to == "coordinators"
    from workflows.access import AccessDenied

    with pytest.raises(AccessDenied):
        with app.write() as store:
            t = store.find_task(event.id, "CB-23")
            service.report(store, Ctx(actor=syt, channel="fake", now=app.now()), t, "done")
    with app.read() as store:
        t = store.find_task(event.id, "CB-23")
        assert (t.status, t.percent) == ("in_progress", 30)
        rows = store.history(t.id)
    assert [(r.actor, r.action, r.message_ref) for r in rows] == [("ca", "status", "m1")]


def test_outbox_dedupe_key_makes_a_second_insert_a_no_op(app):
    with app.write() as store:
        assert store.enqueue(Outbox(dedupe_key="t1:slot", channel="fake", chat_id="x", kind="reminder", text="a",
                                    created_at=app.now(), next_attempt_at=app.now()))
        assert not store.enqueue(Outbox(dedupe_key="t1:slot", channel="fake", chat_id="x", kind="reminder",
                                        text="b", created_at=app.now(), next_attempt_at=app.now()))


def test_times_round_trip_as_aware_utc(app):
    event = seed_event(app)
    with app.read() as store:
        e = store.get_event(event.id)
        assert e.start == START and e.start.utcoffset() == timedelta(0)


def test_launch_twice_is_refused(app):
    event = seed_event(app)
    coord = add_user(app, "coord", "coordinator")
    with app.write() as store:
        notices = event_uc.launch_event(store, Ctx(actor=coord, channel="fake", now=app.now()),
                                        store.get_event(event.id))
    assert sum(n.key == "assignment" for n in notices) == 58
    with pytest.raises(DutyError):
        with app.write() as store:
            event_uc.launch_event(store, Ctx(actor=coord, channel="fake", now=app.now()), store.get_event(event.id))
    with app.read() as store:
        assert sum(a.action == "event_launched" for a in store.event_audit(event.id)) == 1
