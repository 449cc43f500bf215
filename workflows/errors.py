"""Domain errors; the router turns each `code` into a reply in the user's language."""

from __future__ import annotations


class DutyError(Exception):
    """A request that cannot be done as asked; nothing was changed."""

    def __init__(self, code: str, **params) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
