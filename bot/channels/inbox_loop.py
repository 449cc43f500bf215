"""What every channel with a stored inbox shares: the processing loop, and delivering a reply
that remembers which task it was about."""

from __future__ import annotations

import asyncio

from bot.liveness import Pulse


class InboxLoop:
    """Mixin: needs `name`, `app`, `_wake` (asyncio.Event), `_stopping` (bool),
    `async process_pending() -> int` and `async send(chat_id, reply) -> str`."""

    async def deliver(self, chat_id: str, reply, memo: list | None = None) -> str:
        """Send a reply and remember which task it was about (a bare answer to it binds to the task).

        With `memo`, what to remember is appended there for the caller to write in one go
        (`remember`) after a whole batch of replies, instead of a transaction per reply."""
        message_id = await self.send(chat_id, reply)
        if reply.task_id is not None and message_id:
            item = (chat_id, message_id, reply.task_id, reply.kind)
            if memo is not None:
                memo.append(item)
            else:
                await asyncio.to_thread(self.remember, [item])
        return message_id

    def remember(self, items: list[tuple]) -> None:
        if not items:
            return
        from storage.repositories import SqlStore

        with self.app.db.write() as s:
            store, now = SqlStore(s), self.app.now()
            for chat_id, message_id, task_id, kind in items:
                store.remember_sent(self.name, chat_id, message_id, task_id, kind, now)

    def wake(self) -> None:
        self._wake.set()

    @property
    def process_pulse(self) -> Pulse:
        if "_process_pulse" not in self.__dict__:
            self._process_pulse = Pulse(f"{self.name}-inbox", expect=1.0)
        return self._process_pulse

    async def process_forever(self) -> None:
        """Apply stored updates as they come. Any failure (the database is down) leaves them
        stored and pending: the loop waits a little and tries again, it never ends."""
        while not self._stopping:
            try:
                done = await self.process_pending()
            except Exception as exc:
                await self.process_pulse.pause(exc, self._wake)
                continue
            self.process_pulse.ok()
            if not done:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                except TimeoutError:
                    pass
