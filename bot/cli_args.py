"""What the `dutybot` verbs share: their two errors, writing a result, reading a date, a template or an
event from the arguments. (Here, not in bot.cli, so the verb modules never import the entry point.)"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.actors import SystemActor
from bot.config import Settings, template_dirs
from workflows.clock import utc_now
from workflows.dates import DateParseError, parse_when
from workflows.ports import Ctx
from workflows.spec import TemplateError, load_template, resolve_template


class CliError(Exception):
    """A wrong argument found after parsing (unknown event, bad date): exit 2, nothing written.

    `usage=True` when the argument's form was wrong and the usage line shows the right one."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


class CliFailed(Exception):
    """The arguments were right but the operation could not be done (a bad backup file, a
    missing folder): exit 1 with one line, nothing changed."""


def write_out(text: str | bytes, out: str | None) -> None:
    if out:
        try:
            Path(out).write_bytes(text if isinstance(text, bytes) else text.encode())
        except OSError as exc:
            raise CliFailed(f"cannot write {out}: {exc.strerror}") from None
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)


def when_arg(text: str, settings: Settings, tz: ZoneInfo | None = None, default_time=None):
    tz = tz or ZoneInfo(settings.general.timezone)
    kwargs = {"default_time": default_time} if default_time else {}
    try:
        return parse_when(text, now=utc_now(), tz=tz, **kwargs)
    except DateParseError as exc:
        raise CliError(f"cannot read the date {text!r}: {exc}") from None


def template_arg(ref: str, settings: Settings):
    try:
        return load_template(resolve_template(ref, template_dirs(settings)))
    except TemplateError as exc:
        raise CliError(str(exc)) from None


def system_ctx(app) -> Ctx:
    return Ctx(actor=SystemActor(), channel="cli", now=app.now())


def refuse_past(start, allow_past: bool) -> None:
    if not allow_past and start < utc_now():
        raise CliError(f"the start {start.isoformat(' ', 'minutes')} is in the past; add --allow-past to use it anyway")


def event_arg(store, event_id: int):
    event = store.get_event(event_id)
    if event is None:
        raise CliError(f"no event {event_id} (see `dutybot event list`)")
    return event


def base_policy(settings: Settings):
    from workflows.reminders import Policy

    return Policy.from_strings(**settings.reminders.model_dump())


def digest_time(settings: Settings):
    from workflows.plan import parse_clock

    return parse_clock(settings.reminders.digest_time)
