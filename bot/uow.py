"""The unit of work of one update: the batch's transaction and the update's inbox claim,
handed explicitly to the router and the commands (`router.handle(msg, uow)`, `Call.uow`).

    with uow.write() as store:   # inside a batch: a savepoint of the batch's transaction;
        ...                      # its first write also marks the update done (the claim)
    with uow.read() as store:    # inside a batch: reads through the batch (sees its changes)

Outside a batch (the CLI, the web board, the scheduler, a test) a UnitOfWork has no session:
each `write()` opens and commits its own transaction, each `read()` its own read.

Why a claim rides on the first write: either the command's change and the update's "done"
mark commit together, or neither does (bot.inbox); a rolled-back write un-consumes the claim,
so the update is marked done by a later write or with the batch when it changed nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bot.inbox import InboundClaim, claim_with
from storage.repositories import SqlStore

if TYPE_CHECKING:
    from bot.context import App


class UnitOfWork:
    def __init__(self, app: App, session: Any = None, claim: InboundClaim | None = None) -> None:
        self.app, self.session, self.claim = app, session, claim

    @property
    def consumed(self) -> bool:
        """Did a write of this unit of work mark its update done? (No claim: nothing to mark.)"""
        return self.claim is None or self.claim.consumed

    @contextmanager
    def write(self) -> Iterator[SqlStore]:
        claim = self.claim
        fresh = claim is not None and not claim.consumed
        try:
            if self.session is not None:
                with self.session.begin_nested():
                    claim_with(self.session, claim, self.app.now())
                    yield SqlStore(self.session)
            else:
                with self.app.db.write() as session:
                    claim_with(session, claim, self.app.now())
                    yield SqlStore(session)
        except BaseException:
            if fresh:  # rolled back: the update is not done yet (its mark was rolled back too)
                claim.consumed = False
            raise

    @contextmanager
    def read(self) -> Iterator[SqlStore]:
        if self.session is not None:
            yield SqlStore(self.session)
            return
        with self.app.db.read() as session:
            yield SqlStore(session)
