"""The Telegram command menus: per language, one for contacts and one for coordinators."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.commands import ORDERED
from bot.commands.catalog import load_all
from bot.i18n import Texts

_DESCRIPTION_LIMIT = 256
log = logging.getLogger(__name__)


def menu(audience: str, lang: str) -> list[BotCommand]:
    """Commands of one menu; Vietnamese users see the Vietnamese aliases."""
    load_all()
    texts = Texts(lang, None)  # no time zone needed for usage lines
    out = []
    for cmd in ORDERED:
        if audience not in cmd.menu:
            continue
        name = cmd.aliases[0] if lang == "vi" and cmd.aliases else cmd.name
        out.append(BotCommand(name, texts(cmd.usage_key)[:_DESCRIPTION_LIMIT]))
    return out


async def set_menus(bot: Bot, staff_chat_ids: list[int | str] = (), *, default: bool = True) -> None:
    """Contacts' menu for everyone (vi default, en for English clients); staff get theirs per chat."""
    if default:
        await bot.set_my_commands(menu("contact", "vi"), scope=BotCommandScopeDefault())
        await bot.set_my_commands(menu("contact", "en"), scope=BotCommandScopeDefault(), language_code="en")
    for chat_id in staff_chat_ids:
        try:
            await bot.set_my_commands(menu("staff", "vi"), scope=BotCommandScopeChat(chat_id))
            await bot.set_my_commands(menu("staff", "en"), scope=BotCommandScopeChat(chat_id), language_code="en")
        except TelegramError as exc:  # a chat that blocked the bot must not stop start-up
            log.warning("no staff menu for chat %s: %s", chat_id, exc)
