"""Who acts when nobody in a chat does: the command line, the config, the engine itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SystemActor:
    """Who acts when the command line or the engine itself changes something."""

    name: str = "cli"
    role: str = "admin"
    id: int | None = None
    agency_code: str | None = None
    is_deputy: bool = False
