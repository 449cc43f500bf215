"""Every command module, imported once so that their `@command` decorators fill the registry
(bot.commands.REGISTRY). Here rather than in bot/commands/__init__.py: the command modules import
that package for `Call` and `command`, and the package importing them back made an import cycle."""

from __future__ import annotations


def load_all() -> None:
    # Imported for their registrations only (the web board's /web is in `web`; /huy, /khoiphuc,
    # confirmations and quiet hours in `coordination`).
    from bot.commands import common, contact, coordination, coordinator, linking, people, reports, web  # noqa: F401
