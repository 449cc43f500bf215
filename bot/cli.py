"""The `dutybot` command. Wrong arguments exit 2 (with the usage when it helps), a failed
operation (backup, restore) exits 1 with one line; nothing is written then."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from bot.cli_args import CliError, CliFailed
from bot.config import ConfigError, load_settings

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # what a shell reports for a tool stopped by SIGPIPE (`| head`)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dutybot", description="Duty assignment and follow-up for ceremony preparation.")
    p.add_argument("--config", metavar="FILE", help="settings file (default: config.toml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="all configured channels; the local chat on the demo when no token is set")
    run.add_argument(
        "--role",
        choices=("all", "web", "worker"),
        default="all",
        help="web: receive and process updates; worker: deliver and schedule; all: both",
    )
    chat = sub.add_parser("chat", help="the local terminal chat")
    chat.add_argument("--as", dest="as_user", metavar="NAME", help="start as this user")
    chat.add_argument("--no-demo", action="store_true", help="do not create the demo on an empty database")

    wf = sub.add_parser("workflow", help="templates: list, check, preview").add_subparsers(dest="sub", required=True)
    wf.add_parser("list", help="bundled and installed templates, one id per line")
    check = wf.add_parser("check", help="validate template files")
    check.add_argument("files", nargs="+", metavar="FILE")
    imp = wf.add_parser("import", help="a plan document (.docx, .xlsx, .csv) as a template")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--start", metavar="WHEN", help="the event start (default: read from the document)")
    imp.add_argument("--out", metavar="FILE.toml", help="write the template here (default: stdout)")
    preview = wf.add_parser("preview", help="every task and every message, in time order")
    preview.add_argument("file", metavar="FILE")
    preview.add_argument("--start", required=True, metavar="WHEN")
    preview.add_argument("--format", choices=("text", "json"), default="text")

    sim = sub.add_parser("simulate", help="the messages an event will send, on a virtual clock (no sends)")
    sim.add_argument("event", type=int, metavar="EVENT")
    sim.add_argument("--until", metavar="WHEN")
    sim.add_argument("--format", choices=("text", "json"), default="text")

    ev = sub.add_parser("event", help="events: create, list, launch, move").add_subparsers(dest="sub", required=True)
    create = ev.add_parser("create", help="instantiate a template")
    create.add_argument("template", metavar="TEMPLATE")
    create.add_argument("--start", metavar="WHEN", help="the event start (default: the template's `start`)")
    create.add_argument("--name")
    create.add_argument("--allow-past", action="store_true", help="accept a start in the past (a dated plan, a test)")
    lst = ev.add_parser("list")
    lst.add_argument("--format", choices=("text", "json"), default="text")
    launch = ev.add_parser("launch")
    launch.add_argument("event", type=int, metavar="EVENT")
    launch.add_argument("--urgent", action="store_true", help="send now even in quiet hours (else held until they end)")
    move = ev.add_parser("move")
    move.add_argument("event", type=int, metavar="EVENT")
    move.add_argument("--start", required=True, metavar="WHEN")
    move.add_argument("--allow-past", action="store_true", help="accept a start in the past")

    inv = sub.add_parser("invite", help="make an invite code")
    inv.add_argument("target", metavar="AGENCY|coordinator|observer")
    inv.add_argument("--event", type=int)
    inv.add_argument("--deputy", action="store_true", help="the invitee is the agency's deputy contact")
    inv.add_argument(
        "--replace",
        action="store_true",
        help="the invitee replaces the agency's current contact(s) of that kind when joining",
    )

    exp = sub.add_parser("export", help="an event's tasks and audit trail")
    exp.add_argument("event", type=int, metavar="EVENT")
    exp.add_argument("--format", choices=("json", "csv", "xlsx", "docx"), required=True)
    exp.add_argument("--out", metavar="FILE")

    user = sub.add_parser("user", help="users: add-admin, list, remove, set-role").add_subparsers(
        dest="sub", required=True
    )
    add_admin = user.add_parser("add-admin")
    add_admin.add_argument("identity", metavar="CHANNEL:ID")
    user.add_parser("list")
    rm = user.add_parser("remove", help="remove a person: refused everywhere at once, history kept")
    rm.add_argument("person", metavar="CHANNEL:ID|USER_ID")
    sr = user.add_parser("set-role", help="change a person's role (and agency, for a contact)")
    sr.add_argument("person", metavar="CHANNEL:ID|USER_ID")
    sr.add_argument("role", choices=("admin", "coordinator", "observer", "contact"))
    sr.add_argument("--agency", metavar="CODE", help="the agency (contacts only)")
    sr.add_argument("--deputy", action="store_true", help="the agency's deputy contact")

    webp = sub.add_parser("web", help="the web board: sign-in links").add_subparsers(dest="sub", required=True)
    wlink = webp.add_parser("link", help="print a single-use sign-in URL for a person")
    wlink.add_argument("who", metavar="CHANNEL:ID|USER_ID")
    wlink.add_argument("--minutes", type=int, metavar="N", help="valid this long (default [web] link_minutes, 10)")

    db = sub.add_parser("db", help="database: upgrade, backup, restore").add_subparsers(dest="sub", required=True)
    db.add_parser("upgrade")
    bk = db.add_parser("backup", help="a consistent copy of the database (safe while running)")
    bk.add_argument("--out", required=True, metavar="FILE")
    rs = db.add_parser("restore", help="replace the database with a backup (stop dutybot first)")
    rs.add_argument("file", metavar="FILE")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage; 2 for wrong arguments, 0 for --help
        return int(exc.code or 0)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    from bot.logs import setup

    secrets = [
        s.get_secret_value()
        for s in (
            settings.telegram.token,
            settings.telegram.webhook_secret,
            settings.zalo.token,
            settings.zalo.webhook_secret,
        )
        if s
    ]
    level = logging.INFO if args.verbose else getattr(logging, settings.logging.level)
    setup(level, secrets, settings.logging.format)
    from bot import cli_commands

    try:
        code = cli_commands.dispatch(args, settings) or 0
        sys.stdout.flush()  # inside the try: a reader that went away (`| head`) is met here
        return code
    except CliError as exc:
        print(f"dutybot: error: {exc}", file=sys.stderr)
        if exc.usage:
            parser.print_usage(sys.stderr)
        return EXIT_USAGE
    except CliFailed as exc:
        print(f"dutybot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader closed the pipe: stop quietly. Point stdout at /dev/null so the
        # interpreter's final flush does not raise again (the Python docs' recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
