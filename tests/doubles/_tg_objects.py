"""Records and stored objects of the Telegram double: sent messages, files, fake ids."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from ._tg_keyboards import callback_data_of

ANONYMOUS_ADMIN_ID = 1087968824
TELEGRAM_SERVICE_ID = 777000
ANONYMOUS_ADMIN = {
    "id": ANONYMOUS_ADMIN_ID,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
TELEGRAM_SERVICE = {"id": TELEGRAM_SERVICE_ID, "is_bot": False, "first_name": "Telegram"}

# Methods whose records are messages (the others in ``sent`` are edits and deletions).
MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "copyMessage",
        "forwardMessage",
    }
)


@dataclass
class SentRecord:
    """One thing the bot did to a chat: a message it sent, an edit or a deletion."""

    method: str
    chat_id: int
    message_id: int | None
    text: str | None  # text (or caption) after entity parsing, as the user sees it
    parse_mode: str | None
    reply_markup: dict[str, Any] | None  # as sent: inline keyboard, reply keyboard, ...
    time: float
    message: dict[str, Any] | None = None  # the Message JSON returned to the bot
    raw_text: str | None = None  # text as the bot sent it (with HTML tags, ...)
    entities: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def callback_data(self) -> list[str]:
        return callback_data_of(self.reply_markup)

    def buttons(self) -> list[dict[str, Any]]:
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]

    def button_texts(self) -> list[str]:
        return [b.get("text", "") for b in self.buttons()]

    def __getitem__(self, key: str) -> Any:  # dict-style access for convenience
        return getattr(self, key)


@dataclass
class FileEntry:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document"
    data: bytes
    meta: dict[str, Any]  # the PhotoSize / Document object
    group: list[dict[str, Any]] | None = None  # all sizes of a photo
    file_path: str | None = None

    @property
    def file_size(self) -> int:
        return len(self.data)


_PREFIX = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}


def fake_jpeg(size: int) -> bytes:
    size = max(size, 4)
    return b"\xff\xd8" + bytes(size - 4) + b"\xff\xd9"


def fake_document(size: int, file_name: str) -> bytes:
    head = b"%PDF-1.4\n" if file_name.lower().endswith(".pdf") else b""
    size = max(size, len(head))
    body = hashlib.sha256(file_name.encode()).digest()
    filler = (body * (size // len(body) + 1))[: size - len(head)]
    return head + filler


class FileStore:
    """Files by file_id and by file_path, with realistic-looking identifiers."""

    def __init__(self) -> None:
        self._by_id: dict[str, FileEntry] = {}
        self._by_path: dict[str, FileEntry] = {}
        self._counter = 0

    def _ids(self, kind: str) -> tuple[str, str]:
        self._counter += 1
        digest = hashlib.sha1(f"{kind}:{self._counter}".encode()).hexdigest()
        return f"{_PREFIX[kind]}{self._counter:06d}{digest[:22]}", f"AQAD{digest[22:34]}"

    def get(self, file_id: str) -> FileEntry | None:
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> FileEntry | None:
        return self._by_path.get(path)

    def path_for(self, entry: FileEntry) -> str:
        if entry.file_path is None:
            if entry.kind == "photo":
                entry.file_path = f"photos/file_{len(self._by_path)}.jpg"
            else:
                ext = (
                    "." + entry.meta.get("file_name", "file").rsplit(".", 1)[-1]
                    if "." in entry.meta.get("file_name", "")
                    else ""
                )
                entry.file_path = f"documents/file_{len(self._by_path)}{ext}"
            self._by_path[entry.file_path] = entry
        return entry.file_path

    def add_photo(self, data: bytes, width: int = 1280, height: int = 960) -> list[dict[str, Any]]:
        """Stores a photo and the thumbnails Telegram makes; returns the PhotoSize list."""
        sizes: list[dict[str, Any]] = []
        entries = []
        for side in (90, 320, 800):
            if side < max(width, height):
                scale = side / max(width, height)
                w, h = max(1, round(width * scale)), max(1, round(height * scale))
                thumb = fake_jpeg(min(len(data), max(600, w * h // 8)))
                entries.append((thumb, w, h))
        entries.append((data, width, height))
        for blob, w, h in entries:
            file_id, unique = self._ids("photo")
            meta = {"file_id": file_id, "file_unique_id": unique, "file_size": len(blob), "width": w, "height": h}
            sizes.append(meta)
            self._by_id[file_id] = FileEntry(file_id, unique, "photo", blob, meta, sizes)
        return sizes

    def add_document(self, data: bytes, file_name: str | None, mime_type: str | None) -> dict[str, Any]:
        file_id, unique = self._ids("document")
        meta: dict[str, Any] = {}
        if file_name:
            meta["file_name"] = file_name
        mime = mime_type or (mimetypes.guess_type(file_name or "")[0]) or "application/octet-stream"
        meta.update(mime_type=mime, file_id=file_id, file_unique_id=unique, file_size=len(data))
        self._by_id[file_id] = FileEntry(file_id, unique, "document", data, meta)
        return meta


def message_ref(message: Any, chat: Any = None) -> tuple[int, int]:
    """(chat_id, message_id) of a SentRecord, a Message dict, a PTB Message or a pair."""
    if isinstance(message, SentRecord):
        return message.chat_id, int(message.message_id or 0)
    if isinstance(message, dict):
        return message["chat"]["id"], message["message_id"]
    if isinstance(message, tuple):
        return int(message[0]), int(message[1])
    if isinstance(message, int):
        if chat is None:
            raise ValueError("a bare message_id needs chat=")
        return (chat["id"] if isinstance(chat, dict) else int(chat)), message
    if hasattr(message, "message_id") and hasattr(message, "chat_id"):
        return int(message.chat_id), int(message.message_id)
    raise TypeError(f"cannot tell which message {message!r} is")


def slim(message: dict[str, Any]) -> dict[str, Any]:
    """A message as embedded elsewhere (reply_to_message has no reply_to_message of its own)."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}
