"""The bundled sample: a ceremony preparation about a third of the way through.

Its start is chosen so that about a third of the duties are past; those carry a realistic
spread of outcomes (most done, some late, a few still open, one or two blocked with a
reason), all written through the engine at their historical moments so the audit log is
true. The notices those old updates caused are not queued: they would be weeks stale.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.actors import SystemActor
from bot.context import App
from storage.accounts import add_person
from workflows import events as event_uc
from workflows import service
from workflows.chase import run_pass
from workflows.plan import plan_tasks
from workflows.ports import Ctx
from workflows.reminders import Policy
from workflows.spec import load_template, resolve_template

DEMO_TEMPLATE = "ceremony"
CHANNEL = "console"
_FINANCE = "STC"


def block_reasons(task) -> list[str]:
    """Blocked reasons that fit the task's agency: nobody waits on themselves (STC is the
    Finance department), and "waiting for the supporting agency" only where there is one."""
    reasons = ["Nhà in hẹn thứ Sáu mới giao, chưa nhận được bản in"]
    if task.lead != _FINANCE:
        reasons.append("Chờ Sở Tài chính thẩm định dự toán, chưa có kinh phí")
    helpers = [a for a in (task.supporting or []) if a != task.lead]
    if helpers:
        reasons.append(f"Chưa nhận được danh sách từ {helpers[0]} (đơn vị phối hợp)")
    return reasons


@dataclass
class _Person:
    handle: str
    name: str
    role: str
    agency: str | None = None


def choose_start(template, now: datetime, share_past: float = 1 / 3) -> datetime:
    """A start (at the template's usual hour) leaving about `share_past` of the duties past."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(template.timezone)
    target = round(len(template.duties) * share_past)
    local_now = now.astimezone(tz)
    best = None
    for days_ahead in range(1, 400):
        day = (local_now + timedelta(days=days_ahead)).date()
        start = datetime.combine(day, template.start_time, tzinfo=tz)
        past = sum(p.deadline < now for p in plan_tasks(template, start))
        if best is None or abs(past - target) < abs(best[1] - target):
            best = (start, past)
        if past < target - 2:
            break
    return best[0]


def _people(template) -> list[_Person]:
    people = [
        _Person("admin", "Quản trị hệ thống", "admin"),
        _Person("dieuphoi", "Chuyên viên điều phối (Ban TĐKT)", "coordinator"),
        _Person("lanhdao", "Lãnh đạo UBND tỉnh (theo dõi)", "observer"),
    ]
    people += [_Person(a.code.lower(), f"Đầu mối {a.code}", "contact", a.code) for a in template.agencies]
    return people


def ensure_demo(app: App, *, seed: int = 7) -> bool:
    """Create the demo event, users and history once; False when the database has an event."""
    with app.read() as store:
        if store.list_events():
            return False
    template = load_template(resolve_template(DEMO_TEMPLATE, app.template_dirs))
    now = app.now()
    start = choose_start(template, now)
    system = SystemActor(name="demo")
    rng = random.Random(seed)
    with app.write() as store:
        users = {}
        for p in _people(template):
            ident = store.identity(CHANNEL, p.handle)
            if ident is None:
                if p.agency:
                    store.upsert_agency(p.agency, p.agency, "")
                user = add_person(
                    store,
                    name=p.name,
                    role=p.role,
                    agency_code=p.agency,
                    channel=CHANNEL,
                    external_id=p.handle,
                    now=now,
                )
            else:
                user = store.user(ident.user_id)
            users[p.handle] = user
        first_deadline = min(p.deadline for p in plan_tasks(template, start))
        launched_at = max(first_deadline - timedelta(days=5), now - timedelta(days=120))
        ctx = Ctx(actor=system, channel="cli", now=launched_at - timedelta(hours=1))
        event = event_uc.create_event(store, ctx, template, start, None)
        coordinator = users["dieuphoi"]
        event_uc.launch_event(store, Ctx(actor=coordinator, channel=CHANNEL, now=launched_at), event)
        tasks = sorted(store.tasks(event.id), key=lambda t: t.deadline)
        _history(store, rng, tasks, users, launched_at, now)
        # The reminders of those weeks went out at the time: record their slots, queue nothing.
        run_pass(store, now, Policy.from_strings(**app.settings.reminders.model_dump()), app.tz)
    return True


def _history(store, rng: random.Random, tasks: list, users: dict, launched_at: datetime, now: datetime) -> None:
    """Replay plausible updates through the engine at their historical moments.

    Open and blocked outcomes are drawn only among past tasks that no other past task
    depends on, so one late task does not cascade through a whole dependency chain.
    """
    past = [t for t in tasks if t.deadline < now]
    needed = {code for t in past for code in t.depends_on or []}
    leaves = [t for t in past if t.code not in needed]
    stuck = rng.sample(leaves, k=min(len(leaves), max(3, round(len(past) * 0.15))))
    blocked = {t.id for t in stuck[:2]}
    overdue = {t.id for t in stuck[2:]}
    for t in tasks:
        who = users[t.lead.lower()]
        ack_at = min(launched_at + timedelta(hours=rng.randint(2, 30)), now - timedelta(minutes=5))

        def report(kind, at, who=who, t=t, **kw):  # bound now: called within this iteration only
            service.report(store, Ctx(actor=who, channel=CHANNEL, now=at), t, kind, **kw)

        if t.deadline >= now:
            if rng.random() < 0.5:
                report("ack", ack_at)
            if rng.random() < 0.25 and t.deadline - now < timedelta(days=20):
                report("progress", now - timedelta(hours=rng.randint(1, 48)), percent=rng.choice((20, 40, 60)))
            continue
        report("ack", min(ack_at, t.deadline - timedelta(hours=1)))
        if t.id in blocked:
            report("blocked", t.deadline - timedelta(hours=rng.randint(6, 48)), reason=rng.choice(block_reasons(t)))
            continue
        if t.id in overdue:
            report("progress", t.deadline - timedelta(hours=rng.randint(4, 72)), percent=rng.choice((30, 50, 70)))
            continue
        late = rng.random() < 0.15
        done_at = (
            t.deadline + timedelta(hours=rng.randint(3, 60))
            if late
            else t.deadline - timedelta(hours=rng.randint(1, 96))
        )
        done_at = min(max(done_at, ack_at + timedelta(minutes=30)), now - timedelta(minutes=10))
        if rng.random() < 0.4:
            report("progress", done_at - timedelta(hours=rng.randint(2, 24)), percent=rng.choice((50, 70, 80)))
        report("done", done_at)


def intro(app: App, created: bool) -> str:
    from bot.i18n import Texts, strip_html

    texts = Texts(app.settings.general.language, app.tz)
    with app.read() as store:
        event = store.current_event(app.now())
        tasks = store.tasks(event.id) if event else []
        people = len(store.users())
    lines = [texts("console.head")]
    if event is None:
        lines.append(texts("console.no_event") if people else texts("console.no_people"))
    else:
        done = sum(t.status == "done" for t in tasks)
        lines.append(
            texts(
                "console.demo_created" if created else "console.demo",
                id=event.id,
                name=event.name,
                count=len(tasks),
                done=done,
            )
        )
        lines.append(texts("console.try"))
    return strip_html("\n".join(lines))
