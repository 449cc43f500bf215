"""workflows.reminders: the reminder/escalation policy, with a controlled clock (explicit `now`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.reminders import (
    KINDS,
    Policy,
    TaskState,
    due_slots,
    format_duration,
    in_quiet_hours,
    next_due,
    parse_duration,
    quiet_release,
    slots_for,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc
FAR = datetime(2100, 1, 1, tzinfo=UTC)
H, D, M = timedelta(hours=1), timedelta(days=1), timedelta(minutes=1)


def L(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A local (Hà Nội) wall-clock moment, as the UTC instant the engine stores."""
    return datetime(y, mo, d, h, mi, tzinfo=TZ).astimezone(UTC)


LAUNCH = L(2026, 6, 1, 9)
DEADLINE = L(2026, 6, 10, 17)
EP = int(DEADLINE.timestamp())
CONFIG = {  # config.toml [reminders], as loaded
    "before": ["3d", "1d", "2h"],
    "overdue_every": "24h",
    "escalate_after": "24h",
    "ack_timeout": "24h",
    "cue_before": ["30m", "10m"],
    "checkin_escalate_after": "3m",
    "quiet_hours": "21:30-07:00",
    "urgent_window": "2h",
    "digest_time": "07:30",
}


def task(**kw) -> TaskState:
    base = TaskState(
        id=7,
        code="T7",
        lead="SVHTTDL",
        status="in_progress",
        deadline=DEADLINE,
        is_cue=False,
        launched_at=LAUNCH,
        acknowledged_at=LAUNCH + H,
        last_report_at=None,
    )
    return replace(base, **kw)


def plan(t: TaskState, until: datetime = FAR):
    return slots_for(t, TZ, until=until)


def local(dt: datetime) -> str:
    return dt.astimezone(TZ).strftime("%d/%m %H:%M")


def brief(slots) -> list[tuple[str, str, str, str]]:
    return [(s.kind, s.recipient, local(s.at), local(s.send_at)) for s in slots]


# ---- durations and policy -------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("3d", 3 * D),
        ("2h", 2 * H),
        ("30m", 30 * M),
        ("1h30m", 90 * M),
        ("1d12h", 36 * H),
        (" 1d 2h ", 26 * H),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize("text", ["", "3", "h", "2x", "1m2h", "-1d", "1.5h", "soon", "3 days"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_policy_from_config_strings_equals_defaults_and_ignores_unknown_keys():
    assert Policy.from_strings(**CONFIG) == Policy()
    assert Policy.from_strings(quiet_hours="").quiet_hours is None
    assert Policy.from_strings(quiet_hours="12:00-13:30").quiet_hours == (time(12), time(13, 30))
    assert Policy.from_strings(enabled="false").enabled is False
    assert Policy.from_strings(before=["1d", "3d", "1d"]).before == (3 * D, D)


@pytest.mark.parametrize(
    "key, value",
    [
        ("before", ["3d", "3x"]),
        ("before", 5),
        ("overdue_every", "soon"),
        ("overdue_every", "0h"),
        ("escalate_after", ""),
        ("ack_timeout", "0m"),
        ("cue_before", ["ten"]),
        ("checkin_escalate_after", "3"),
        ("quiet_hours", "late"),
        ("quiet_hours", "25:00-07:00"),
        ("quiet_hours", "07:00-07:00"),
        ("urgent_window", None),
        ("enabled", "maybe"),
        ("overdue_max", -1),
    ],
)
def test_policy_errors_name_the_key(key, value):
    with pytest.raises(ValueError, match=f"reminders\\.{key}:"):
        Policy.from_strings(**{key: value})
    with pytest.raises(ValueError, match=f"reminders\\.{key}:"):
        Policy().merged({key: value})


def test_template_and_duty_overrides_merge():
    config = Policy.from_strings(**CONFIG)
    assert config.merged(None) is config and config.merged({}) is config
    template = config.merged({"quiet_hours": ""})
    duty = template.merged({"before": ["1d"]})
    assert duty.before == (D,) and duty.quiet_hours is None and duty.overdue_every == 24 * H
    kinds = [(s.kind, s.params.get("before")) for s in plan(task(policy=duty)) if s.kind == "reminder"]
    assert kinds == [("reminder", "1d")]
    assert plan(task(policy=duty.merged({"enabled": False}))) == []


# ---- the default plan -----------------------------------------------------------------------
def test_default_slots_of_a_plain_task():
    slots = plan(task())
    assert brief(slots)[:4] == [
        ("reminder", "contact", "07/06 17:00", "07/06 17:00"),
        ("reminder", "contact", "09/06 17:00", "09/06 17:00"),
        ("reminder", "contact", "10/06 15:00", "10/06 15:00"),
        ("due", "contact", "10/06 17:00", "10/06 17:00"),
    ]
    assert [s.key for s in slots[:4]] == [f"before:3d@{EP}", f"before:1d@{EP}", f"before:2h@{EP}", f"due@{EP}"]
    assert [s.params["before"] for s in slots[:3]] == ["3d", "1d", "2h"]
    assert [s.urgent for s in slots[:4]] == [False, False, True, True]
    overdue = [s for s in slots if s.kind == "overdue"]
    assert len(overdue) == 14 and [s.params["overdue_days"] for s in overdue] == list(range(1, 15))
    assert overdue[-1].key == f"overdue:14@{EP}" and local(overdue[-1].at) == "24/06 17:00"
    esc = [s for s in slots if s.kind == "escalation"]
    assert sorted((s.recipient, local(s.at), s.params["reason"]) for s in esc) == [
        ("coordinator", "11/06 17:00", "overdue"),
        ("deputy", "11/06 17:00", "overdue"),
    ]
    assert len({s.key for s in slots}) == len(slots) == 20
    assert all(s.at.tzinfo == UTC and s.send_at.tzinfo == UTC and s.task_id == 7 for s in slots)
    assert [s.send_at for s in slots] == sorted(s.send_at for s in slots)
    assert plan(task(), until=DEADLINE - D) == slots[:2]


def test_due_slots_at_the_boundary_and_sent_keys_suppress():
    t = task()
    at_1d = DEADLINE - D
    assert [s.key for s in due_slots(t, at_1d - M, {f"before:3d@{EP}"}, TZ)] == []
    assert [s.key for s in due_slots(t, at_1d, {f"before:3d@{EP}"}, TZ)] == [f"before:1d@{EP}"]
    assert [s.key for s in due_slots(t, at_1d, set(), TZ)] == [f"before:3d@{EP}", f"before:1d@{EP}"]
    assert due_slots(t, at_1d, frozenset({f"before:3d@{EP}", f"before:1d@{EP}"}), TZ) == []


def test_nothing_before_launch_for_disabled_or_finished_tasks():
    for t in (
        task(launched_at=None),
        task(policy=Policy(enabled=False)),
        task(status="cancelled"),
        task(status="done"),
    ):
        assert plan(t) == [] and due_slots(t, FAR, set(), TZ) == [] and next_due(t, LAUNCH, set(), TZ) is None


def test_task_done_between_two_slots_gets_nothing_after():
    sent = {f"before:3d@{EP}"}
    t = task()
    assert next_due(t, DEADLINE - 2 * D, sent, TZ) == DEADLINE - D
    done = replace(t, status="done")
    for now in (DEADLINE - D, DEADLINE, DEADLINE + 5 * D):
        assert due_slots(done, now, sent, TZ) == []
    assert next_due(done, DEADLINE - 2 * D, sent, TZ) is None


def test_slots_before_launch_are_dropped():
    t = task(launched_at=DEADLINE - 2 * D)  # launched after the 3d slot
    assert [s.params.get("before") for s in plan(t) if s.kind == "reminder"] == ["1d", "2h"]
    assert [s.key for s in due_slots(t, DEADLINE - 2 * D, set(), TZ)] == []


def test_task_launched_already_overdue_gets_its_overdue_reminder_from_launch_on():
    late = task(launched_at=DEADLINE + 2 * D + 3 * H)
    slots = plan(late)
    first = slots[0]
    assert (first.kind, first.key, first.at, first.send_at) == (
        "overdue",
        f"overdue:2@{EP}",
        DEADLINE + 2 * D,
        late.launched_at,
    )
    assert not [s for s in slots if s.kind in ("reminder", "due", "escalation") or s.key == f"overdue:1@{EP}"]
    assert [s.key for s in due_slots(late, late.launched_at, set(), TZ)] == [f"overdue:2@{EP}"]
    # launched after the deadline but within a day: the "due" message, from launch on
    soon = task(launched_at=DEADLINE + 3 * H)
    assert [(s.kind, s.send_at) for s in due_slots(soon, soon.launched_at, set(), TZ)] == [("due", soon.launched_at)]


def test_deadline_moved_after_a_reminder_went_out():
    sent = {f"before:3d@{EP}", f"before:1d@{EP}"}
    now = DEADLINE - D + M
    moved = task(deadline=DEADLINE + 5 * D)
    new_ep = int(moved.deadline.timestamp())
    assert due_slots(moved, now, sent, TZ) == []
    assert next_due(moved, now, sent, TZ) == moved.deadline - 3 * D
    got = due_slots(moved, moved.deadline - D, sent, TZ)
    assert [s.key for s in got] == [f"before:3d@{new_ep}", f"before:1d@{new_ep}"]
    assert not {s.key for s in plan(moved)} & sent
    # the old deadline's slots are gone: no "due"/"overdue" at the old moment
    assert not [s for s in due_slots(moved, DEADLINE + H, sent, TZ) if s.kind != "reminder"]


def test_overdue_series_and_a_single_escalation_to_deputy_and_coordinators():
    t = task()
    sent = {f"before:3d@{EP}", f"before:1d@{EP}", f"before:2h@{EP}", f"due@{EP}"}
    got = due_slots(t, DEADLINE + D, sent, TZ)
    assert sorted((s.kind, s.recipient, s.key) for s in got) == [
        ("escalation", "coordinator", f"escalation:coordinator@{EP}"),
        ("escalation", "deputy", f"escalation:deputy@{EP}"),
        ("overdue", "contact", f"overdue:1@{EP}"),
    ]
    sent |= {s.key for s in got}
    got = due_slots(t, DEADLINE + 2 * D, sent, TZ)
    assert [(s.key, s.params["overdue_days"]) for s in got] == [(f"overdue:2@{EP}", 2)]
    assert next_due(t, DEADLINE + 2 * D, sent | {got[0].key}, TZ) == DEADLINE + 3 * D
    capped = task(policy=Policy(overdue_max=2))
    sent |= {f"overdue:2@{EP}"}
    assert due_slots(capped, DEADLINE + 30 * D, sent, TZ) == []
    assert next_due(capped, DEADLINE + 2 * D, sent, TZ) is None


def test_restart_after_downtime_sends_what_fell_due_but_not_stale_reminders():
    sent = {f"before:3d@{EP}"}
    got = due_slots(task(), DEADLINE + 2 * D + H, sent, TZ)
    assert [s.key for s in got] == [
        f"due@{EP}",
        f"escalation:coordinator@{EP}",
        f"escalation:deputy@{EP}",
        f"overdue:1@{EP}",
        f"overdue:2@{EP}",
    ]


def test_ack_follow_up_then_coordinator_escalation_suppressed_by_acknowledgement():
    t = task(status="todo", acknowledged_at=None)
    assert due_slots(t, LAUNCH + D - M, set(), TZ) == []
    (ask,) = due_slots(t, LAUNCH + D, set(), TZ)
    assert (ask.kind, ask.recipient, ask.key) == ("ack_request", "contact", "ack:1")
    (esc,) = due_slots(t, LAUNCH + 2 * D, {"ack:1"}, TZ)
    assert (esc.kind, esc.recipient, esc.params["reason"], esc.key) == ("escalation", "coordinator", "no_ack", "ack:2")
    for acked in (
        replace(t, status="acknowledged", acknowledged_at=LAUNCH + 30 * H),
        replace(t, status="in_progress"),
        replace(t, acknowledged_at=LAUNCH + H),
    ):
        assert not [s for s in plan(acked) if s.key.startswith("ack:")]
        assert due_slots(acked, LAUNCH + 2 * D, {"ack:1"}, TZ) == []


# ---- ceremony-day cues ----------------------------------------------------------------------
CUE = L(2026, 6, 11, 8)


def test_cue_sequence():
    t = task(is_cue=True, deadline=CUE)
    ep = int(CUE.timestamp())
    slots = plan(t)
    assert [(s.kind, s.recipient, local(s.send_at), s.urgent, s.key) for s in slots] == [
        ("cue", "contact", "11/06 07:30", True, f"cue:30m@{ep}"),
        ("cue", "contact", "11/06 07:50", True, f"cue:10m@{ep}"),
        ("checkin", "contact", "11/06 08:00", True, f"checkin@{ep}"),
        ("escalation", "coordinator", "11/06 08:03", True, f"escalation:checkin@{ep}"),
    ]
    assert slots[-1].params["reason"] == "unanswered_checkin"
    sent = {s.key for s in slots[:3]}
    assert [s.key for s in due_slots(t, CUE + 3 * M, sent, TZ)] == [f"escalation:checkin@{ep}"]
    assert due_slots(t, CUE + 2 * M, sent, TZ) == []
    # a report before the check-in does not answer it; one after it does
    assert due_slots(replace(t, last_report_at=CUE - 5 * M), CUE + 3 * M, sent, TZ) != []
    answered = replace(t, last_report_at=CUE + M)
    assert due_slots(answered, CUE + 3 * M, sent, TZ) == []
    assert next_due(answered, CUE, sent, TZ) is None
    # cues get no overdue series
    assert due_slots(t, CUE + 5 * D, sent | {f"escalation:checkin@{ep}"}, TZ) == []


def test_cue_overrides():
    t = task(is_cue=True, deadline=CUE, policy=Policy().merged({"cue_before": ["1h"], "checkin_escalate_after": "5m"}))
    assert [(s.kind, local(s.at)) for s in plan(t)] == [
        ("cue", "11/06 07:00"),
        ("checkin", "11/06 08:00"),
        ("escalation", "11/06 08:05"),
    ]


# ---- quiet hours ----------------------------------------------------------------------------
def test_quiet_hours_across_midnight():
    late = task(deadline=L(2026, 6, 10, 23))
    by_before = {s.params.get("before"): s for s in plan(late) if s.kind == "reminder"}
    assert (local(by_before["1d"].at), local(by_before["1d"].send_at)) == ("09/06 23:00", "10/06 07:00")
    assert not by_before["1d"].urgent
    assert due_slots(late, L(2026, 6, 10, 6, 59), {f"before:3d@{int(late.deadline.timestamp())}"}, TZ) == []
    assert len(due_slots(late, L(2026, 6, 10, 7), {f"before:3d@{int(late.deadline.timestamp())}"}, TZ)) == 1
    # the 2 h reminder at 23:00 and the deadline itself ignore quiet hours; overdue ones wait for morning
    night = task(deadline=L(2026, 6, 11, 1))
    slots = {s.key.split("@")[0]: s for s in plan(night)}
    assert (local(slots["before:2h"].send_at), slots["before:2h"].urgent) == ("10/06 23:00", True)
    assert local(slots["due"].send_at) == "11/06 01:00"
    assert local(slots["overdue:1"].send_at) == "12/06 07:00"
    assert local(slots["escalation:deputy"].send_at) == "12/06 07:00"
    # a cue at 05:30 is not held
    early = task(is_cue=True, deadline=L(2026, 6, 11, 6))
    assert [local(s.send_at) for s in plan(early)] == ["11/06 05:30", "11/06 05:50", "11/06 06:00", "11/06 06:03"]


def test_quiet_hours_edges_and_release():
    q = (time(21, 30), time(7))
    assert in_quiet_hours(L(2026, 6, 9, 21, 30), q, TZ) and in_quiet_hours(L(2026, 6, 9, 6, 59), q, TZ)
    assert not in_quiet_hours(L(2026, 6, 9, 7), q, TZ) and not in_quiet_hours(L(2026, 6, 9, 21, 29), q, TZ)
    assert quiet_release(L(2026, 6, 9, 23), q, TZ) == L(2026, 6, 10, 7)
    assert quiet_release(L(2026, 6, 10, 2), q, TZ) == L(2026, 6, 10, 7)
    assert quiet_release(L(2026, 6, 10, 12), q, TZ) == L(2026, 6, 10, 12)
    assert not in_quiet_hours(L(2026, 6, 9, 23), None, TZ)
    assert quiet_release(L(2026, 6, 9, 23), None, TZ) == L(2026, 6, 9, 23)


def test_daytime_quiet_window():
    lunch = Policy.from_strings(quiet_hours="12:00-13:30")
    t = task(deadline=L(2026, 6, 10, 12, 15), policy=lunch)
    one_day = next(s for s in plan(t) if s.params.get("before") == "1d")
    assert (local(one_day.at), local(one_day.send_at)) == ("09/06 12:15", "09/06 13:30")
    assert not in_quiet_hours(L(2026, 6, 9, 13, 30), lunch.quiet_hours, TZ)
    assert not in_quiet_hours(L(2026, 6, 9, 23), lunch.quiet_hours, TZ)
    # without quiet hours nothing is held
    assert all(s.send_at == s.at for s in plan(task(deadline=L(2026, 6, 10, 23), policy=Policy(quiet_hours=None))))


def test_reminder_held_past_the_deadline_is_dropped():
    t = task(deadline=L(2026, 6, 10, 2), policy=Policy().merged({"before": ["3h"]}))
    assert [s for s in plan(t) if s.kind == "reminder"] == []  # 23:00 held to 07:00 > 02:00


def test_utc_storage_vs_local_clock():
    t = task(deadline=datetime(2026, 6, 10, 0, 30, tzinfo=UTC))  # 07:30 in Hà Nội
    one_day = next(s for s in plan(t) if s.params.get("before") == "1d")
    assert local(one_day.at) == "09/06 07:30" and one_day.send_at == one_day.at  # 00:30 UTC is not "night"
    evening = task(deadline=datetime(2026, 6, 10, 15, 0, tzinfo=UTC))  # 22:00 in Hà Nội
    one_day = next(s for s in plan(evening) if s.params.get("before") == "1d")
    assert one_day.send_at == datetime(2026, 6, 10, 0, 0, tzinfo=UTC)  # held to 07:00 local
    # the same instant given in local time yields the same slots (keys use epoch seconds)
    same = task(deadline=datetime(2026, 6, 10, 22, 0, tzinfo=TZ))
    assert plan(same) == plan(evening)
    assert plan(task(), until=FAR) == plan(task(deadline=DEADLINE.astimezone(TZ), launched_at=LAUNCH.astimezone(TZ)))
    with pytest.raises(ValueError):
        due_slots(task(), datetime(2026, 6, 10), set(), TZ)


def test_waiting_on_is_named():
    t = task(waiting_on=("T3", "T4"))
    reminders = [s for s in plan(t) if s.kind in ("reminder", "due", "overdue")]
    assert reminders and all(s.params["waiting_on"] == ["T3", "T4"] for s in reminders)
    assert all("waiting_on" not in s.params for s in plan(task()))


def test_next_due_is_the_earliest_future_unsent_send_at():
    t = task(deadline=L(2026, 6, 10, 23))
    for now in (LAUNCH, L(2026, 6, 7, 23), L(2026, 6, 9, 23, 30), DEADLINE + 3 * D):
        for sent in (set(), {s.key for s in plan(t)[:2]}):
            future = [s.send_at for s in plan(t) if s.send_at > now and s.key not in sent]
            assert next_due(t, now, sent, TZ) == (min(future) if future else None)
    assert next_due(task(status="done"), LAUNCH, set(), TZ) is None
    everything = {s.key for s in plan(t)}
    assert next_due(t, LAUNCH, everything, TZ) is None


def test_nothing_reads_the_wall_clock():
    t = task(status="todo", acknowledged_at=None, waiting_on=("T1",))
    now = DEADLINE + 36 * H
    before = (plan(t), due_slots(t, now, set(), TZ), next_due(t, now, set(), TZ))
    for moment in (datetime(1999, 12, 31, 23, 59, tzinfo=UTC), datetime(2030, 3, 1, 3, tzinfo=UTC)):
        with time_machine.travel(moment, tick=False):
            assert (plan(t), due_slots(t, now, set(), TZ), next_due(t, now, set(), TZ)) == before


# ---- properties -----------------------------------------------------------------------------
BASE = datetime(2026, 6, 1, tzinfo=UTC)
offsets = st.integers(min_value=-20 * 24 * 60, max_value=20 * 24 * 60).map(lambda m: BASE + m * M)
policies = st.builds(
    Policy.from_strings,
    before=st.lists(st.sampled_from(["3d", "1d", "5h", "2h", "30m"]), max_size=3),
    overdue_max=st.integers(0, 4),
    quiet_hours=st.sampled_from(["21:30-07:00", "12:00-13:30", "", "00:00-06:00"]),
    escalate_after=st.sampled_from(["0m", "12h", "24h"]),
    enabled=st.booleans(),
)
tasks = st.builds(
    TaskState,
    id=st.just(1),
    code=st.just("T1"),
    lead=st.just("A"),
    status=st.sampled_from(["todo", "acknowledged", "in_progress", "blocked", "done", "cancelled"]),
    deadline=offsets,
    is_cue=st.booleans(),
    launched_at=st.none() | offsets,
    acknowledged_at=st.none() | offsets,
    last_report_at=st.none() | offsets,
    waiting_on=st.sampled_from([(), ("T0",)]),
    policy=policies,
)


@settings(max_examples=300, deadline=None)
@given(t=tasks, now=offsets, data=st.data())
def test_due_slots_properties(t, now, data):
    every = plan(t)
    assert len({s.key for s in every}) == len(every)
    assert all(s.kind in KINDS and s.recipient in ("contact", "deputy", "coordinator") for s in every)
    assert all(s.send_at >= s.at or s.kind in ("due", "overdue") for s in every)
    sent = set(data.draw(st.lists(st.sampled_from([s.key for s in every] or ["x"]), unique=True)))
    got = due_slots(t, now, sent, TZ)
    assert all(s.key not in sent and s.send_at <= now for s in got)
    if t.status in ("done", "cancelled") or t.launched_at is None or not t.policy.enabled:
        assert every == [] and got == [] and next_due(t, now, sent, TZ) is None
    nxt = next_due(t, now, sent, TZ)
    if nxt is not None:  # the scheduler woken at next_due finds something to send
        assert nxt > now and any(s.send_at == nxt for s in due_slots(t, nxt, sent, TZ))
