"""`dutybot workflow …` and `dutybot simulate`: templates and what an event would send."""

from __future__ import annotations

import sys
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.app import open_app
from bot.cli_args import CliError, base_policy, digest_time, dumps, event_arg, template_arg, when_arg, write_out
from bot.config import template_dirs
from bot.i18n import Texts, format_time
from workflows.clock import utc_now
from workflows.spec import TemplateError, list_templates, load_template


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
    start = when_arg(args.start, settings, ZoneInfo(tz)) if args.start else None
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
    print(
        f"{result.source}: {result.duties} duties, {result.agencies} agencies, {result.phases} phases; "
        f"{result.duties - result.rows_to_check} rows read fully, {result.rows_to_check} to check"
        + (f" -> {args.out}" if args.out else ""),
        file=sys.stderr,
    )
    return 0


def cmd_workflow_preview(args, settings) -> int:
    from bot.preview import default_launch, format_text, messages, plan_as_tasks

    template = template_arg(args.file, settings)
    tz = ZoneInfo(template.timezone)
    start = when_arg(args.start, settings, tz, default_time=template.start_time)
    tasks = plan_as_tasks(template, start)
    launch = default_launch(tasks, utc_now())
    until = max(t.deadline for t in tasks) + timedelta(days=2)
    items = messages(
        tasks,
        launched_at=launch,
        reminders=template.reminders.model_dump(exclude_none=True) if template.reminders else None,
        base=base_policy(settings),
        tz=tz,
        texts=Texts(settings.general.language, tz),
        until=until,
        digest_time=digest_time(settings),
        event_name=template.name,
    )
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
        event = event_arg(store, args.event)
        tasks = store.tasks(event.id)
    if not tasks:
        raise CliError(f"event {args.event} has no tasks")
    tz = ZoneInfo(event.timezone)
    now = app.now()
    until = when_arg(args.until, settings, tz) if args.until else max(t.deadline for t in tasks) + timedelta(days=2)
    launched = event.launched_at or default_launch(tasks, now)
    items = (
        []
        if event.ended_at is not None
        # an ended event sends nothing more
        else (
            messages(
                tasks,
                launched_at=launched,
                reminders=event.reminders,
                base=base_policy(settings),
                tz=tz,
                texts=Texts(settings.general.language, tz),
                until=until,
                since=now,
                digest_time=digest_time(settings),
                assignments=event.launched_at is None,
                event_name=event.name,
            )
        )
    )
    if args.format == "json":
        write_out(dumps(items), None)
    else:
        print(
            f"{event.name}: {len(items)} messages from {format_time(now, tz)} to {format_time(until, tz)}"
            " (virtual clock; nothing is sent)"
        )
        print(format_text(items))
    return 0
