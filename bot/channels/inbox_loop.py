"""What every channel with a stored inbox shares: the processing loop, and delivering a reply
that remembers which task it was about."""

from __future__ import annotations

import asyncio


class InboxLoop:
    """Mixin: needs `name`, `app`, `_wake` (asyncio.Event), `_stopping` (bool),
    `async process_pending() -> int` and `async send(chat_id, reply) -> str`."""

    async def deliver(self, chat_id: str, reply) -> str:
        """Send a reply and remember which task it was about (a bare answer to it binds to the task)."""
        message_id = await self.send(chat_id, reply)
        if reply.task_id is not None and message_id:
            await asyncio.to_thread(self._remember, chat_id, message_id, reply)
        return message_id

    def _remember(self, chat_id: str, message_id: str, reply) -> None:
        from storage.repositories import SqlStore

        with self.app.db.write() as s:
            SqlStore(s).remember_sent(self.name, chat_id, message_id, reply.task_id, reply.kind, self.app.now())

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
