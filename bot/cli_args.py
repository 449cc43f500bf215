"""What several `dutybot` verbs share: reading a date, a template or an event from the arguments."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.actors import SystemActor
from bot.cli import CliError
from bot.config import Settings, template_dirs
from workflows.clock import utc_now
from workflows.dates import DateParseError, parse_when
from workflows.ports import Ctx
from workflows.spec import TemplateError, load_template, resolve_template


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

