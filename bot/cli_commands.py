"""What each `dutybot` verb does (argument parsing lives in bot.cli): the event and invite verbs
here, the others in bot.cli_workflow, bot.cli_ops and bot.cli_people."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from bot import cli_ops, cli_people, cli_workflow
from bot.app import open_app
from bot.cli_args import CliError, dumps, event_arg, refuse_past, system_ctx, template_arg, when_arg, write_out
from bot.config import Settings
from bot.i18n import format_time
from workflows import events as event_uc
from workflows import invites
from workflows.errors import DutyError


def dispatch(args, settings: Settings) -> int:
    handler = _HANDLERS[(args.cmd, getattr(args, "sub", None))]
    return handler(args, settings)


def cmd_event_create(args, settings) -> int:
    template = template_arg(args.template, settings)
    if args.start:
        start = when_arg(args.start, settings, ZoneInfo(template.timezone), default_time=template.start_time)
    elif template.start:  # an imported plan names its own start
        start = datetime.strptime(template.start.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(template.timezone))
    else:
        raise CliError("give --start WHEN (the template names no start)")
    refuse_past(start, args.allow_past)
    app = open_app(settings)
    with app.write() as store:
        event = event_uc.create_event(
            store, system_ctx(app), template, start.astimezone(timezone.utc), args.name, allow_past=True
        )
    print(event.id)
    return 0


def cmd_event_list(args, settings) -> int:
    app = open_app(settings)
    with app.read() as store:
        events = store.list_events()
    rows = [
        {
            "id": e.id,
            "name": e.name,
            "template": e.template_id,
            "start": e.start.astimezone(ZoneInfo(e.timezone)).isoformat(),
            "launched": e.launched_at is not None,
            "ended": e.ended_at is not None,
        }
        for e in events
    ]
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
            event = event_arg(store, args.event)
            notices = event_uc.launch_event(store, system_ctx(app), event)
            queued = app.notifier.enqueue(store, notices, app.now(), hold_until=hold)
            missing = event_uc.agencies_without_contact(store, event)
    except DutyError as exc:
        raise CliError(
            f"event {args.event} is already launched" if exc.code == "already_launched" else exc.code
        ) from None
    held = f", held until {format_time(hold, app.tz)} (quiet hours; --urgent sends now)" if hold else ""
    print(f"launched event {args.event}: {len(notices)} notices, {queued} messages queued{held}")
    if missing:
        print(f"no contact yet (each gets its tasks on joining): {', '.join(missing)}")
    return 0


def cmd_event_move(args, settings) -> int:
    app = open_app(settings)
    with app.read() as store:
        event = event_arg(store, args.event)
        tz = ZoneInfo(event.timezone)
        hour = event.start.astimezone(tz).time()  # a day without a time keeps the event's hour
    start = when_arg(args.start, settings, tz, default_time=hour)
    refuse_past(start, args.allow_past)
    try:
        with app.write() as store:
            moved, kept = event_uc.move_event(
                store, system_ctx(app), event_arg(store, args.event), start.astimezone(timezone.utc), allow_past=True
            )
    except DutyError as exc:  # an ended event's deadlines are its final record
        raise CliError(
            f"event {args.event} has ended; its deadlines can no longer move" if exc.code == "event_final" else exc.code
        ) from None
    print(f"moved event {args.event} to {start.isoformat()}: {moved} deadlines moved, {kept} set by hand kept")
    return 0


def cmd_invite(args, settings) -> int:
    app = open_app(settings)
    try:
        with app.write() as store:
            if args.event is not None:
                event_arg(store, args.event)
            code, inv = invites.create_invite(
                store,
                system_ctx(app),
                args.target,
                ttl=app.invite_ttl,
                event_id=args.event,
                deputy=args.deputy,
                replace=args.replace,
            )
    except DutyError as exc:
        raise CliError(
            f"unknown agency {args.target!r}"
            if exc.code == "unknown_agency"
            else "--replace is for agency contact invites"
            if exc.code == "replace_contacts_only"
            else exc.code
        ) from None
    tz = ZoneInfo(settings.general.timezone)
    print(code)
    bot = settings.telegram.bot_username
    print(f"https://t.me/{bot}?start={code}" if bot else f"/start {code}")
    print(f"expires {format_time(inv.expires_at, tz)} ({settings.general.timezone}); single use", file=sys.stderr)
    return 0


_HANDLERS = {
    ("run", None): cli_ops.cmd_run,
    ("chat", None): cli_ops.cmd_chat,
    ("workflow", "list"): cli_workflow.cmd_workflow_list,
    ("workflow", "check"): cli_workflow.cmd_workflow_check,
    ("workflow", "preview"): cli_workflow.cmd_workflow_preview,
    ("workflow", "import"): cli_workflow.cmd_workflow_import,
    ("event", "create"): cmd_event_create,
    ("event", "list"): cmd_event_list,
    ("event", "launch"): cmd_event_launch,
    ("event", "move"): cmd_event_move,
    ("simulate", None): cli_workflow.cmd_simulate,
    ("invite", None): cmd_invite,
    ("export", None): cli_ops.cmd_export,
    ("user", "add-admin"): cli_people.cmd_user_add_admin,
    ("user", "list"): cli_people.cmd_user_list,
    ("web", "link"): cli_people.cmd_web_link,
    ("user", "remove"): cli_people.cmd_user_remove,
    ("user", "set-role"): cli_people.cmd_user_set_role,
    ("db", "upgrade"): cli_ops.cmd_db_upgrade,
    ("db", "backup"): cli_ops.cmd_db_backup,
    ("db", "restore"): cli_ops.cmd_db_restore,
}
