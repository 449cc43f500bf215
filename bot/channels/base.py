"""The narrow shape every channel shares: what comes in, what goes out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Attachment:
    kind: str  # photo | document
    file_ref: str
    size: int = 0
    filename: str = ""
    mime: str = ""
    # Fetches the file on demand, reading at most `limit` bytes (None: larger than that).
    # Called only for senders whose file may be kept (bot.attachments), never for strangers.
    fetch: Callable[[int], Awaitable[bytes | None]] | None = None
    data: bytes | None = None


@dataclass
class IncomingMessage:
    """A platform update, reduced to what dutybot needs. `user_id` is who acts."""

    channel: str
    user_id: str
    chat_id: str
    text: str = ""
    chat_type: str = "private"
    display_name: str = ""
    language_code: str | None = None
    message_id: str | None = None
    reply_to: str | None = None
    callback: str | None = None
    callback_id: str | None = None
    attachment: Attachment | None = None
    sender_known: bool | None = None  # set by the router: a member (answered first) or a stranger

    @property
    def ref(self) -> str:
        return f"{self.channel}:{self.chat_id}:{self.message_id or self.callback_id or '-'}"


@dataclass
class Button:
    label: str
    data: str


@dataclass
class Reply:
    """Something to send back to the chat the message came from."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    task_id: int | None = None
    kind: str = "reply"
    document: tuple[str, bytes] | None = None
    photo: bytes | None = None
    edit: bool = False
    toast: str | None = None
    reply_to: str | None = None  # the platform message this answers (shown as a reply)


class ChannelError(Exception):
    """A send failed; `permanent` tells the delivery worker not to retry."""

    def __init__(
        self, message: str, *, permanent: bool = False, blocked: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent, self.blocked, self.retry_after = permanent, blocked, retry_after

    def stored(self) -> str:
        """The outbox's `last_error`; a flood limit is marked (RETRY_MARK) so that a restart can
        find the chats still inside their window (bot.delivery.Delivery.restore_holds)."""
        return (f"{RETRY_MARK}{self.retry_after:g}s: {self}" if self.retry_after else str(self))[:500]


RETRY_MARK = "retry_after "


class Channel(Protocol):
    """What the delivery worker (and the inbound pipeline, bot.pipeline) needs of a platform.
    Turning an update into an IncomingMessage is `parse` in bot.pipeline.BatchChannel; an
    attachment is fetched on demand through `Attachment.fetch`."""

    name: str

    async def send(self, chat_id: str, reply: Reply) -> str: ...  # the id of the (last) message sent

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> None: ...
