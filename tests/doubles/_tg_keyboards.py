"""Telegram's keyboard rules that the spec's types alone do not express."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ._tg_spec import bad_request

MAX_CALLBACK_DATA = 64


def check_reply_markup(markup: dict[str, Any] | None, button_actions: frozenset[str]) -> None:
    """Telegram's rules for keyboards that the spec types alone do not express."""
    if not markup:
        return
    if "inline_keyboard" in markup:
        if len(markup["inline_keyboard"]) > 100:
            raise bad_request("reply markup is too long")
        for row in markup["inline_keyboard"]:
            for button in row:
                _check_inline_button(button, button_actions)
    elif "keyboard" in markup:
        for row in markup["keyboard"]:
            for button in row:
                if isinstance(button, dict) and not button.get("text", "").strip():
                    raise bad_request("keyboard button text must be non-empty")


def _check_inline_button(button: dict[str, Any], button_actions: frozenset[str]) -> None:
    if not button.get("text", "").strip():
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [k for k in button if k in button_actions]
    if not actions:
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used, "
            f"got {', '.join(sorted(actions))}"
        )
    if "callback_data" in button:
        size = len(button["callback_data"].encode("utf-8"))
        if not 1 <= size <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https", "tg"} or not (parts.netloc or parts.scheme == "tg"):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The reply_markup that shows up in a Message: inline keyboards only, empty = none."""
    if markup and markup.get("inline_keyboard"):
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


def callback_data_of(markup: dict[str, Any] | None) -> list[str]:
    if not markup:
        return []
    return [b["callback_data"] for row in markup.get("inline_keyboard", ()) for b in row if "callback_data" in b]
