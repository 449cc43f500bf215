"""Commands for coordinators (and, read-only, observers)."""

from __future__ import annotations

from bot.channels.base import Reply
from bot.commands import READER, STAFF, Call, UsageError, command
from bot.commands._helpers import by_code, current_event, event_by_ref, notify, split_when, task_by_ref, when
from bot.commands.coordination import held_reply, quiet_hold
from bot.i18n import Safe
from bot.views import task_line
from workflows import ending, invites, service
from workflows import events as event_uc
from workflows.errors import DutyError
from workflows.ports import Notice
from workflows.queries import agency_rows, overdue_tasks
from workflows.spec import TemplateError, list_templates, load_template, resolve_template_id


@command("events", "sukien", audience=READER, menu=("staff",))
def events(call: Call) -> list[Reply]:
    with call.read() as store:
        rows = [(e, store.tasks(e.id)) for e in store.list_events()]
    if not rows:
        return call.reply("err.no_event")
    lines = [call.texts("events.head")]
    for e, ts in rows:
        done = sum(t.status == "done" for t in ts)
        state = call.texts("events.ended" if e.ended_at else "events.launched" if e.launched_at else "events.draft")
        lines.append(call.texts("events.line", id=e.id, name=e.name, start=e.start, done=done, total=len(ts),
                                state=state))
    return [Reply("\n".join(lines))]


@command("status", "tinhhinh", audience=READER, menu=("staff",))
def status(call: Call) -> list[Reply]:
    if len(call.args) > 1:
        raise UsageError()
    now = call.app.now()
    with call.read() as store:
        event = event_by_ref(store, call, call.args[0] if call.args else None)
        tasks = store.tasks(event.id)
    rows = agency_rows(tasks, now)
    total = sum(r.total for r in rows)
    done = sum(r.done for r in rows)
    lines = [call.texts("statusview.head", event=event.name, id=event.id, done=done, total=total,
                        overdue=sum(r.overdue for r in rows), blocked=sum(r.blocked for r in rows))]
    if event.ended_at is not None:  # figures as of now, of an event whose record is final
        lines[0] += call.texts("statusview.ended", at=event.ended_at)
    for r in rows:
        lines.append(call.texts("statusview.line", agency=r.agency, done=r.done, total=r.total, overdue=r.overdue,
                                blocked=r.blocked, flag="⚠️ " if r.overdue or r.blocked else ""))
    return [Reply("\n".join(lines))]


@command("overdue", "quahan", audience=READER, menu=("staff",))
def overdue(call: Call) -> list[Reply]:
    if call.args:
        raise UsageError()
    now = call.app.now()
    with call.read() as store:
        event = current_event(store, call)
        codes = by_code(store, event.id)
    late = overdue_tasks(codes.values(), now)
    if not late:
        return call.reply("overdue.none", event=event.name)
    lines = [call.texts("overdue.head", count=len(late))]
    lines += [task_line(call.texts, t, now, codes) for t in late]
    return [Reply("\n".join(lines))]


@command("agency", "donvi", audience=READER, menu=("staff",))
def agency(call: Call) -> list[Reply]:
    if len(call.args) != 1:
        raise UsageError()
    now = call.app.now()
    with call.read() as store:
        ag = store.agency(call.args[0])
        if ag is None:
            raise DutyError("unknown_agency", agency=call.args[0])
        event = current_event(store, call)
        codes = by_code(store, event.id)
        people = store.contacts_of(ag.code)
    mine = sorted((t for t in codes.values() if t.lead == ag.code), key=lambda t: t.deadline)
    lines = [call.texts("agency.head", code=ag.code, name=ag.name, count=len(mine))]
    if call.msg.chat_type == "private":  # contacts' names are not posted to a group
        lines.append(call.texts("agency.contacts", names=", ".join(
            p.name + (" (P)" if p.is_deputy else "") for p in people) or "—"))
    lines += [task_line(call.texts, t, now, codes) for t in mine]
    return [Reply("\n".join(lines))]


@command("deadline", "doihan", audience=STAFF, menu=("staff",))
def deadline(call: Call) -> list[Reply]:
    if len(call.args) < 2:
        raise UsageError()
    new, rest = split_when(call, call.args[1:])
    with call.write() as store:
        t = task_by_ref(store, call, call.args[0], lock=True)
        result = service.set_deadline(store, call.ctx(), t, new, " ".join(rest))
        notify(call, store, result.notices)
    return call.reply("deadline.set", code=t.code, deadline=new)


@command("reassign", "giaolai", audience=STAFF, menu=("staff",))
def reassign(call: Call) -> list[Reply]:
    if len(call.args) != 2:
        raise UsageError()
    with call.write() as store:
        t = task_by_ref(store, call, call.args[0], lock=True)
        result = service.reassign(store, call.ctx(), t, call.args[1])
        notify(call, store, result.notices)
    return call.reply("reassign.done", code=t.code, agency=t.lead)


@command("invite", "moi", audience=STAFF, menu=("staff",))
def invite(call: Call) -> list[Reply]:
    flags = [a.lower() for a in call.args[1:]]
    if not 1 <= len(call.args) <= 3 or len(set(flags)) != len(flags) \
            or any(f not in ("deputy", "pho", "replace", "thay") for f in flags):
        raise UsageError()
    deputy, replace = bool({"deputy", "pho"} & set(flags)), bool({"replace", "thay"} & set(flags))
    if deputy and flags.count("deputy") + flags.count("pho") > 1:
        raise UsageError()
    with call.write() as store:
        event = store.current_event(call.app.now())
        code, inv = invites.create_invite(store, call.ctx(), call.args[0], ttl=call.app.invite_ttl,
                                          event_id=event.id if event else None, deputy=deputy, replace=replace)
    return [Reply(invite_text(call, code, inv))]


def invite_text(call: Call, code: str, inv) -> Safe:
    target = inv.agency_code or call.texts(f"role.{inv.role}")
    bot = call.app.bot_usernames.get("telegram")
    link = f"https://t.me/{bot}?start={code}" if bot else ""
    text = call.texts("invite.made", target=target, code=code, link=link, expires=inv.expires_at)
    text = Safe(text.rstrip())  # no bot username (Zalo only, the local chat): no link, no empty last line
    if getattr(inv, "replaces_contacts", False):  # say what redeeming it will do
        text = Safe(text + "\n" + call.texts("invite.replaces", agency=inv.agency_code))
    return text


@command("remind", "nhac", audience=STAFF, menu=("staff",))
def remind(call: Call) -> list[Reply]:
    if len(call.args) != 1:
        raise UsageError()
    ref = call.args[0]
    with call.write() as store:
        ag = store.agency(ref) if "-" not in ref and not ref.lstrip("#").isdigit() else None
        t = None if ag is not None else task_by_ref(store, call, ref)
        event = current_event(store, call) if t is None else store.get_event(t.event_id)
        ending.refuse_reminder_after_end(event)
        if t is None:
            open_tasks = [t for t in store.tasks(event.id)
                          if t.lead == ag.code and t.status not in ("done", "cancelled")]
            notices = [Notice(key="manual_reminder_agency", to="agency", agency=ag.code, kind="reminder",
                              params={"count": len(open_tasks), "codes": ", ".join(t.code for t in open_tasks[:10]),
                                      "actor": call.user.name})]
            target = ag.code
        else:
            notices = [Notice(key="manual_reminder", to="agency", agency=t.lead, task_id=t.id, kind="reminder",
                              with_buttons=True, params={"code": t.code, "title": t.title, "title_en": t.title_en,
                                                         "deadline": t.deadline, "actor": call.user.name})]
            target = t.code
        sent = notify(call, store, notices)
    return call.reply("remind.sent" if sent else "remind.nobody", target=target)


@command("broadcast", "thongbao", audience=STAFF, menu=("staff",))
def broadcast(call: Call) -> list[Reply]:
    if not call.args:
        raise UsageError()
    hold = quiet_hold(call.app, call.urgent)
    with call.write() as store:
        notices = [Notice(key="broadcast", to="agency", agency=a.code, kind="broadcast", urgent=call.urgent,
                          params={"text": call.rest, "actor": call.user.name}) for a in store.agencies()]
        sent = call.app.notifier.enqueue(store, notices, call.app.now(), hold_until=hold)
    return held_reply(call.texts, "broadcast", call.texts("broadcast.sent", count=sent), hold)


@command("newevent", "taosukien", audience=STAFF, menu=("staff",))
def newevent(call: Call) -> list[Reply]:
    if len(call.args) < 3:
        raise UsageError()
    # Only a template id from the template folders: chat input never names a server file.
    path = resolve_template_id(call.args[0], call.app.template_dirs)
    if path is None:
        known = ", ".join(list_templates(call.app.template_dirs)) or "—"
        raise DutyError("unknown_template", template=call.args[0][:64], known=known)
    try:
        template = load_template(path)
    except TemplateError as exc:
        # The file's own path stays on the server: the detail names the template by its id.
        detail = str(exc).splitlines()[0].replace(str(path), path.stem)
        raise DutyError("bad_template", detail=detail) from None
    # A day without a time starts at the template's own hour (as `dutybot event create`), not 17:00.
    start, rest = split_when(call, call.args[1:], default_time=template.start_time)
    if not rest:
        raise UsageError()
    with call.write() as store:
        event = event_uc.create_event(store, call.ctx(), template, start, " ".join(rest))
    return call.reply("newevent.made", id=event.id, name=event.name, start=start, count=len(template.duties))


@command("launch", "trienkhai", audience=STAFF, menu=("staff",))
def launch(call: Call) -> list[Reply]:
    if len(call.args) != 1:
        raise UsageError()
    hold = quiet_hold(call.app, call.urgent)
    with call.write() as store:
        event = event_by_ref(store, call, call.args[0])
        notices = event_uc.launch_event(store, call.ctx(), event)
        sent = call.app.notifier.enqueue(store, notices, call.app.now(), hold_until=hold)
        missing = event_uc.agencies_without_contact(store, event)
    text = call.texts("launch.done", id=event.id, name=event.name, count=sent)
    if missing:  # they are not forgotten: each gets its tasks on joining (bot.commands.joining)
        text += "\n" + call.texts("launch.missing_contacts", agencies=", ".join(missing))
    return held_reply(call.texts, "launch", text, hold)


@command("movedate", "doingay", audience=STAFF, menu=("staff",))
def movedate(call: Call) -> list[Reply]:
    if len(call.args) < 2:
        raise UsageError()
    with call.write() as store:
        event = event_by_ref(store, call, call.args[0])
        # A new day without a time keeps the event's hour rather than the 17:00 deadline default.
        start = when(call, " ".join(call.args[1:]), default_time=event.start.astimezone(call.app.tz).time())
        moved, kept = event_uc.move_event(store, call.ctx(), event, start)
    return call.reply("movedate.done", id=event.id, start=start, moved=moved, kept=kept)


@command("approve", "duyet", audience=STAFF, menu=("staff",))
def approve(call: Call) -> list[Reply]:
    return _decide(call, True)


@command("reject", "tuchoi", audience=STAFF, menu=("staff",))
def reject(call: Call) -> list[Reply]:
    return _decide(call, False)


def _decide(call: Call, yes: bool) -> list[Reply]:
    # Approving takes the request number; rejecting also the reason, which the contact reads.
    if not call.args or not call.args[0].lstrip("#").isdigit() or (len(call.args) > 1) == yes:
        raise UsageError()
    with call.write() as store:
        req = store.extension(int(call.args[0].lstrip("#")))
        if req is None:
            raise DutyError("unknown_request", request=call.args[0])
        result = service.decide_extension(store, call.ctx(), req, yes, " ".join(call.args[1:]))
        notify(call, store, result.notices)
    return call.reply("extend.approved" if yes else "extend.rejected", code=result.task.code,
                      deadline=req.requested_deadline, reason=" ".join(call.args[1:]))


@command("digest", "tomtat", audience=STAFF, menu=("staff",))
def digest(call: Call) -> list[Reply]:
    if len(call.args) != 1 or call.args[0].lower() not in ("on", "off", "bat", "tat"):
        raise UsageError()
    on = call.args[0].lower() in ("on", "bat")
    with call.write() as store:
        store.user(call.user.id).digest = on
    return call.reply("digest.on" if on else "digest.off")


@command("preview", "xemtruoc", audience=READER, menu=("staff",))
def preview(call: Call) -> list[Reply]:
    """The messages the current event will send from now on (nobody answering), per agency."""
    from datetime import timedelta

    from bot.preview import chat_text, default_launch, messages
    from bot.scheduler import base_policy
    from workflows.plan import parse_clock

    if len(call.args) > 1:
        raise UsageError()
    now = call.app.now()
    with call.read() as store:
        event = current_event(store, call)
        tasks = store.tasks(event.id)
        agency = store.agency(call.args[0]) if call.args else None
        if call.args and agency is None:
            raise DutyError("unknown_agency", agency=call.args[0])
    if event.ended_at is not None:  # ending stopped every reminder: nothing is left to preview
        return call.reply("preview.ended", event=event.id)
    until = max(t.deadline for t in tasks) + timedelta(days=2)
    items = messages(tasks, launched_at=event.launched_at or default_launch(tasks, now), reminders=event.reminders,
                     base=base_policy(call.app), tz=call.app.tz, texts=call.texts, until=until, since=now,
                     digest_time=parse_clock(call.app.settings.reminders.digest_time),
                     assignments=event.launched_at is None, event_name=event.name)
    if agency is not None:
        items = [m for m in items if m["agency"] == agency.code]
    return [Reply(chat_text(call.texts, items, agency.code if agency else event.name))]
