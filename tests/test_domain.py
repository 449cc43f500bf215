"""The domain use cases issue 14 moved into the engine, on every store (in memory, SQLite,
PostgreSQL): joining by invite (workflows.joining), ending an event (workflows.ending), one status
report (workflows.reporting) and the report's typed read model (workflows.report_model)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.render.export import to_export
from tests.helpers import seed_event
from tests.test_engine import _ctx, add_user, app  # noqa: F401  (`app`: the three-store fixture)
from workflows import ending, invites, joining, people, reporting
from workflows import events as event_uc
from workflows.access import AccessDenied
from workflows.errors import DutyError
from workflows.report_model import EventReport, ShownStatus, TaskRow, event_report, from_export

TTL = timedelta(days=1)


def _launched(app):
    event = seed_event(app)
    with app.write() as store:
        event_uc.launch_event(store, _ctx(app), store.get_event(event.id))
    return event


def _invite(app, target: str, **kw):
    with app.write() as store:
        return invites.create_invite(store, _ctx(app), target, ttl=TTL, **kw)[1]


def test_a_newcomer_joins_and_a_late_contact_is_caught_up(app):
    _launched(app)
    invite = _invite(app, "CA")
    newbie = add_user(app, "newbie", "observer")
    with app.write() as store:
        out = joining.join(store, _ctx(app, newbie), store.user(newbie.id), invite, newcomer=True)
    assert isinstance(out, joining.Joined) and out.role == "contact" and out.agency.code == "CA"
    assert out.caught_up > 0 and sum(n.task_id is not None for n in out.notices) == out.caught_up
    with app.read() as store:
        assert store.user(newbie.id).agency_code == "CA"
        assert store.invite_by_hash(invite.code_hash).used_at is not None
        with pytest.raises(DutyError, match="invite_used"):
            joining.join(store, _ctx(app, newbie), store.user(newbie.id), invite, newcomer=True)


def test_a_member_is_asked_before_switching_and_the_code_waits(app):
    event = seed_event(app)
    ca = add_user(app, "ca", "contact", "CA")
    invite = _invite(app, "SYT", event_id=event.id)
    with app.write() as store:
        asked = joining.join(store, _ctx(app, ca), store.user(ca.id), invite)
    assert asked == joining.AskSwitch(invite.id, joining.Standing("contact", "CA"), joining.Standing("contact", "SYT"))
    with app.write() as store:
        assert store.invite_by_hash(invite.code_hash).used_at is None  # nothing changed yet
        assert joining.confirm_switch(store, _ctx(app, ca), invite.id, False) == joining.Kept(
            joining.Standing("contact", "CA")
        )
        assert joining.confirm_switch(store, _ctx(app, ca), invite.id, True) == joining.Stale()  # answered already
        joining.join(store, _ctx(app, ca), store.user(ca.id), invite)
        assert joining.confirm_switch(store, _ctx(app, ca), invite.id + 999, True) == joining.Stale()  # not that code
        done = joining.confirm_switch(store, _ctx(app, ca), invite.id, True)
    assert isinstance(done, joining.Joined) and done.user.agency_code == "SYT"
    with app.read() as store:
        joined = [a.detail for a in store.event_audit(event.id) if a.action == "joined"]
    assert joined == [{"invite": invite.id, "role": "contact", "agency": "SYT", "was": "contact CA"}]


def test_staff_are_never_demoted_and_the_same_role_changes_nothing(app):
    seed_event(app)
    coord = add_user(app, "coord", "coordinator")
    obs = add_user(app, "obs", "observer")
    for_observers = _invite(app, "observer")
    with app.write() as store:
        refused = joining.join(store, _ctx(app, coord), store.user(coord.id), for_observers)
        same = joining.join(store, _ctx(app, obs), store.user(obs.id), for_observers)
    assert isinstance(refused, joining.Refused) and refused.reason == "no_demote"
    assert isinstance(same, joining.Refused) and same.reason == "already"
    with app.read() as store:
        assert store.invite_by_hash(for_observers.code_hash).used_at is None  # still valid for its person
        assert store.user(coord.id).role == "coordinator"


def test_a_removed_person_comes_back_and_a_replacing_invite_hands_over(app):
    seed_event(app)
    old = add_user(app, "old", "contact", "CA")
    gone = add_user(app, "gone", "observer")
    with app.write() as store:
        people.deactivate(store, _ctx(app), store.user(gone.id), reason="removed")
    replacing = _invite(app, "CA", replace=True)
    with app.write() as store:
        back = joining.join(store, _ctx(app, gone), store.user(gone.id), replacing)
    assert isinstance(back, joining.Joined) and back.returned and back.replaced == ["old"]
    assert [n.key for n in back.notices][:1] == ["contact_replaced"]
    with app.read() as store:
        assert store.user(gone.id).active and store.user(gone.id).role == "contact"
        assert not store.user(old.id).active


def test_ending_an_event_stops_its_reminders_once(app):
    event = _launched(app)
    coord = add_user(app, "coord", "coordinator")
    with app.read() as store:
        last = max(t.deadline for t in store.tasks(event.id))
        assert ending.due_to_end(store, last + timedelta(hours=23)) == []
        assert [e.id for e in ending.due_to_end(store, last + timedelta(days=1, minutes=1))] == [event.id]
    with app.write() as store:
        ended = ending.end_event(store, _ctx(app, coord), store.get_event(event.id))
        assert ended is not None and ended.at == app.now() and ended.stopped > 0
        assert ending.end_event(store, _ctx(app, coord), store.get_event(event.id)) is None
    with app.read() as store:
        assert all(t.next_reminder_at is None for t in store.tasks(event.id))
        assert [a.action for a in store.event_audit(event.id)].count("event_ended") == 1
        assert ending.due_to_end(store, last + timedelta(days=30)) == []
    contact = add_user(app, "ca", "contact", "CA")
    with app.write() as store, pytest.raises(AccessDenied):
        ending.end_event(store, _ctx(app, contact), store.get_event(event.id))  # staff only


def test_one_status_report_names_its_undo_entry_and_dependencies(app):
    event = seed_event(app)
    with app.read() as store:
        task = next(t for t in store.tasks(event.id) if t.depends_on)
    who = add_user(app, "lead", "contact", task.lead)
    with app.write() as store:
        done = reporting.report_status(store, _ctx(app, who), store.task(task.id, lock=True), "progress", percent=40)
        entries = store.history(task.id)
    assert done.task.status == "in_progress" and done.task.percent == 40
    assert done.undo_entry == entries[-1].id and entries[-1].action == "status"
    assert sorted(done.dependencies) == sorted(task.depends_on)
    assert [n.key for n in done.notices] == ["news_status"]


def test_the_report_read_model_is_typed_and_reads_back_from_its_export(app):
    event = seed_event(app)
    with app.read() as store:
        task = store.find_task(event.id, "CB-05")
    who = add_user(app, "lead", "contact", task.lead)
    with app.write() as store:
        reporting.report_status(store, _ctx(app, who), store.task(task.id, lock=True), "blocked", reason="chờ vốn")
    with app.read() as store:
        report = event_report(store, store.get_event(event.id), app.now())
    assert isinstance(report, EventReport) and len(report.tasks) == 58
    row = next(t for t in report.tasks if t.code == "CB-05")
    assert isinstance(row, TaskRow) and row.status is ShownStatus.BLOCKED and row.blocked_reason == "chờ vốn"
    assert isinstance(row.deadline, datetime) and row.deadline.utcoffset() == timedelta(hours=7)
    assert row.audit[-1].action == "status" and row.audit[-1].detail["to"] == "blocked"
    assert [p.code for p in report.phases] == ["CB", "NC", "NL", "SL"]
    assert report.event.exported_at == app.now() and report.agency_name(row.lead, "vi") != row.lead
    assert from_export(to_export(report)) == report
