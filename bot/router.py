"""Incoming message -> who is it -> parse -> role check -> command -> replies.

Domain errors become replies here, in one place; the write transaction of a failed
command has already been rolled back, so bad input changes nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from bot.channels.base import IncomingMessage, Reply
from bot.commands import ANYONE, CONTACT, REGISTRY, AskBack, Call, UsageError, coordination, plan_import
from bot.commands._helpers import CHOSEN_EVENT
from bot.commands.catalog import load_all
from bot.commands.replies import drop_pending, handle_callback, handle_text
from bot.context import App
from bot.event_label import label_events
from bot.floodgate import SenderGate, Verdict
from bot.i18n import Texts, strip_html
from bot.inbox import AlreadyProcessed
from bot.uow import UnitOfWork
from workflows.access import AccessDenied
from workflows.dates import DateParseError
from workflows.errors import DutyError

log = logging.getLogger(__name__)
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@(\w+))?(!)?(?:\s+(.*))?$", re.S)  # "/thongbao! ...": urgent
_WHICH = re.compile(r"^w:(\d{1,9})$")  # a button under "which event?" (bot.commands._helpers)
_JOIN = re.compile(r"^/(start|batdau)(@\w+)?\s+\S+$", re.I)  # with a code: how a removed person comes back


class Router:
    def __init__(self, app: App, gate: SenderGate | None = None) -> None:
        # `gate`: how much each sender is answered (bot.floodgate); the channels facing the
        # public (Telegram, Zalo) get one, the local chat and unit tests do not.
        self.app, self.gate = app, gate
        load_all()  # the registry, filled once

    def identify(self, msg: IncomingMessage, uow: UnitOfWork | None = None):
        """The member who wrote, or None (a stranger, or someone removed)."""
        user = self._sender(msg, uow or self.app.unit_of_work())
        return user if user is not None and user.active else None

    def _sender(self, msg: IncomingMessage, uow: UnitOfWork):
        """Whoever this account belongs to, removed or not."""
        with uow.read() as store:
            ident, user = store.identity_and_user(msg.channel, msg.user_id)
            if user is None or not user.active:
                return user
            # A bare number answers the numbered choices last offered in this chat.
            text = (msg.text or "").strip()
            if msg.callback is None and ident.choices and text.isdigit() and 1 <= int(text) <= len(ident.choices):
                msg.callback, msg.text = ident.choices[int(text) - 1], ""
            return user

    def texts_for(self, user, msg: IncomingMessage) -> Texts:
        lang = getattr(user, "language", None)
        if not lang and msg.language_code:
            lang = "en" if msg.language_code.lower().startswith("en") else "vi"
        return Texts(lang or self.app.settings.general.language, self.app.tz)

    def handle(self, msg: IncomingMessage, uow: UnitOfWork | None = None) -> list[Reply]:
        """Everything a person sends goes through here; the result is what to answer.

        `uow`: the update's unit of work (bot.uow), which the commands write and read through;
        the pipeline passes the batch's. None: its own transactions (App.unit_of_work)."""
        uow = uow or self.app.unit_of_work()
        sender = self._sender(msg, uow)
        user = sender if sender is not None and sender.active else None
        # A removed person is refused everything (commands, old buttons, free text) except
        # joining again with a new invite code.
        removed = (
            sender is not None
            and user is None
            and (msg.callback is not None or not _JOIN.match((msg.text or "").strip()))
        )
        msg.sender_known = user is not None
        texts = self.texts_for(sender, msg)
        # (A removed person is rationed like a stranger, under their own key: told once an hour.)
        key = f"{'removed:' if removed else ''}{msg.channel}:{msg.user_id}"
        verdict = self.gate.check(key, known=user is not None) if self.gate else None
        if verdict is Verdict.QUIET and user is None:
            # A stranger already told how to join this hour hears nothing more, unless this
            # message makes them a member (an invite code): joining is never held back.
            if removed or not (msg.text or "").lstrip().startswith("/"):
                return []
            replies = self._answer(msg, user, texts, uow)
            return replies if self.identify(msg, uow) is not None else []
        replies = self._removed(msg, texts) if removed else self._answer(msg, user, texts, uow)
        if verdict is Verdict.SLOW_DOWN:  # a member is answered anyway (bot.floodgate)
            return replies + [Reply(texts("flood.slow_down"))]
        return [] if verdict is Verdict.QUIET else replies

    def _answer(self, msg: IncomingMessage, user, texts: Texts, uow: UnitOfWork) -> list[Reply]:
        try:
            return label_events(self.app, texts, self._dispatch(msg, user, texts, uow), uow)
        except UsageError as exc:
            return [Reply(texts("usage.prefix") + texts(str(exc)))]
        except AccessDenied as exc:
            return [Reply(texts(f"err.{exc.code}"))]
        except DutyError as exc:
            params = dict(exc.params)
            if isinstance(params.get("status"), str):  # a stored status reads as its local name
                params["status"] = texts.status(params["status"])
            text = texts(f"err.{exc.code}", **params)
            # A refused button press also gets the answer as the button's toast.
            return [Reply(text, toast=strip_html(text) if msg.callback is not None else None)]
        except DateParseError as exc:
            return [Reply(texts("err.bad_date", text=exc.text))]
        except AlreadyProcessed:
            return []  # a replayed update: its effects and replies happened the first time
        except AskBack as exc:  # "which event?": nothing changed; the next button press answers it
            if user is not None:
                with uow.write() as store:
                    store.user(user.id).pending = exc.pending
            return exc.replies

    def _removed(self, msg: IncomingMessage, texts: Texts) -> list[Reply]:
        if msg.callback is None and msg.chat_type != "private" and not _COMMAND.match((msg.text or "").strip()):
            return []  # group chatter is not addressed to the bot
        text = texts("err.removed")
        return [Reply(text, toast=strip_html(text) if msg.callback is not None else None)]

    def _chosen_event(self, msg: IncomingMessage, user, texts: Texts, event_id: int, uow: UnitOfWork) -> list[Reply]:
        """Run the command that asked "which event?" again, in the event the person picked
        (here, not in bot.commands.replies: a command module does not call the router back)."""
        pending = user.pending or {}
        if pending.get("kind") != "which_event" or event_id not in pending.get("events", []):
            return [Reply(texts("err.stale_button"), toast=texts("err.stale_button"))]
        drop_pending(self.app, user, uow)
        token = CHOSEN_EVENT.set(event_id)
        try:
            return self._dispatch(replace(msg, text=pending["text"], callback=None), user, texts, uow)
        finally:
            CHOSEN_EVENT.reset(token)

    def _dispatch(self, msg: IncomingMessage, user, texts: Texts, uow: UnitOfWork) -> list[Reply]:
        if msg.callback is not None:
            if user is None:
                return [Reply(texts("unknown.hello"), toast=texts("unknown.short"))]
            if msg.callback.startswith("plan:"):
                return plan_import.handle_callback(self.app, msg, user, texts, uow)
            if msg.callback.startswith("co:"):
                return coordination.handle_callback(self.app, msg, user, texts, uow)
            if (which := _WHICH.match(msg.callback)) is not None:  # "which event?" answered
                return self._chosen_event(msg, user, texts, int(which.group(1)), uow)
            return handle_callback(self.app, msg, user, texts, uow)
        match = _COMMAND.match(msg.text.strip()) if msg.text else None
        group = msg.chat_type != "private"
        if match is None:
            if group:
                return []  # group chatter is not addressed to the bot
            if user is None:
                return [Reply(texts("unknown.hello"))]
            if plan_import.is_plan_document(msg, user):
                return plan_import.handle_document(self.app, msg, user, texts)
            return handle_text(self.app, msg, user, texts, uow)
        name, _bot, urgent, rest = match.group(1).lower(), match.group(2), bool(match.group(3)), match.group(4) or ""
        cmd = REGISTRY.get(name)
        if cmd is None:
            return [Reply(texts("err.unknown_command", name=name))] if user else [Reply(texts("unknown.hello"))]
        if user is None and cmd.name == "whoami" and not group:
            # A stranger learns only their own account id, to give an admin who adds them.
            return [Reply(texts("unknown.whoami", identity=f"{msg.channel}:{msg.user_id}"))]
        if not cmd.allows(getattr(user, "role", None)):
            # An unknown person learns nothing, not even which commands exist.
            if user is None:
                return [Reply(texts("unknown.hello"))]
            if cmd.audience == CONTACT:  # an observer tried a contact's command: say whose it is
                return [Reply(texts("err.contact_only", name=name, role=texts(f"role.{user.role}")))]
            return [Reply(texts("err.staff_only"))]
        if group and (
            cmd.audience in (CONTACT, ANYONE) and name not in ("help", "trogiup") or cmd.name in ("invite", "link")
        ):
            # Nothing private in a group: a contact's tasks, invite codes, joining stay 1:1.
            return [Reply(texts("err.private_only"))]
        if user is not None:
            drop_pending(self.app, user, uow)  # a command is never the answer to "vướng gì?"
        call = Call(self.app, msg, user, texts, name, rest.split(), urgent=urgent, uow=uow)
        try:
            return cmd.handler(call)
        except UsageError:
            raise UsageError(cmd.usage_key) from None
