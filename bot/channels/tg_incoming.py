"""A Telegram update as dutybot's IncomingMessage: who wrote (shared identities get no
privileges), the text or button, the message it answers, and a file described but fetched
only on demand (and only for a member: bot.attachments)."""

from __future__ import annotations

from telegram import Bot, Update

from bot.channels.base import Attachment, IncomingMessage

# Telegram's shared identities: anonymous group admins and linked channels. A message
# "from" them proves nothing about who wrote it, so they get no privileges.
SHARED_IDS = {1087968824, 777000, 136817688}


def incoming(bot: Bot, update: Update) -> IncomingMessage | None:
    """The update as dutybot reads it (None: not from a person, or nothing to read)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or (user.is_bot and user.id not in SHARED_IDS):
        return None
    user_id = (
        "shared"
        if user.id in SHARED_IDS or update.effective_message and update.effective_message.sender_chat
        else str(user.id)
    )
    base = dict(
        channel="telegram",
        user_id=user_id,
        chat_id=str(chat.id),
        chat_type=chat.type,
        display_name=user.full_name,
        language_code=user.language_code,
    )
    if update.callback_query is not None:
        q = update.callback_query
        return IncomingMessage(
            **base, callback=q.data or "", callback_id=q.id, message_id=str(q.message.message_id) if q.message else None
        )
    m = update.message
    if m is None:
        return None
    reply_to = str(m.reply_to_message.message_id) if m.reply_to_message else None
    att = None
    if m.photo:
        att = _attachment(bot, "photo", m.photo[-1].file_id, m.photo[-1].file_size or 0, "photo.jpg", "image/jpeg")
    elif m.document:
        d = m.document
        att = _attachment(bot, "document", d.file_id, d.file_size or 0, d.file_name or "file", d.mime_type or "")
    return IncomingMessage(
        **base, text=m.text or m.caption or "", message_id=str(m.message_id), reply_to=reply_to, attachment=att
    )


def _attachment(bot: Bot, kind: str, file_id: str, size: int, name: str, mime: str) -> Attachment:
    """Described only: fetched later, and only for a member (bot.attachments)."""
    return Attachment(
        kind=kind,
        file_ref=file_id,
        size=size,
        filename=name,
        mime=mime,
        fetch=lambda limit: _download(bot, file_id, limit),
    )


async def _download(bot: Bot, file_id: str, limit: int) -> bytes | None:
    f = await bot.get_file(file_id)
    if (f.file_size or 0) > limit or not f.file_path:
        return None
    return await bot.request.fetch_capped(f.file_path, limit)
