"""Domain errors; the router turns each `code` into a reply in the user's language."""

from __future__ import annotations


class DutyError(Exception):
    """A request that cannot be done as asked; nothing was changed."""

    def __init__(self, error_code: str, /, **params) -> None:
        # Positional-only: the reply's own parameters often include a task `code=`, which
        # must land in `params`, never collide with the error's name (a TypeError that
        # left the person who pressed the button without any answer).
        super().__init__(error_code)
        self.code = error_code
        self.params = params
