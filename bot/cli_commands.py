"""What each `dutybot` verb does (argument parsing lives in bot.cli)."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from bot import cli_people
from bot.app import SystemActor, add_admin, open_app, run, run_console
from bot.cli import CliError, CliFailed, dumps, write_out
from bot.config import Settings, template_dirs
from bot.i18n import Texts, format_time
from storage.models import Event, Invite, Task
from workflows import events as event_uc
from workflows import invites
from workflows.dates import DateParseError, parse_when
from workflows.errors import DutyError
from workflows.ports import Ctx
from workflows.spec import TemplateError, list_templates, load_template, resolve_template


def dispatch(args, settings: Settings) -> int:
    handler = _HANDLERS[(args.cmd, getattr(args, "sub", None))]
    return handler(args, settings)


def _when(text: str, settings: Settings, tz: ZoneInfo | None = None, default_time=None):
    from datetime import datetime

    tz = tz or ZoneInfo(settings.general.timezone)
    kwargs = {"default_time": default_time} if default_time else {}
    try:
        return parse_when(text, now=datetime.now(timezone.utc), tz=tz, **kwargs)
    except DateParseError as exc:
        raise CliError(f"cannot read the date {text!r}: {exc}") from None


def _template(ref: str, settings: Settings):
    try:
        return load_template(resolve_template(ref, template_dirs(settings)))
    except TemplateError as exc:
        raise CliError(str(exc)) from None


def _ctx(app) -> Ctx:
    return Ctx(actor=SystemActor(), channel="cli", now=app.now())


# -- run / chat ------------------------------------------------------------------------------
def cmd_run(args, settings) -> int:
    from bot.instance import AlreadyRunning

    try:
        asyncio.run(run(open_app(settings), role=args.role))
    except AlreadyRunning as exc:
        print(f"dutybot: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_chat(args, settings) -> int:
    from bot.instance import AlreadyRunning

    try:
        asyncio.run(run_console(open_app(settings), seed_demo=not args.no_demo, as_user=args.as_user))
    except AlreadyRunning as exc:
        print(f"dutybot: {exc}", file=sys.stderr)
        return 1
    return 0


# -- workflow ----------------------------------------------------------------------------------
def cmd_workflow_list(args, settings) -> int:
    for template_id in sorted(list_templates(template_dirs(settings))):
        print(template_id)
    return 0


def cmd_workflow_check(args, settings) -> int:
    failed = 0
    for f in args.files:
        try:
            t = load_template(f)
            print(f"{f}: ok ({len(t.agencies)} agencies, {len(t.phases)} phases, {len(t.duties)} duties)")
        except TemplateError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print(f"{f}: {len(exc.problems)} problem(s)", file=sys.stderr)
    return 2 if failed else 0


def cmd_workflow_import(args, settings) -> int:
    """A plan document → a template: problems per row on stderr, exit 2 (nothing written) when unusable."""
    from pathlib import Path

    from workflows.importer import import_plan

    tz = settings.general.timezone
    start = _when(args.start, settings, ZoneInfo(tz)) if args.start else None
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    result = import_plan(data, args.file, start=start, tz=tz)
    for line in result.lines():
        print(line, file=sys.stderr)
    if result.toml is None:
        print(f"{result.source}: error: {result.error}; nothing written", file=sys.stderr)
        return 2
    try:
        write_out(result.toml, args.out)
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"{result.source}: {result.duties} duties, {result.agencies} agencies, {result.phases} phases; "
          f"{result.duties - result.rows_to_check} rows read fully, {result.rows_to_check} to check"
          + (f" -> {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def _base_policy(settings: Settings):
    from workflows.reminders import Policy

    return Policy.from_strings(**settings.reminders.model_dump())


def _digest_time(settings: Settings):
    from workflows.plan import parse_clock

    return parse_clock(settings.reminders.digest_time)


def cmd_workflow_preview(args, settings) -> int:
    from datetime import datetime

    from bot.preview import default_launch, format_text, messages, plan_as_tasks

    template = _template(args.file, settings)
    tz = ZoneInfo(template.timezone)
    start = _when(args.start, settings, tz, default_time=template.start_time)
    tasks = plan_as_tasks(template, start)
    launch = default_launch(tasks, datetime.now(timezone.utc))
    until = max(t.deadline for t in tasks) + timedelta(days=2)
    items = messages(tasks, launched_at=launch, reminders=template.reminders.model_dump(exclude_none=True)
                     if template.reminders else None, base=_base_policy(settings), tz=tz,
                     texts=Texts(settings.general.language, tz), until=until, digest_time=_digest_time(settings),
                     event_name=template.name)
    if args.format == "json":
        write_out(dumps(items), None)
        return 0
    print(f"{template.name} — T = {format_time(start, tz)} ({template.timezone}), {len(tasks)} tasks")
    for t in sorted(tasks, key=lambda t: (t.deadline, t.number)):
        cue = " ⏰" if t.is_cue else ""
        print(f"{format_time(t.deadline, tz)}  {t.code:6} {t.lead:6} {t.title[:70]}{cue}")
    print(f"\n{len(items)} messages (launch assumed {format_time(launch, tz)}; nobody answering):")
    print(format_text(items))
    return 0


def cmd_simulate(args, settings) -> int:
    from bot.preview import default_launch, format_text, messages

    app = open_app(settings)
    with app.read() as store:
        event = _event(store, args.event)
        tasks = store.tasks(event.id)
    if not tasks:
        raise CliError(f"event {args.event} has no tasks")
    tz = ZoneInfo(event.timezone)
    now = app.now()
    until = _when(args.until, settings, tz) if args.until else max(t.deadline for t in tasks) + timedelta(days=2)
    launched = event.launched_at or default_launch(tasks, now)
    items = [] if event.ended_at is not None else (  # an ended event sends nothing more
        messages(tasks, launched_at=launched, reminders=event.reminders, base=_base_policy(settings), tz=tz,
                 texts=Texts(settings.general.language, tz), until=until, since=now,
                 digest_time=_digest_time(settings), assignments=event.launched_at is None,
                 event_name=event.name))
    if args.format == "json":
        write_out(dumps(items), None)
    else:
        print(f"{event.name}: {len(items)} messages from {format_time(now, tz)} to {format_time(until, tz)}"
              " (virtual clock; nothing is sent)")
        print(format_text(items))
    return 0


# -- event -------------------------------------------------------------------------------------
def cmd_event_create(args, settings) -> int:
    template = _template(args.template, settings)
    if args.start:
        start = _when(args.start, settings, ZoneInfo(template.timezone), default_time=template.start_time)
    elif template.start:  # an imported plan names its own start
        from datetime import datetime

        start = datetime.strptime(template.start.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(template.timezone))
    else:
        raise CliError("give --start WHEN (the template names no start)")
    _not_past(start, args.allow_past)
    app = open_app(settings)
    with app.write() as store:
        event = event_uc.create_event(store, _ctx(app), template, start.astimezone(timezone.utc), args.name,
                                      event_cls=Event, task_cls=Task, allow_past=True)
    print(event.id)
    return 0


def _not_past(start, allow_past: bool) -> None:
    from datetime import datetime

    if not allow_past and start < datetime.now(timezone.utc):
        raise CliError(f"the start {start.isoformat(' ', 'minutes')} is in the past; add --allow-past to use it anyway")


def _event(store, event_id: int):
    event = store.get_event(event_id)
    if event is None:
        raise CliError(f"no event {event_id} (see `dutybot event list`)")
    return event


def cmd_event_list(args, settings) -> int:
    app = open_app(settings)
    with app.read() as store:
        events = store.list_events()
    rows = [{"id": e.id, "name": e.name, "template": e.template_id,
             "start": e.start.astimezone(ZoneInfo(e.timezone)).isoformat(), "launched": e.launched_at is not None,
             "ended": e.ended_at is not None}
            for e in events]
    if args.format == "json":
        write_out(dumps(rows), None)
    else:
        for r in rows:
            state = "ended" if r["ended"] else "launched" if r["launched"] else "draft"
            print(f"{r['id']}\t{r['start']}\t{state}\t{r['template']}\t{r['name']}")
    return 0


def cmd_event_launch(args, settings) -> int:
    from bot.commands.coordination import quiet_hold

    app = open_app(settings)
    hold = quiet_hold(app, args.urgent)  # like /trienkhai: quiet hours hold the messages
    try:
        with app.write() as store:
            event = _event(store, args.event)
            notices = event_uc.launch_event(store, _ctx(app), event)
            queued = app.notifier.enqueue(store, notices, app.now(), hold_until=hold)
            missing = event_uc.agencies_without_contact(store, event)
    except DutyError as exc:
        raise CliError(f"event {args.event} is already launched" if exc.code == "already_launched" else exc.code)
    held = f", held until {format_time(hold, app.tz)} (quiet hours; --urgent sends now)" if hold else ""
    print(f"launched event {args.event}: {len(notices)} notices, {queued} messages queued{held}")
    if missing:
        print(f"no contact yet (each gets its tasks on joining): {', '.join(missing)}")
    return 0


def cmd_event_move(args, settings) -> int:
    app = open_app(settings)
    with app.read() as store:
        event = _event(store, args.event)
        tz = ZoneInfo(event.timezone)
        hour = event.start.astimezone(tz).time()  # a day without a time keeps the event's hour
    start = _when(args.start, settings, tz, default_time=hour)
    _not_past(start, args.allow_past)
    with app.write() as store:
        moved, kept = event_uc.move_event(store, _ctx(app), _event(store, args.event), start.astimezone(timezone.utc),
                                          allow_past=True)
    print(f"moved event {args.event} to {start.isoformat()}: {moved} deadlines moved, {kept} set by hand kept")
    return 0


# -- invite, export, user, db ----------------------------------------------------------------
def cmd_invite(args, settings) -> int:
    app = open_app(settings)
    try:
        with app.write() as store:
            if args.event is not None:
                _event(store, args.event)
            code, inv = invites.create_invite(store, _ctx(app), args.target, ttl=app.invite_ttl, invite_cls=Invite,
                                              event_id=args.event, deputy=args.deputy, replace=args.replace)
    except DutyError as exc:
        raise CliError(f"unknown agency {args.target!r}" if exc.code == "unknown_agency" else
                       "--replace is for agency contact invites" if exc.code == "replace_contacts_only" else
                       exc.code) from None
    tz = ZoneInfo(settings.general.timezone)
    print(code)
    bot = settings.telegram.bot_username
    print(f"https://t.me/{bot}?start={code}" if bot else f"/start {code}")
    print(f"expires {format_time(inv.expires_at, tz)} ({settings.general.timezone}); single use", file=sys.stderr)
    return 0


def cmd_export(args, settings) -> int:
    from bot.render.export import event_export, to_csv, to_json
    from bot.render.xlsx import workbook_bytes

    app = open_app(settings)
    with app.read() as store:
        data = event_export(store, _event(store, args.event), app.now())
    if args.format == "json":
        write_out(to_json(data), args.out)
    elif args.format == "csv":
        write_out(to_csv(data), args.out)
    elif args.format == "docx":
        from bot.render.report_docx import build_report_docx

        if not args.out and sys.stdout.isatty():
            raise CliError("docx is binary: give --out FILE (or redirect stdout)")
        write_out(build_report_docx(data), args.out)
    else:
        if not args.out and sys.stdout.isatty():
            raise CliError("xlsx is binary: give --out FILE (or redirect stdout)", usage=True)
        write_out(workbook_bytes(data, Texts(settings.general.language, app.tz)), args.out)
    return 0


def cmd_user_add_admin(args, settings) -> int:
    channel, _, external_id = args.identity.partition(":")
    if channel not in ("telegram", "zalo", "console") or not external_id:
        raise CliError(f"expected CHANNEL:ID like telegram:123456789, got {args.identity!r}", usage=True)
    app = open_app(settings)
    with app.read() as store:
        ident = store.identity(channel, external_id)
        known = store.user(ident.user_id) if ident is not None else None
    if known is not None and known.role == "admin":
        print(f"already admin #{known.id} ({channel}:{external_id}); nothing changed")
        return 0
    user, created = add_admin(app, channel, external_id)
    print(f"{'added' if created else 'promoted'} admin #{user.id} ({channel}:{external_id})")
    return 0


def cmd_web_link(args, settings) -> int:
    from bot.web.auth import find_user, make_link, usable

    if args.minutes is not None and not 1 <= args.minutes <= 24 * 60:
        raise CliError("--minutes: expected 1 to 1440")
    app = open_app(settings)
    who = args.who.strip()
    if ":" not in who and not who.isdigit():
        raise CliError(f"expected CHANNEL:ID (telegram:123456789) or a user id, got {args.who!r}")
    user = find_user(app, who)
    if user is None:
        raise CliError(f"no such person: {args.who}")
    if not usable(user):
        raise CliError(f"{user.name} (#{user.id}) may not use the board (inactive, or a contact without an agency)")
    print(make_link(app, user.id, args.minutes))
    return 0


def cmd_user_list(args, settings) -> int:
    app = open_app(settings)
    with app.read() as store:
        for u in store.users():
            ids = ", ".join(f"{i.channel}:{i.external_id}" for i in store.identities_of(u.id))
            agency = f"{u.agency_code}{' deputy' if u.is_deputy else ''}" if u.agency_code else "-"
            state = "" if u.active else "\tremoved"
            print(f"{u.id}\t{u.role}\t{agency}\t{u.name}\t{ids}{state}")
    return 0


def cmd_db_upgrade(args, settings) -> int:
    from storage.migrate import current

    app = open_app(settings, migrate=True)
    print(f"database at revision {current(app.db)}")
    return 0


def cmd_db_backup(args, settings) -> int:
    from pathlib import Path

    from storage.backup import BackupError, backup

    try:
        backup(settings.storage.url, Path(args.out))
    except (BackupError, OSError) as exc:
        raise CliFailed(f"backup failed: {exc}") from None
    print(f"backup written to {args.out} (readable by its owner only)")
    return 0


def cmd_db_restore(args, settings) -> int:
    from pathlib import Path

    from bot.instance import AlreadyRunning, lock_sqlite
    from storage.backup import BackupError, restore

    try:
        lock = lock_sqlite(settings.storage.url)  # refuse while dutybot runs on this file
    except AlreadyRunning as exc:
        raise CliFailed(str(exc)) from None
    try:
        done = restore(settings.storage.url, Path(args.file))
    except (BackupError, OSError) as exc:
        raise CliFailed(f"restore refused: {exc}; nothing was changed") from None
    finally:
        if lock is not None:
            lock.close()
    from storage.db import Database
    from storage.migrate import current, upgrade

    if done.safety_copy is not None:
        print(f"the database as it was is kept in {done.safety_copy}")
    db = Database(settings.storage.url)
    upgrade(db)  # a backup from an older release is brought up to date
    print(f"restored {args.file}; database at revision {current(db)}")
    return 0


_HANDLERS = {
    ("run", None): cmd_run, ("chat", None): cmd_chat,
    ("workflow", "list"): cmd_workflow_list, ("workflow", "check"): cmd_workflow_check,
    ("workflow", "preview"): cmd_workflow_preview,
    ("workflow", "import"): cmd_workflow_import,
    ("event", "create"): cmd_event_create, ("event", "list"): cmd_event_list,
    ("event", "launch"): cmd_event_launch, ("event", "move"): cmd_event_move,
    ("simulate", None): cmd_simulate, ("invite", None): cmd_invite, ("export", None): cmd_export,
    ("user", "add-admin"): cmd_user_add_admin, ("user", "list"): cmd_user_list, ("web", "link"): cmd_web_link,
    ("user", "remove"): cli_people.cmd_user_remove, ("user", "set-role"): cli_people.cmd_user_set_role,
    ("db", "upgrade"): cmd_db_upgrade, ("db", "backup"): cmd_db_backup, ("db", "restore"): cmd_db_restore,
}
