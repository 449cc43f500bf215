"""A new person together with the account they first write from (the two rows are made together
everywhere: an admin from the command line or the config, someone joining by invite, the demo)."""

from __future__ import annotations

from datetime import datetime

from storage.models import User
from storage.repositories import SqlStore
from workflows.access import Role
from workflows.ports import NewIdentity, NewUser


def add_person(
    store: SqlStore,
    *,
    name: str,
    role: str,
    channel: str,
    external_id: str,
    now: datetime,
    chat_id: str | None = None,
    display_name: str | None = "",
    agency_code: str | None = None,
    language: str | None = None,
    admin_source: str | None = None,
) -> User:
    """Insert the person and their identity on `channel` in the store's transaction; returns the person."""
    user = store.add_user(
        NewUser(name=name, role=Role(role), created_at=now, agency_code=agency_code, language=language)
    )
    user.admin_source = admin_source  # how an admin became one (see storage.models.User)
    assert user.id is not None  # flushed by add_user
    store.add_identity(
        NewIdentity(
            user_id=user.id,
            channel=channel,
            external_id=str(external_id),
            chat_id=str(chat_id if chat_id is not None else external_id),
            display_name=display_name or "",
            created_at=now,
        )
    )
    return user
