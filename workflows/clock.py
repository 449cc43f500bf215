"""The one clock: `utc_now` is the only place dutybot reads the wall clock.

The engine never calls it: its use cases take the moment as an argument (`Ctx.now`, `now=`),
so a test can set it. The shell holds one `Clock` (`bot.context.App.clock`, this function
unless a test gives another) and every domain "now" comes from `app.now()`. What runs on real
time by nature (APScheduler's timers, the liveness heartbeat, a backup file's name, the CLI
before it opens the database) calls `utc_now` directly, so a search for the wall clock finds
one line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, aware UTC."""
    return datetime.now(timezone.utc)
