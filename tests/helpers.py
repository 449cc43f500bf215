"""Test helpers: a seeded world and a chat driver that reads like a dialog.

The driver sends messages through the real Router and drains the real outbox through a
fake channel that records a transcript per chat (unit level; the end-to-end tests use the
Telegram/Zalo test doubles instead).
"""

from __future__ import annotations

from datetime import datetime, timezone

from bot.app import SystemActor
from bot.channels.base import IncomingMessage, Reply
from bot.context import App
from bot.delivery import Delivery
from bot.i18n import strip_html
from bot.router import Router
from storage.models import Event, Identity, User
from workflows import events as event_uc
from workflows.ports import Ctx
from workflows.spec import load_template, resolve_template

START = datetime(2026, 6, 11, 0, 0, tzinfo=timezone.utc)  # 07:00 in Hà Nội


class FakeChannel:
    """Records what the delivery worker sends, per chat."""

    name = "fake"

    def __init__(self) -> None:
        self.sent: dict[str, list[Reply]] = {}
        self._n = 0

    async def send(self, chat_id: str, reply: Reply) -> str:
        self._n += 1
        self.sent.setdefault(chat_id, []).append(reply)
        return f"d{self._n}"  # never the same as an id Chat.send gives a direct answer

    def texts(self, chat_id: str) -> list[str]:
        return [strip_html(r.text) for r in self.sent.get(chat_id, [])]


def add_user(
    app: App,
    handle: str,
    role: str,
    agency: str | None = None,
    *,
    deputy: bool = False,
    lang: str | None = None,
    channel: str = "fake",
) -> User:
    with app.write() as store:
        user = store.add(
            User(name=handle, role=role, agency_code=agency, is_deputy=deputy, language=lang, created_at=app.now())
        )
        store.add(Identity(user_id=user.id, channel=channel, external_id=handle, chat_id=handle, created_at=app.now()))
        return user


def seed_event(app: App, start: datetime = START, template: str = "ceremony") -> Event:
    tpl = load_template(resolve_template(template))
    with app.write() as store:
        return event_uc.create_event(store, Ctx(actor=SystemActor(), channel="cli", now=app.now()), tpl, start, None)


def launched_by_agency(app: App, start: datetime) -> dict[str, list[str]]:
    """The bundled event at `start`, launched (its assignments queued): each agency's led task
    codes in plan order."""
    event = seed_event(app, start)
    with app.write() as store:
        event = store.get_event(event.id)
        notices = event_uc.launch_event(store, Ctx(actor=SystemActor(), channel="cli", now=app.now()), event)
        app.notifier.enqueue(store, notices, app.now())
    with app.read() as store:
        tasks = store.tasks(event.id)
    by_agency: dict[str, list[str]] = {}
    for t in sorted(tasks, key=lambda t: t.number):
        by_agency.setdefault(t.lead, []).append(t.code)
    return by_agency


def seed_world(app: App) -> Event:
    """The bundled event plus: admin, coordinator, observer, contacts of CA, SYT, STC (+ a CA deputy)."""
    event = seed_event(app)
    add_user(app, "admin", "admin")
    add_user(app, "coord", "coordinator")
    add_user(app, "boss", "observer")
    for code in ("CA", "SYT", "STC", "VPUB", "TDKT"):
        add_user(app, code.lower(), "contact", code)
    add_user(app, "ca2", "contact", "CA", deputy=True)
    return event


class Chat:
    """Drive the bot as people would: `chat.say("ca", "/xong NC-11")` returns the reply texts."""

    def __init__(self, app: App, channel_name: str = "fake") -> None:
        self.app = app
        self.router = Router(app)
        self.channel = FakeChannel()
        self.delivery = Delivery(app, {channel_name: self.channel})
        self.channel_name = channel_name
        self._mid = 0

    def send(
        self, who: str, text: str = "", *, callback: str | None = None, reply_to: str | None = None, **kw
    ) -> list[Reply]:
        self._mid += 1
        msg = IncomingMessage(
            channel=self.channel_name,
            user_id=who,
            chat_id=who,
            text=text,
            callback=callback,
            message_id=str(self._mid),
            reply_to=reply_to,
            display_name=kw.pop("name", who),
            **kw,
        )
        replies = self.router.handle(msg)
        for r in replies:
            if r.task_id is not None:
                self._mid += 1
                with self.app.write() as store:
                    store.remember_sent(self.channel_name, who, str(self._mid), r.task_id, r.kind, self.app.now())
        return replies

    def say(self, who: str, text: str = "", **kw) -> str:
        return "\n".join(strip_html(r.text) for r in self.send(who, text, **kw))

    async def deliver(self) -> int:
        """Drain the outbox until nothing is left (each round sends one message per chat)."""
        total = 0
        while sent := await self.delivery.drain_once(1000):
            total += sent
        return total
