"""Every error dutybot turns into a reply, in one tree (the router and the web board catch the root).

    DutyError            a request that cannot be done as asked; nothing was changed.
    │                    `code` picks the reply (``err.<code>``), `params` fill it in.
    ├── AccessDenied     the actor may not do this (the reply never reveals what exists)
    ├── TransitionError  the task status machine does not allow this move
    ├── DateParseError   a text is not a date/time dutybot reads (also a ValueError)
    └── bot.commands.UsageError
                         wrong arguments: the reply is the command's usage line

Not errors, so outside the tree: `bot.commands.AskBack` (an ambiguous request asked back),
`workflows.spec.TemplateError` (a template file that does not load; the CLI names the line).
Programming errors (a naive datetime, an unknown report kind) stay plain ValueError.
"""

from __future__ import annotations

from typing import Any


class DutyError(Exception):
    """A request that cannot be done as asked; nothing was changed."""

    def __init__(self, error_code: str, /, **params: Any) -> None:
        # Positional-only: the reply's own parameters often include a task `code=`, which
        # must land in `params`, never collide with the error's name (a TypeError that
        # left the person who pressed the button without any answer).
        super().__init__(error_code)
        self.code = error_code
        self.params: dict[str, Any] = params


class AccessDenied(DutyError):
    """The actor may not do this; `code` picks the reply (never reveals what exists)."""

    def __init__(self, code: str = "forbidden") -> None:
        super().__init__(code)


class TransitionError(DutyError):
    """A move the status machine does not allow; `code` names the reason for the reply."""

    def __init__(self, code: str, current: str, target: str) -> None:
        super().__init__(code, current=current, target=target)
        self.args = (f"{code}: {current} -> {target}",)
        self.current, self.target = current, target


class DateParseError(DutyError, ValueError):
    """`text` is not a date/time dutybot can read; `str(err)` says why, in English.

    Its reply is ``err.bad_date`` with the text (the same as a DutyError("bad_date", text=...))."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__("bad_date", text=text)
        self.args = (message,)
        self.text = text
        self.message = message
