"""The safety net: random conversations by everyone, checked after every message.

A hypothesis state machine sends random sequences of commands (English names and Vietnamese
aliases), button presses (ones the bot offered and forged ones), free text, numbered choices
and photos, by users of every role (admin, coordinator, observer, the contact and deputy of two
agencies, a contact of an agency that mostly supports, a stranger), in private and in a group,
on a launched rehearsal and a not-yet-launched real event with the same task codes, while the
clock moves. Every message goes through `Router.handle`, the path every channel uses.

After every step:
- the message got an answer (a group's chatter that is not a command is the documented silence);
- no exception escaped;
- a contact never changed a task its agency does not lead;
- every stored change (task, person, event, invite, evidence, extension request) has its audit row;
- nothing changed when the answer was a refusal.

CI runs a fixed number of examples with a derandomized seed (so a failure is the same on every
run); `print_blob` prints the `@reproduce_failure` line to replay it. For a longer hunt:
DUTYBOT_STATEFUL_EXAMPLES=5000 DUTYBOT_STATEFUL_RANDOM=1 ./test tests/test_stateful_chat.py
(the seed is then printed on failure by hypothesis).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

import bot.i18n as i18n
from bot.app import SystemActor
from bot.channels.base import Attachment, IncomingMessage
from bot.commands import REGISTRY
from bot.config import load_settings
from bot.context import App
from bot.router import Router
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import Clock, make_app
from tests.helpers import START, add_user, seed_event
from workflows import events as event_uc
from workflows.ports import Ctx

EXAMPLES = int(os.environ.get("DUTYBOT_STATEFUL_EXAMPLES", "500"))
STEPS = int(os.environ.get("DUTYBOT_STATEFUL_STEPS", "14"))
CHANNEL = "fake"

# who -> (role, agency, deputy); "stranger" has no account.
PEOPLE = {
    "admin": ("admin", None, False),
    "coord": ("coordinator", None, False),
    "boss": ("observer", None, False),
    "ca": ("contact", "CA", False),
    "ca2": ("contact", "CA", True),
    "syt": ("contact", "SYT", False),
    "syt2": ("contact", "SYT", True),
    "qs": ("contact", "QS", False),  # QS mostly supports (CB-23, NC-11, NL-07)
}
WHO = [*PEOPLE, "stranger"]
CODES = ["CB-23", "NC-11", "NL-01", "cb-23", "CB-24", "NL-02", "NC-03", "NL-07", "CB-01", "CB-05", "ZZ-99", "#3", "17"]
TOKENS = [
    *CODES,
    "#1",
    "#2",
    "1",
    "2",
    "50",
    "100",
    "150",
    "-5",
    "abc",
    "40%",
    "20/6",
    "mai",
    "25/12/2026",
    "01/05/2026",
    "17:00",
    "chờ",
    "kinh",
    "phí",
    "<b>x</b>",
    "CA",
    "SYT",
    "QS",
    "XYZ",
    "coordinator",
    "observer",
    "deputy",
    "pho",
    "on",
    "off",
    "vi",
    "en",
    "ceremony",
    "all",
    "tatca",
    "fake",
    "lý",
    "do",
]
# Rendering a workbook or a chart costs ~100 ms; they are read-only and covered by test_reports.
SLOW = {"report", "baocao", "chart", "bieudo", "newevent", "taosukien"}
PHRASES = [
    "xong rồi",
    "đã xong",
    "đang làm 50%",
    "được 70%",
    "vướng kinh phí",
    "chưa có xe",
    "đã nhận",
    "ok",
    "?",
    "khi nào họp?",
    "không vướng gì",
    "1",
    "2",
    "3",
    "9",
    "80",
    "hello",
    "hết vướng rồi",
    "/",
    "/xong",
    "  ",
    "🙂",
]
# Replies that are refusals when returned rather than raised.
_REFUSAL_PREFIXES = ("err.", "unknown.", "usage.")


def _load_names() -> list[str]:
    from bot.commands.catalog import load_all

    load_all()
    return sorted(n for n in REGISTRY if n not in SLOW)


class _Keys:
    """Which catalogue keys the bot rendered while answering one message."""

    used: list[str] = []


_orig_call = i18n.Texts.__call__


def _recording_call(self, key, **params):
    _Keys.used.append(key)
    return _orig_call(self, key, **params)


class ProbeRouter(Router):
    """The real router; it also notes when a command was refused by an exception."""

    refused = False

    def _dispatch(self, msg, user, texts, uow):
        try:
            return super()._dispatch(msg, user, texts, uow)
        except Exception:
            self.refused = True
            raise


def _build_template(path) -> None:
    """Two events with the same codes: a launched rehearsal and a real one not launched yet."""
    url = f"sqlite:///{path}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    app = make_app(url, Clock(START - timedelta(days=40)))
    rehearsal = seed_event(app, START - timedelta(days=3))
    seed_event(app, START)
    with app.write() as store:
        store.get_event(rehearsal.id).name = "Tổng duyệt"
        event_uc.launch_event(
            store, Ctx(actor=SystemActor(), channel="cli", now=app.now()), store.get_event(rehearsal.id)
        )
    for handle, (role, agency, deputy) in PEOPLE.items():
        add_user(app, handle, role, agency, deputy=deputy, channel=CHANNEL)
    app.db.dispose()


def _snapshot(conn: sqlite3.Connection) -> dict:
    """What a message may change, read straight from the SQLite file (fast: ~1 ms)."""

    def rows(sql):
        return {r[0]: tuple(r[1:]) for r in conn.execute(sql)}

    return {
        "task": rows(
            "SELECT id, lead, status, percent, blocked_reason, deadline, supporting, version, "
            "acknowledged_at, completed_at FROM task"
        ),
        "user": rows("SELECT id, role, agency_code, is_deputy, active FROM user"),
        "identity": rows("SELECT id, user_id, channel, external_id FROM identity"),
        "event": rows("SELECT id, name, start, launched_at, ended_at FROM event"),
        "invite": rows("SELECT id, used_at, used_by FROM invite"),
        "evidence": rows("SELECT id, task_id FROM evidence"),
        "extension": rows("SELECT id, task_id, status FROM extensionrequest"),
        "audit": conn.execute("SELECT max(id) FROM auditentry").fetchone()[0] or 0,
    }


def _new_audit(conn: sqlite3.Connection, after_id: int) -> list[dict]:
    return [
        {
            "id": r[0],
            "event_id": r[1],
            "task_id": r[2],
            "actor_id": r[3],
            "action": r[4],
            "detail": json.loads(r[5] or "{}"),
        }
        for r in conn.execute(
            "SELECT id, event_id, task_id, actor_id, action, detail FROM auditentry WHERE id > ?", (after_id,)
        )
    ]


def _changed(before: dict, after: dict) -> set:
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


class ChatMachine(RuleBasedStateMachine):
    template_path = None  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self._dir = self.template_path.parent / f"run-{os.getpid()}-{id(self)}"
        self._dir.mkdir(exist_ok=True)
        path = self._dir / "dutybot.db"
        shutil.copyfile(self.template_path, path)
        url = f"sqlite:///{path}"
        self.clock = Clock(START - timedelta(days=40))
        self.app = App(self.settings_obj, Database(url), self.clock)
        self.router = ProbeRouter(self.app)
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.buttons: list[str] = []
        self.codes: list[str] = []
        self.mid = 0
        with self.app.read() as store:
            self.user_ids = {u.name: u.id for u in store.users()}

    def teardown(self) -> None:
        self.conn.close()
        self.app.db.dispose()
        shutil.rmtree(self._dir, ignore_errors=True)

    # -- sending -----------------------------------------------------------------------
    def _send(
        self,
        who: str,
        text: str = "",
        *,
        callback: str | None = None,
        group: bool = False,
        attachment: Attachment | None = None,
    ) -> None:
        self.mid += 1
        chat = "grp" if group else who
        msg = IncomingMessage(
            channel=CHANNEL,
            user_id=who,
            chat_id=chat,
            text=text,
            callback=callback,
            chat_type="group" if group else "private",
            message_id=str(self.mid),
            display_name=who,
            attachment=attachment,
        )
        actor = self.conn.execute(
            "SELECT u.role, u.agency_code, u.id FROM identity i JOIN user u ON u.id = i.user_id "
            "WHERE i.channel = ? AND i.external_id = ?",
            (CHANNEL, who),
        ).fetchone()
        before = _snapshot(self.conn)
        self.router.refused = False
        _Keys.used = []
        replies = self.router.handle(msg)  # an exception here fails the test: nothing may escape
        keys = list(_Keys.used)
        after = _snapshot(self.conn)
        self._check_answer(msg, replies)
        refused = self.router.refused or (bool(keys) and all(k.startswith(_REFUSAL_PREFIXES) for k in keys))
        if refused:
            assert before == after, f"a refusal ({keys}) changed {[k for k in before if before[k] != after[k]]}"
        self._check_changes(actor, before, after)
        self._remember(chat, replies)

    def _check_answer(self, msg: IncomingMessage, replies) -> None:
        is_command = (msg.text or "").strip().startswith("/")
        if msg.chat_type == "private" or is_command or msg.callback:
            assert replies, f"no answer to {msg.text!r} {msg.callback!r} from {msg.user_id}"
        for r in replies:
            assert (r.text or "").strip() or r.toast, f"an empty answer to {msg.text!r}"
            assert not re.search(r"\{\w+\}", r.text), f"an unfilled placeholder: {r.text!r}"
            for row in r.buttons:
                for b in row:
                    assert len(b.data.encode()) <= 64, f"callback data over Telegram's 64 bytes: {b.data}"

    def _check_changes(self, actor, before: dict, after: dict) -> None:
        audit = _new_audit(self.conn, before["audit"])
        task_rows = {a["task_id"] for a in audit if a["task_id"] is not None}
        event_rows = {a["event_id"] for a in audit if a["event_id"] is not None}
        for tid in _changed(before["task"], after["task"]):
            if actor is not None and actor[0] == "contact" and tid in before["task"]:
                assert before["task"][tid][0] == actor[1], (
                    f"contact of {actor[1]} changed task {tid} led by {before['task'][tid][0]}"
                )
            assert tid in task_rows, (
                f"task {tid} changed without an audit row: {before['task'].get(tid)} -> {after['task'].get(tid)}"
            )
        for table in ("evidence", "extension"):
            for rid in _changed(before[table], after[table]):
                tid = (after[table].get(rid) or before[table][rid])[0]
                assert tid in task_rows, f"{table} {rid} changed without an audit row"
        for eid in _changed(before["event"], after["event"]):
            assert eid in event_rows, f"event {eid} changed without an audit row"
        for uid in _changed(before["user"], after["user"]) | {
            after["identity"][i][0] for i in _changed(before["identity"], after["identity"]) if i in after["identity"]
        }:
            assert any(a["actor_id"] == uid or uid in a["detail"].values() for a in audit), (
                f"user {uid} changed without an audit row: {before['user'].get(uid)} -> {after['user'].get(uid)}"
            )
        for iid in _changed(before["invite"], after["invite"]):
            assert any(a["detail"].get("invite") == iid for a in audit), f"invite {iid} changed without audit"

    def _remember(self, chat: str, replies) -> None:
        flat = [b.data for r in replies for row in r.buttons for b in row]
        self.buttons = (self.buttons + flat)[-30:]
        for r in replies:
            self.codes += re.findall(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])", r.text or "")
        with self.app.write() as store:  # what a channel does after sending
            for r in replies:
                self.mid += 1
                if r.task_id is not None:
                    store.remember_sent(CHANNEL, chat, str(self.mid), r.task_id, r.kind, self.app.now())
            if flat:
                store.remember_choices(CHANNEL, chat, flat)

    # -- rules -------------------------------------------------------------------------
    @rule(
        who=st.sampled_from(WHO),
        name=st.sampled_from(_load_names()),
        first=st.sampled_from(["", *CODES, *CODES]),
        rest=st.lists(st.sampled_from(TOKENS), max_size=3),
    )
    def command(self, who, name, first, rest):
        self._send(who, " ".join([f"/{name}", first, *rest]).strip())

    @rule(
        who=st.sampled_from(["ca", "ca2", "syt", "syt2", "qs", "coord", "boss"]),
        verb=st.sampled_from(
            [
                "/xong {}",
                "/done {}",
                "/danhan {}",
                "/ack {}",
                "/tiendo {} 60",
                "/tiendo {} 100",
                "/progress {} 101",
                "/vuong {} chờ kinh phí",
                "/blocked {}",
                "/giahan {} 30/6/2026 17:00 nhà in chậm",
                "/extend {} 01/05/2026 lý do",
                "/nv {}",
                "/task {}",
            ]
        ),
        code=st.sampled_from(CODES),
    )
    def report(self, who, verb, code):
        """A contact (or staff) reporting on a task: the most used path, so it is drawn often."""
        self._send(who, verb.format(code))

    @rule(
        who=st.sampled_from(["coord", "admin", "boss", "ca"]),
        line=st.sampled_from(
            [
                "/launch 2",
                "/trienkhai 1",
                "/endevent 1",
                "/ketthuc 2",
                "/doihan {} 28/6/2026 17:00",
                "/deadline {} 01/01/2020",
                "/giaolai {} SYT",
                "/reassign {} CA",
                "/reassign {} XYZ",
                "/moi CA",
                "/moi SYT pho",
                "/invite coordinator",
                "/invite observer",
                "/moi QS",
                "/duyet 1",
                "/tuchoi 1",
                "/approve 2",
                "/nhac {}",
                "/nhac CA",
                "/thongbao họp lúc 8h",
                "/doingay 2 20/6/2026 07:00",
                "/tinhhinh 1",
                "/status 2",
                "/sukien",
                "/quahan",
                "/donvi CA",
                "/tomtat off",
                "/xemtruoc CA",
                "/viec",
                "/whoami",
                "/toila",
                "/help",
                "/lang en",
                "/lang vi",
            ]
        ),
        code=st.sampled_from(CODES),
    )
    def staff(self, who, line, code):
        self._send(who, line.format(code))

    @rule(who=st.sampled_from(WHO), pick=st.integers(0, 10_000))
    def press_offered(self, who, pick):
        if not self.buttons:
            return
        self._send(who, callback=self.buttons[pick % len(self.buttons)])

    @rule(
        who=st.sampled_from(WHO),
        task=st.integers(1, 120),
        action=st.sampled_from(
            [
                "t:{}:ack",
                "t:{}:done",
                "t:{}:prog",
                "t:{}:blk",
                "t:{}:unblk",
                "p:{}:50",
                "c:{}:100",
                "c:{}:done",
                "u:{}",
                "x:{}:y",
                "t:{}:zzz",
            ]
        ),
    )
    def press_forged(self, who, task, action):
        self._send(who, callback=action.format(task))

    @rule(who=st.sampled_from(WHO), phrase=st.sampled_from(PHRASES))
    def say(self, who, phrase):
        self._send(who, phrase)

    @rule(who=st.sampled_from(WHO), caption=st.sampled_from(["", "ảnh hiện trường", "CB-23", "CB-24 xong", "NL-07"]))
    def photo(self, who, caption):
        self._send(
            who,
            caption,
            attachment=Attachment(
                kind="photo", file_ref=f"f{self.mid}", size=2048, data=b"\x89PNG fake", mime="image/png"
            ),
        )

    @rule(
        who=st.sampled_from(WHO),
        line=st.sampled_from(["xong rồi", "/tinhhinh", "/viec", "/xong CB-23", "/help", "/moi CA", "chào cả nhà"]),
    )
    def in_group(self, who, line):
        self._send(who, line, group=True)

    @rule(who=st.sampled_from(WHO), pick=st.integers(0, 10_000))
    def join_with_code(self, who, pick):
        if self.codes:
            self._send(who, f"/start {self.codes[pick % len(self.codes)]}")

    @rule(minutes=st.sampled_from([1, 6, 90, 60 * 24, 60 * 24 * 20]))
    def time_passes(self, minutes):
        self.clock.advance(minutes=minutes)


def test_random_conversations_keep_every_promise(tmp_path_factory):
    base = tmp_path_factory.mktemp("stateful")
    template = base / "template.db"
    _build_template(template)
    ChatMachine.template_path = template
    ChatMachine.settings_obj = load_settings(None, storage={"url": f"sqlite:///{template}"})
    i18n.Texts.__call__ = _recording_call
    try:
        run_state_machine_as_test(
            ChatMachine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                print_blob=True,
                derandomize=not os.environ.get("DUTYBOT_STATEFUL_RANDOM"),
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        i18n.Texts.__call__ = _orig_call


@pytest.fixture(autouse=True)
def _restore_texts():
    yield
    i18n.Texts.__call__ = _orig_call
