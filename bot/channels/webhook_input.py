"""What a webhook accepts before anything is stored: a JSON object of modest depth, and for
Telegram an `update_id` that is a plain non-negative integer below 2**53.

Why: a forged or broken body must be a 400, never a 500 (a deeply nested body makes
`json.loads` raise RecursionError), and never a stored row that poisons later work (an
`update_id` of 1.5e300 became the poller's next offset, 2**63, and real updates were
dropped). Anything refused here changes nothing.
"""

from __future__ import annotations

import json

MAX_DEPTH = 32  # a real update nests about 6 levels deep (a reply's message's entities)
MAX_UPDATE_ID = 2**53  # exclusive: what every JSON implementation reads exactly


class BadInput(ValueError):
    """The body is refused with 400."""


def depth(value) -> int:
    """How deeply `value` nests (lists and dicts), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        stack.extend((child, level + 1) for child in item)
    return deepest


def parse_object(raw: bytes | str) -> dict:
    """The body as a JSON object, or BadInput (not JSON, not an object, nested too deeply)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise BadInput(type(exc).__name__) from None
    if not isinstance(value, dict):
        raise BadInput("not an object")
    if depth(value) > MAX_DEPTH:
        raise BadInput("nested too deeply")
    return value


def telegram_update_key(update: dict) -> str:
    """The update's key (its update_id as text), or BadInput."""
    uid = update.get("update_id")
    if type(uid) is not int or not 0 <= uid < MAX_UPDATE_ID:  # not bool, not float, not text
        raise BadInput("update_id")
    return str(uid)
