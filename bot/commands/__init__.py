"""The command registry: names, Vietnamese aliases, who may run each, and its usage line.

Handlers are thin: parse arguments, call one engine function, turn the result into replies.
Importing the audience modules below registers their commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.channels.base import IncomingMessage, Reply
from bot.context import App
from bot.i18n import Texts
from bot.uow import UnitOfWork
from workflows.errors import DutyError
from workflows.ports import Ctx

# Who may run a command. "anyone" includes people we do not know (only /start, /help, /lang).
ANYONE, MEMBER, CONTACT, READER, STAFF = "anyone", "member", "contact", "reader", "staff"
_ALLOWED = {
    ANYONE: None,
    MEMBER: {"admin", "coordinator", "observer", "contact"},
    CONTACT: {"contact", "admin", "coordinator"},
    READER: {"admin", "coordinator", "observer"},
    STAFF: {"admin", "coordinator"},
}


class UsageError(DutyError):
    """Wrong arguments: the reply is the command's usage line; nothing was changed.

    `str(err)` is the usage line's key (empty: the router names the command's own)."""

    def __init__(self, usage_key: str = "") -> None:
        super().__init__("usage", key=usage_key)
        self.args = (usage_key,)


class AskBack(Exception):
    """The request is ambiguous: nothing was changed; the bot asks with these replies and
    remembers `pending` (the user's next button press answers it)."""

    def __init__(self, replies: list, pending: dict) -> None:
        super().__init__("ask back")
        self.replies, self.pending = replies, pending


@dataclass
class Call:
    """One command invocation: the app, the message, the user (None if unknown), the args."""

    app: App
    msg: IncomingMessage
    user: object | None
    texts: Texts
    name: str
    args: list[str] = field(default_factory=list)
    urgent: bool = False  # "/thongbao! ...": send even in quiet hours
    uow: UnitOfWork | None = None  # the update's unit of work (bot.uow); None: its own transactions

    @property
    def rest(self) -> str:
        return " ".join(self.args)

    def ctx(self) -> Ctx:
        return Ctx(actor=self.user, channel=self.msg.channel, now=self.app.now(), message_ref=self.msg.ref)

    def reply(self, key: str, **params) -> list[Reply]:
        return [Reply(self.texts(key, **params))]

    # Through the command's unit of work: inside an inbox batch a write is a savepoint of the
    # batch that also marks the update done; a read sees what the batch changed so far.
    def unit_of_work(self) -> UnitOfWork:
        return self.uow if self.uow is not None else self.app.unit_of_work()

    def write(self):
        return self.unit_of_work().write()

    def read(self):
        return self.unit_of_work().read()


@dataclass
class Command:
    name: str
    aliases: tuple[str, ...]
    audience: str
    handler: Callable[[Call], list[Reply]]
    usage_key: str
    menu: tuple[str, ...] = ()  # which menus list it: "contact", "staff"

    def allows(self, role: str | None) -> bool:
        allowed = _ALLOWED[self.audience]
        return allowed is None or role in allowed


REGISTRY: dict[str, Command] = {}
ORDERED: list[Command] = []


def command(name: str, *aliases: str, audience: str, menu: tuple[str, ...] = ()):
    """Register a handler under its English name and its Vietnamese aliases."""

    def wrap(fn: Callable[[Call], list[Reply]]):
        cmd = Command(name, aliases, audience, fn, f"usage.{name}", menu)
        for n in (name, *aliases):
            if n in REGISTRY:
                raise RuntimeError(f"command /{n} registered twice")
            REGISTRY[n] = cmd
        ORDERED.append(cmd)
        return fn

    return wrap
