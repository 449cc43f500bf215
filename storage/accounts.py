"""A new person together with the account they first write from (the two rows are made together
everywhere: an admin from the command line or the config, someone joining by invite, the demo)."""

from __future__ import annotations

from datetime import datetime

from storage.models import Identity, User
from storage.repositories import SqlStore


def add_person(store: SqlStore, *, name: str, role: str, channel: str, external_id: str, now: datetime,
               chat_id: str | None = None, display_name: str | None = "", agency_code: str | None = None,
               language: str | None = None, admin_source: str | None = None) -> User:
    """Insert the person and their identity on `channel` in the store's transaction; returns the person."""
    user = User(name=name, role=role, agency_code=agency_code, language=language, admin_source=admin_source,
                created_at=now)
    store.s.add(user)
    store.s.flush()  # the identity needs the person's id
    ident = Identity(user_id=user.id, channel=channel, external_id=str(external_id),
                     chat_id=str(chat_id if chat_id is not None else external_id), created_at=now)
    if display_name is not None:
        ident.display_name = display_name
    store.s.add(ident)
    store.s.flush()
    return user
