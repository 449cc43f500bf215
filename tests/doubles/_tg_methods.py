"""Bot API method implementations of the Telegram double (a mixin of TelegramDouble).

Each ``_m_<methodName>`` receives the validated, coerced parameters and returns the
``result`` of the answer or raises ``ApiError``.  Semantic checks come first, then the
flood-limit token is taken, then state changes: a rejected call changes nothing.
"""

from __future__ import annotations

import re
import time
from typing import Any

from ._tg_keyboards import check_reply_markup, inline_markup
from ._tg_objects import FileEntry, SentRecord, fake_jpeg, slim
from ._tg_spec import ApiError, UploadedFile, bad_request
from ._tg_text import format_text

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANG_RE = re.compile(r"(|[a-z]{2})")
MAX_PHOTO = 10 * 1024 * 1024
MAX_UPLOAD = 50 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024


class MethodsMixin:
    # -- helpers ------------------------------------------------------------------------------
    def _chat(self, chat_id: int | str, *, sending: bool) -> dict[str, Any]:
        chat = None
        if isinstance(chat_id, str):
            name = chat_id[1:].lower() if chat_id.startswith("@") else None
            chat = next((c for c in self._chats.values() if name and c.get("username", "").lower() == name), None)
        else:
            chat = self._chats.get(chat_id)
            if chat is None and chat_id in self._users and chat_id > 0:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat is None:
            raise bad_request("chat not found", violation=False)
        if sending and chat["type"] == "private" and chat["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if sending and chat["id"] in self._kicked_from:
            kind = (
                "channel chat"
                if chat["type"] == "channel"
                else ("supergroup chat" if chat["type"] == "supergroup" else "group chat")
            )
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        return chat

    def _new_message(self, chat: dict[str, Any], sender: dict[str, Any], reply: dict | None) -> dict[str, Any]:
        cid = chat["id"]
        self._last_message_id[cid] = self._last_message_id.get(cid, 0) + 1
        msg: dict[str, Any] = {
            "message_id": self._last_message_id[cid],
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
        }
        if chat["type"] == "channel":  # channel posts are signed by the channel, not a user
            msg = {"message_id": msg["message_id"], "sender_chat": chat, "chat": chat, "date": msg["date"]}
        if reply is not None:
            msg["reply_to_message"] = reply
        return msg

    def _reply_to(self, chat: dict[str, Any], p: dict[str, Any]) -> dict[str, Any] | None:
        rp = p.get("reply_parameters")
        if not rp:
            return None
        target_chat = self._chat(rp["chat_id"], sending=False)["id"] if "chat_id" in rp else chat["id"]
        target = self._messages.get((target_chat, rp["message_id"]))
        if target is None:
            if rp.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found", violation=False)
        return slim(target)

    def _markup(self, p: dict[str, Any]) -> dict[str, Any] | None:
        markup = p.get("reply_markup")
        check_reply_markup(markup, self._button_actions)
        return markup

    def _flood_take(self, chat_id: int) -> None:
        over = self._flood.take(chat_id, time.monotonic())
        if over is not None:
            key, retry_after = over
            self._flood.open_window(key, retry_after, time.monotonic())
            self.stats["flood_429"] += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    def _format(self, p: dict[str, Any], key: str, *, caption: bool) -> tuple[str | None, list]:
        if key not in p:
            return None, []
        ent_key = "caption_entities" if caption else "entities"
        return format_text(
            p[key], p.get("parse_mode"), p.get(ent_key), caption=caption, strict_ampersand=self.strict_html_ampersand
        )

    def _deliver_message(
        self, method: str, msg: dict[str, Any], p: dict[str, Any], markup: dict | None, raw: str | None
    ) -> dict[str, Any]:
        shown = inline_markup(markup)
        if shown:
            msg["reply_markup"] = shown
        self._messages[(msg["chat"]["id"], msg["message_id"])] = msg
        text = msg.get("text", msg.get("caption"))
        entities = msg.get("entities", msg.get("caption_entities", []))
        self._record(
            SentRecord(
                method,
                msg["chat"]["id"],
                msg["message_id"],
                text,
                p.get("parse_mode"),
                markup,
                time.time(),
                msg,
                raw,
                entities,
                p,
            )
        )
        return msg

    def _target(self, p: dict[str, Any], verb: str) -> tuple[dict[str, Any], dict[str, Any]]:
        if "inline_message_id" in p:
            raise bad_request("MESSAGE_ID_INVALID", violation=False)  # no inline mode here
        if "chat_id" not in p:
            raise bad_request("chat_id is empty")
        if "message_id" not in p:
            raise bad_request("message identifier is not specified")
        chat = self._chat(p["chat_id"], sending=True)
        msg = self._messages.get((chat["id"], p["message_id"]))
        if msg is None:
            raise bad_request(f"message to {verb} not found", violation=False)
        return chat, msg

    def _edited(
        self,
        method: str,
        msg: dict[str, Any],
        p: dict[str, Any],
        changes: dict[str, Any],
        markup: dict | None,
        raw: str | None,
    ) -> dict[str, Any]:
        if msg.get("from", self.bot_user)["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited", violation=False)
        new = dict(msg)
        for key, value in changes.items():
            if value:
                new[key] = value
            else:
                new.pop(key, None)
        shown = inline_markup(markup)
        if shown:
            new["reply_markup"] = shown
        else:
            new.pop("reply_markup", None)
        if all(new.get(k) == msg.get(k) for k in (*changes, "reply_markup")):
            raise bad_request(NOT_MODIFIED, violation=False)
        new["edit_date"] = int(time.time())
        self._messages[(msg["chat"]["id"], msg["message_id"])] = new
        text = new.get("text", new.get("caption"))
        self._record(
            SentRecord(
                method,
                msg["chat"]["id"],
                msg["message_id"],
                text,
                p.get("parse_mode"),
                markup,
                time.time(),
                new,
                raw,
                new.get("entities", []),
                p,
            )
        )
        return new

    def _media_source(self, value: Any, kind: str, limit: int) -> FileEntry | UploadedFile | str:
        if isinstance(value, UploadedFile):
            if not value.data:
                raise bad_request("file must be non-empty")
            if len(value.data) > MAX_UPLOAD:
                raise ApiError(413, "Request Entity Too Large")
            if len(value.data) > limit:
                raise bad_request("file is too big")
            return value
        entry = self._files.get(value)
        if entry is not None:
            if entry.kind != kind:
                raise bad_request(f"can't use file of type {entry.kind.title()} as {kind.title()}", violation=False)
            return entry
        if value.startswith(("http://", "https://")):
            return value
        raise bad_request("wrong file identifier/HTTP URL specified", violation=False)

    # -- messages -----------------------------------------------------------------------------
    def _m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p["chat_id"], sending=True)
        text, entities = self._format(p, "text", caption=False)
        markup = self._markup(p)
        reply = self._reply_to(chat, p)
        self._flood_take(chat["id"])
        msg = self._new_message(chat, self.bot_user, reply)
        msg["text"] = text
        if entities:
            msg["entities"] = entities
        return self._deliver_message("sendMessage", msg, p, markup, p["text"])

    def _send_media(self, method: str, p: dict[str, Any], field: str, kind: str, limit: int) -> dict[str, Any]:
        chat = self._chat(p["chat_id"], sending=True)
        caption, cap_entities = self._format(p, "caption", caption=True)
        source = self._media_source(p[field], kind, limit)
        markup = self._markup(p)
        reply = self._reply_to(chat, p)
        self._flood_take(chat["id"])
        msg = self._new_message(chat, self.bot_user, reply)
        if kind == "photo":
            if isinstance(source, FileEntry):
                msg["photo"] = source.group
            else:
                data = source.data if isinstance(source, UploadedFile) else fake_jpeg(48_000)
                msg["photo"] = self._files.add_photo(data)
        elif isinstance(source, FileEntry):
            msg["document"] = source.meta
        elif isinstance(source, UploadedFile):
            msg["document"] = self._files.add_document(source.data, source.filename, source.content_type)
        else:
            name = source.rstrip("/").rsplit("/", 1)[-1] or "file"
            msg["document"] = self._files.add_document(fake_jpeg(32_000), name, None)
        if caption:
            msg["caption"] = caption
            if cap_entities:
                msg["caption_entities"] = cap_entities
        return self._deliver_message(method, msg, p, markup, p.get("caption"))

    def _m_sendPhoto(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._send_media("sendPhoto", p, "photo", "photo", MAX_PHOTO)

    def _m_sendDocument(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._send_media("sendDocument", p, "document", "document", MAX_UPLOAD)

    def _m_editMessageText(self, p: dict[str, Any]) -> dict[str, Any]:
        if "text" not in p:
            raise bad_request("message text is empty")
        _, msg = self._target(p, "edit")
        text, entities = self._format(p, "text", caption=False)
        markup = self._markup(p)
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit", violation=False)
        return self._edited("editMessageText", msg, p, {"text": text, "entities": entities}, markup, p["text"])

    def _m_editMessageCaption(self, p: dict[str, Any]) -> dict[str, Any]:
        _, msg = self._target(p, "edit")
        caption, entities = self._format(p, "caption", caption=True)
        markup = self._markup(p)
        if "text" in msg:
            raise bad_request("there is no caption in the message to edit", violation=False)
        changes = {"caption": caption, "caption_entities": entities}
        return self._edited("editMessageCaption", msg, p, changes, markup, p.get("caption"))

    def _m_editMessageReplyMarkup(self, p: dict[str, Any]) -> dict[str, Any]:
        _, msg = self._target(p, "edit")
        markup = self._markup(p)
        return self._edited("editMessageReplyMarkup", msg, p, {}, markup, None)

    def _m_deleteMessage(self, p: dict[str, Any]) -> bool:
        chat = self._chat(p["chat_id"], sending=False)
        msg = self._messages.pop((chat["id"], p["message_id"]), None)
        if msg is None:
            raise bad_request("message to delete not found", violation=False)
        self._record(
            SentRecord(
                "deleteMessage", chat["id"], p["message_id"], msg.get("text"), None, None, time.time(), msg, None, [], p
            )
        )
        return True

    def _m_sendChatAction(self, p: dict[str, Any]) -> bool:
        chat = self._chat(p["chat_id"], sending=True)
        if p["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append({"chat_id": chat["id"], "action": p["action"], "time": time.time()})
        return True

    def _m_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        if len(p.get("text", "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query = self._callbacks.get(p["callback_query_id"])
        expired = (
            query is not None
            and self.callback_timeout is not None
            and time.monotonic() - query["monotonic"] > self.callback_timeout
        )
        if query is None or query["answered"] or expired:
            raise bad_request("query is too old and response timeout expired or query ID is invalid", violation=False)
        query["answered"] = True
        query["answer"] = {k: v for k, v in p.items() if k != "callback_query_id"}
        self.callback_answers.append({"callback_query_id": p["callback_query_id"], **query["answer"]})
        self._notify_sent()
        return True

    # -- files --------------------------------------------------------------------------------
    def _m_getFile(self, p: dict[str, Any]) -> dict[str, Any]:
        entry = self._files.get(p["file_id"])
        if entry is None:
            raise bad_request("invalid file_id", violation=False)
        if entry.file_size > MAX_DOWNLOAD:
            raise bad_request("file is too big", violation=False)
        return {
            "file_id": entry.file_id,
            "file_unique_id": entry.file_unique_id,
            "file_size": entry.file_size,
            "file_path": self._files.path_for(entry),
        }

    # -- bot and chats ------------------------------------------------------------------------
    def _m_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user_full

    def _m_logOut(self, p: dict[str, Any]) -> bool:
        return True

    def _m_close(self, p: dict[str, Any]) -> bool:
        return True

    def _m_getChat(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p["chat_id"], sending=False)
        gifts = {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        }
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _scope_key(self, scope: dict[str, Any] | None) -> tuple[Any, ...]:
        if not scope:
            return ("default",)
        chat_id = scope.get("chat_id")
        if chat_id is not None:
            chat_id = self._chat(chat_id, sending=False)["id"]
        return (scope["type"], chat_id, scope.get("user_id"))

    def _language(self, p: dict[str, Any]) -> str:
        code = p.get("language_code", "")
        if not _LANG_RE.fullmatch(code):
            raise bad_request("invalid language code specified")
        return code

    def _m_setMyCommands(self, p: dict[str, Any]) -> bool:
        commands = p["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        for command in commands:
            if not _COMMAND_RE.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"].strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope_key(p.get("scope")), self._language(p))
        if commands:
            self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        else:
            self._commands.pop(key, None)
        return True

    def _m_getMyCommands(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        return self._commands.get((self._scope_key(p.get("scope")), self._language(p)), [])

    def _m_deleteMyCommands(self, p: dict[str, Any]) -> bool:
        self._commands.pop((self._scope_key(p.get("scope")), self._language(p)), None)
        return True

    def _m_setChatMenuButton(self, p: dict[str, Any]) -> bool:
        chat_id = p.get("chat_id")
        if chat_id is not None and self._chat(chat_id, sending=False)["type"] != "private":
            raise bad_request("menu button can be set only in private chats")
        self._menu_buttons[chat_id] = p.get("menu_button", {"type": "default"})
        return True

    def _m_getChatMenuButton(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = p.get("chat_id")
        if chat_id is not None:
            self._chat(chat_id, sending=False)
            button = self._menu_buttons.get(chat_id)
            if button and button.get("type") != "default":
                return button
        button = self._menu_buttons.get(None)
        return button if button and button.get("type") != "default" else {"type": "commands"}

    def _generic(self, method: str, p: dict[str, Any]) -> bool:
        """Any other method of the spec: validated, recorded, answered with ``true``."""
        chat_id = p.get("chat_id")
        if chat_id is not None:
            counted = method.lower() in self._counted
            chat = self._chat(chat_id, sending=counted)
            if counted:
                self._flood_take(chat["id"])
        self.other_calls.append({"method": method, "params": p, "time": time.time()})
        return True
