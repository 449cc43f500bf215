"""The loop every channel with a stored inbox shares: process what is pending, then sleep until woken."""

from __future__ import annotations

import asyncio


class InboxLoop:
    """Mixin: needs `_wake` (asyncio.Event), `_stopping` (bool) and `async process_pending() -> int`."""

    def wake(self) -> None:
        self._wake.set()

    async def process_forever(self) -> None:
        while not self._stopping:
            done = await self.process_pending()
            if not done:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                except TimeoutError:
                    pass
