"""Dutybot's replies as python-telegram-bot calls, and Telegram's refusals as ChannelErrors.

Kept apart from the channel (bot.channels.telegram), which decides when and to whom to send:
this is only how one Reply becomes messages (split under 4096 characters, buttons on the last
part, a reply to the user's message on the first) and what each Telegram error means for a
retry (flood limit: wait; blocked: stop; bad request: permanent; network: try again).
"""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.base import ChannelError, Reply
from bot.channels.text import split_text

MAX_TEXT = 4096


async def send(bot: Bot, chat_id: str, reply: Reply) -> str:
    """Send `reply`; the id of the (last) message sent."""
    try:
        if reply.document is not None:
            name, data = reply.document
            m = await bot.send_document(
                chat_id, document=data, filename=name, caption=reply.text[:1024], parse_mode="HTML"
            )
            return str(m.message_id)
        if reply.photo is not None:
            m = await bot.send_photo(chat_id, photo=reply.photo, caption=reply.text[:1024], parse_mode="HTML")
            return str(m.message_id)
        parts = split_text(reply.text, MAX_TEXT)
        message_id = ""
        for i, part in enumerate(parts):
            markup = _markup(reply) if i == len(parts) - 1 else None
            answer = (
                ReplyParameters(int(reply.reply_to), allow_sending_without_reply=True)
                if reply.reply_to and i == 0
                else None
            )
            m = await bot.send_message(chat_id, part, parse_mode="HTML", reply_markup=markup, reply_parameters=answer)
            message_id = str(m.message_id)
        return message_id
    except RetryAfter as exc:
        raise ChannelError("flood limit", retry_after=_seconds(exc.retry_after)) from exc
    except Forbidden as exc:
        raise ChannelError(str(exc), blocked=True) from exc
    except BadRequest as exc:
        raise ChannelError(str(exc), permanent=True) from exc
    except (NetworkError, TimedOut) as exc:
        raise ChannelError(f"network: {exc}") from exc
    except TelegramError as exc:
        raise ChannelError(str(exc)) from exc


async def edit(bot: Bot, chat_id: int, message_id: int, reply: Reply) -> None:
    """Replace a message's text and buttons; "message is not modified" is not an error."""
    try:
        await bot.edit_message_text(
            reply.text[:MAX_TEXT],
            chat_id=chat_id,
            message_id=message_id,
            parse_mode="HTML",
            reply_markup=_markup(reply),
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def _markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in reply.buttons]
    )


def _seconds(value) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
