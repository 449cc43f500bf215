"""Acting as Telegram users (a mixin of TelegramDouble).

Every action builds the Update the real Telegram would send to the bot and delivers it
via getUpdates or the webhook.  Users are plain ``User`` dicts made by ``make_user``; every
method also accepts a bare user id.
"""

from __future__ import annotations

import mimetypes
import time
from typing import Any

from ._tg_keyboards import callback_data_of
from ._tg_objects import (
    ANONYMOUS_ADMIN,
    MESSAGE_METHODS,
    TELEGRAM_SERVICE,
    SentRecord,
    fake_document,
    fake_jpeg,
    message_ref,
    slim,
)
from ._tg_text import MAX_TEXT, detect_entities

UserLike = dict[str, Any] | int
ChatLike = dict[str, Any] | int | None


class UsersMixin:
    # -- identities ---------------------------------------------------------------------------
    def make_user(
        self,
        id: int,
        first_name: str,
        language_code: str | None = "vi",
        username: str | None = None,
        *,
        last_name: str | None = None,
        is_premium: bool | None = None,
    ) -> dict[str, Any]:
        """Registers a user; the bot may write to them only after they wrote to it."""
        if id <= 0:
            raise ValueError("user ids are positive")
        user: dict[str, Any] = {"id": id, "is_bot": False, "first_name": first_name}
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
            ("is_premium", is_premium),
        ):
            if value is not None:
                user[key] = value
        self._users[id] = user
        return user

    def make_group(
        self,
        id: int,
        title: str,
        *,
        supergroup: bool | None = None,
        username: str | None = None,
        is_forum: bool | None = None,
    ) -> dict[str, Any]:
        """A group the bot is a member of (supergroup if the id starts with -100)."""
        if id >= 0:
            raise ValueError("group ids are negative")
        if supergroup is None:
            supergroup = str(id).startswith("-100")
        chat: dict[str, Any] = {"id": id, "title": title, "type": "supergroup" if supergroup else "group"}
        if username:
            chat["username"] = username
        if is_forum:
            chat["is_forum"] = True
        self._chats[id] = chat
        return chat

    def make_channel(self, id: int, title: str, *, username: str | None = None) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": id, "title": title, "type": "channel"}
        if username:
            chat["username"] = username
        self._chats[id] = chat
        return chat

    def block_user(self, user_id: UserLike, *, notify: bool = True) -> None:
        """The user blocks the bot: sends fail with 403; a my_chat_member update is sent."""
        uid = self._user(user_id)["id"]
        if uid in self._blocked:
            return
        self._blocked.add(uid)
        if notify and uid in self._chats:
            self._member_update(uid, "member", "kicked")

    def unblock_user(self, user_id: UserLike, *, notify: bool = True) -> None:
        uid = self._user(user_id)["id"]
        if uid in self._blocked:
            self._blocked.discard(uid)
            if notify and uid in self._chats:
                self._member_update(uid, "kicked", "member")

    def kick_bot(self, group: ChatLike) -> None:
        """The bot is removed from a group: further sends there fail with 403."""
        self._kicked_from.add(self._chat_of(group)["id"])

    def _member_update(self, uid: int, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            body = {"user": self.bot_user, "status": status}
            if status == "kicked":
                body["until_date"] = 0
            return body

        self._emit_update(
            "my_chat_member",
            {
                "chat": self._chats[uid],
                "from": self._users[uid],
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def _user(self, user: UserLike) -> dict[str, Any]:
        uid = user["id"] if isinstance(user, dict) else int(user)
        if uid == ANONYMOUS_ADMIN["id"]:
            return ANONYMOUS_ADMIN
        if uid == TELEGRAM_SERVICE["id"]:
            return TELEGRAM_SERVICE
        if uid not in self._users:
            raise LookupError(f"unknown user {uid}: make_user() first")
        return self._users[uid]

    def _chat_of(self, chat: ChatLike) -> dict[str, Any]:
        cid = chat["id"] if isinstance(chat, dict) else int(chat)
        if cid not in self._chats:
            raise LookupError(f"unknown chat {cid}: make_group() first")
        return self._chats[cid]

    def _private_chat(self, user: dict[str, Any]) -> dict[str, Any]:
        uid = user["id"]
        if uid not in self._chats:
            chat = {"id": uid, "first_name": user["first_name"], "type": "private"}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
            self._chats[uid] = chat
        elif uid in self._blocked:  # writing to the bot again unblocks it
            self.unblock_user(uid)
        return self._chats[uid]

    # -- messages -----------------------------------------------------------------------------
    def _incoming(
        self, user: UserLike, chat: ChatLike, reply_to: Any, sender_chat: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        sender = self._user(user)
        target = self._private_chat(sender) if chat is None else self._chat_of(chat)
        reply = None
        if reply_to is not None:
            key = message_ref(reply_to, target)
            if key not in self._messages:
                raise LookupError(f"no message {key} to reply to")
            reply = slim(self._messages[key])
        msg = self._new_message(target, sender, reply)
        if sender_chat is not None:
            msg = {
                "message_id": msg["message_id"],
                "from": sender,
                "sender_chat": sender_chat,
                **{k: v for k, v in msg.items() if k not in ("message_id", "from")},
            }
        return msg

    def _publish(self, msg: dict[str, Any], kind: str = "message") -> dict[str, Any]:
        self._messages[(msg["chat"]["id"], msg["message_id"])] = msg
        if self._visible(msg):
            self._emit_update(kind, msg)
        return msg

    def _visible(self, msg: dict[str, Any]) -> bool:
        """Group privacy mode: only commands, replies to the bot and mentions reach it."""
        if msg["chat"]["type"] == "private" or not self.group_privacy:
            return True
        text = msg.get("text") or msg.get("caption") or ""
        reply = msg.get("reply_to_message")
        return (
            text.startswith("/")
            or f"@{self.bot_user['username']}".lower() in text.lower()
            or bool(reply and reply.get("from", {}).get("id") == self.bot_user["id"])
        )

    @staticmethod
    def _with_text(msg: dict[str, Any], text: str, key: str = "text") -> None:
        if len(text) > MAX_TEXT:
            raise ValueError("Telegram clients do not send texts over 4096 characters")
        msg[key] = text
        entities = detect_entities(text)
        if entities:
            msg["entities" if key == "text" else "caption_entities"] = entities

    async def user_sends(
        self, user: UserLike, text: str, *, chat: ChatLike = None, reply_to: Any = None
    ) -> dict[str, Any]:
        """The user writes ``text`` (commands get bot_command entities); returns the Message."""
        msg = self._incoming(user, chat, reply_to)
        self._with_text(msg, text)
        return self._publish(msg)

    async def user_edits(self, user: UserLike, message: Any, text: str) -> dict[str, Any]:
        key = message_ref(message)
        old = self._messages[key]
        if old["from"]["id"] != self._user(user)["id"]:
            raise ValueError("users can only edit their own messages")
        new = {k: v for k, v in old.items() if k not in ("text", "entities")}
        self._with_text(new, text)
        new["edit_date"] = int(time.time())
        return self._publish(new, "edited_message")

    async def anonymous_admin_sends(self, group: ChatLike, text: str, *, reply_to: Any = None) -> dict[str, Any]:
        """A group admin posting anonymously: from GroupAnonymousBot, sender_chat = the group."""
        chat = self._chat_of(group)
        msg = self._incoming(ANONYMOUS_ADMIN, chat, reply_to, sender_chat=chat)
        self._with_text(msg, text)
        return self._publish(msg)

    async def linked_channel_posts(self, group: ChatLike, channel: ChatLike, text: str) -> dict[str, Any]:
        """A channel post automatically forwarded into its discussion group (from 777000)."""
        channel_chat = self._chat_of(channel)
        msg = self._incoming(TELEGRAM_SERVICE, group, None, sender_chat=channel_chat)
        msg["forward_origin"] = {
            "type": "channel",
            "chat": channel_chat,
            "message_id": self._last_message_id.get(channel_chat["id"], 0) + 1,
            "date": msg["date"],
        }
        msg["is_automatic_forward"] = True
        self._with_text(msg, text)
        return self._publish(msg)

    async def user_forwards(
        self, user: UserLike, text: str, *, origin: Any = None, chat: ChatLike = None, date: int | None = None
    ) -> dict[str, Any]:
        """The user forwards someone else's message; ``origin`` is a User dict, a Chat dict,
        a name (hidden user) or None (hidden "Ẩn danh")."""
        msg = self._incoming(user, chat, None)
        when = date if date is not None else msg["date"] - 3600
        if isinstance(origin, dict) and "type" in origin:
            if origin["type"] == "channel":
                forward = {"type": "channel", "chat": origin, "message_id": 1, "date": when}
            else:
                forward = {"type": "chat", "sender_chat": origin, "date": when}
        elif isinstance(origin, dict):
            forward = {"type": "user", "sender_user": origin, "date": when}
        else:
            forward = {"type": "hidden_user", "sender_user_name": origin or "Ẩn danh", "date": when}
        msg["forward_origin"] = forward
        self._with_text(msg, text)
        return self._publish(msg)

    async def user_sends_photo(
        self,
        user: UserLike,
        *,
        chat: ChatLike = None,
        reply_to: Any = None,
        caption: str | None = None,
        size: int = 60_000,
        width: int = 1280,
        height: int = 960,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        """A photo of ``size`` bytes (largest PhotoSize); downloadable via getFile."""
        msg = self._incoming(user, chat, reply_to)
        msg["photo"] = self._files.add_photo(content if content is not None else fake_jpeg(size), width, height)
        if caption:
            self._with_text(msg, caption, "caption")
        return self._publish(msg)

    async def user_sends_document(
        self,
        user: UserLike,
        *,
        chat: ChatLike = None,
        reply_to: Any = None,
        caption: str | None = None,
        file_name: str = "document.pdf",
        mime_type: str | None = None,
        size: int = 20_000,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        msg = self._incoming(user, chat, reply_to)
        data = content if content is not None else fake_document(size, file_name)
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        msg["document"] = self._files.add_document(data, file_name, mime)
        if caption:
            self._with_text(msg, caption, "caption")
        return self._publish(msg)

    # -- callback queries ---------------------------------------------------------------------
    async def user_presses(self, user: UserLike, message: Any, callback_data: str, *, strict: bool = True) -> str:
        """The user presses an inline button of ``message`` (a SentRecord, Message dict or
        (chat_id, message_id)); returns the callback query id."""
        sender = self._user(user)
        key = message_ref(message)
        current = self._messages.get(key)
        if current is None:
            raise LookupError(f"message {key} does not exist (deleted?)")
        offered = callback_data_of(current.get("reply_markup"))
        if strict and callback_data not in offered:
            raise ValueError(f"message {key} has no button with callback_data {callback_data!r}; it offers {offered}")
        self._callback_seq += 1
        query_id = str(4_611_686_018_427_387_904 + self._callback_seq * 7919)
        query = {
            "id": query_id,
            "from": sender,
            "message": current,
            "chat_instance": str((key[0] * 2_654_435_761) % 9_007_199_254_740_991),
            "data": callback_data,
        }
        self._callbacks[query_id] = {
            "id": query_id,
            "user_id": sender["id"],
            "chat_id": key[0],
            "message_id": key[1],
            "data": callback_data,
            "time": time.time(),
            "monotonic": time.monotonic(),
            "answered": False,
            "answer": None,
        }
        self._emit_update("callback_query", query)
        return query_id

    def unanswered_callbacks(self) -> list[dict[str, Any]]:
        return [q for q in self._callbacks.values() if not q["answered"]]

    def callback(self, query_id: str) -> dict[str, Any]:
        """State of one callback query: answered flag and the answer's parameters."""
        return self._callbacks[query_id]

    # -- inspection ---------------------------------------------------------------------------
    def messages_to(self, chat: ChatLike) -> list[SentRecord]:
        """Messages the bot sent to a chat (not edits or deletions), oldest first."""
        cid = chat["id"] if isinstance(chat, dict) else int(chat)
        return [r for r in self.sent if r.chat_id == cid and r.method in MESSAGE_METHODS]

    def message(self, chat: ChatLike, message_id: int) -> dict[str, Any] | None:
        """The current state of a message (after edits), or None if deleted/unknown."""
        cid = chat["id"] if isinstance(chat, dict) else int(chat)
        return self._messages.get((cid, message_id))
