"""`dutybot run`, `chat`, `export` and `db …`: running the bot and looking after its database."""

from __future__ import annotations

import asyncio
import sys

from bot.app import open_app, run, run_console
from bot.cli_args import CliError, CliFailed, event_arg, write_out
from bot.i18n import Texts


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


def cmd_export(args, settings) -> int:
    from bot.render.export import to_csv, to_json
    from bot.render.xlsx import workbook_bytes
    from workflows.report_model import event_report

    app = open_app(settings)
    with app.read() as store:
        data = event_report(store, event_arg(store, args.event), app.now())
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
    from storage.migrate import current

    if done.safety_copy is not None:
        print(f"the database as it was is kept in {done.safety_copy}")
    app = open_app(settings, sync_admins=False)  # a backup from an older release is brought up to date
    print(f"restored {args.file}; database at revision {current(app.db)}")
    app.db.dispose()
    return 0
