"""The environment as start-up reads it: DUTYBOT_* variables that cannot mean what they say.

Pure checks returning the one line to stop on (bot.config raises it as a ConfigError).
"""

from __future__ import annotations

import difflib
import json
import os


def env_has(name: str) -> bool:
    return any(n.upper() == name for n in os.environ)


def environment_problem(sections: list[str]) -> str | None:
    """The first DUTYBOT_* variable start-up must not go past, as one line; None when all is well."""
    unset = sorted(n for n, v in os.environ.items() if n.upper().startswith("DUTYBOT_") and "CHANGE-ME" in v)
    if unset:  # deploy/dutybot.env.example's placeholders, not yet replaced
        return (
            f"config error: {', '.join(unset)} still says CHANGE-ME: put the real value in the "
            "environment file (/etc/dutybot/dutybot.env)"
        )
    # DUTYBOT_<SECTION>__<KEY> naming no section is a typo: the setting it meant would silently keep
    # its default (top-level extras are ignored, so that DUTYBOT_TEST_POSTGRES_URL and the like pass).
    for name in sorted(os.environ):
        head, sep, _ = name.upper().removeprefix("DUTYBOT_").partition("__")
        if not name.upper().startswith("DUTYBOT_") or not sep or head.lower() in sections:
            continue
        close = difflib.get_close_matches(head.lower(), sections, n=1)
        hint = f"; did you mean DUTYBOT_{close[0].upper()}__…?" if close else ""
        return (
            f"config error: the environment variable {name}: unknown section {head.lower()!r} "
            f"(sections: {', '.join(sections)}){hint}"
        )
    return None


def list_from_env(v):
    """A list from the environment: JSON, or "a,b,c" (what a shell keeps of `["a","b"]` is neither)."""
    if isinstance(v, str):
        v = v.strip()
        if v.startswith("["):
            try:
                return json.loads(v)
            except ValueError:
                raise ValueError(f"expected 'a,b,c' or a JSON list, got {v!r}") from None
        return [item.strip() for item in v.split(",") if item.strip()]
    return v
