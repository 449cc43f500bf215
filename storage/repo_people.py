"""People, their accounts on each app, and invites (part of SqlStore)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import text, update
from sqlmodel import col, select

from storage import statements as st
from storage.models import Identity, Invite, User
from storage.repo_base import Repo, rowcount
from workflows.ports import NewIdentity, NewInvite, NewUser


class PeopleRepo(Repo):
    def add_user(self, new: NewUser) -> User:
        user = User(**asdict(new))
        self.s.add(user)
        self.s.flush()
        return user

    def add_identity(self, new: NewIdentity) -> Identity:
        ident = Identity(**asdict(new))
        self.s.add(ident)
        self.s.flush()
        return ident

    def add_invite(self, new: NewInvite) -> Invite:
        invite = Invite(**asdict(new))
        self.s.add(invite)
        self.s.flush()
        return invite

    def user(self, user_id: int) -> User | None:
        return self.s.get(User, user_id)

    def user_locked(self, user_id: int) -> User | None:
        """The person, row-locked until the transaction ends and read afresh (PostgreSQL: a
        second remover waits, then sees the first one's change)."""
        q = select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
        return self.s.exec(q).first()

    def users(self) -> list[User]:
        return list(self.s.exec(select(User).order_by(col(User.id))))

    def users_with_role(self, *roles: str) -> list[User]:
        cache = self._people()
        key = ("roles", *sorted(roles))
        if key not in cache:
            cache[key] = list(self.s.exec(st.USERS_WITH_ROLE, params={"p_roles": list(roles)}))
        return list(cache[key])

    def contacts_of(self, agency: str, *, deputies: bool | None = None) -> list[User]:
        q = select(User).where(User.role == "contact", User.agency_code == agency, User.active == True)  # noqa: E712
        if deputies is not None:
            q = q.where(User.is_deputy == deputies)
        return list(self.s.exec(q.order_by(col(User.id))))

    def is_active(self, user_id: int) -> bool:
        """The person exists and has not been removed (see workflows.people.is_active)."""
        user = self.s.get(User, user_id)
        return bool(user is not None and user.active)

    def identity(self, channel: str, external_id: str) -> Identity | None:
        q = select(Identity).where(Identity.channel == channel, Identity.external_id == str(external_id))
        return self.s.exec(q).first()

    def identity_and_user(self, channel: str, external_id: str) -> tuple[Identity, User] | tuple[None, None]:
        """Who writes: one query for the identity and its person (or none, after `prefetch_senders`)."""
        cache = self._people()
        key = ("sender", channel, str(external_id))
        if key not in cache:
            row = self.s.exec(st.SENDER, params={"p_channel": channel, "p_ext": str(external_id)}).first()
            cache[key] = (row[0], row[1]) if row else (None, None)
        found: tuple[Identity, User] | tuple[None, None] = cache[key]
        return found

    def prefetch_senders(self, channel: str, external_ids: Iterable[str | int]) -> None:
        """Look up everyone who wrote in a batch at once (dropped, like the rest, when people change)."""
        ids = sorted({str(i) for i in external_ids})
        if not ids:
            return
        cache = self._people()
        found = {
            i.external_id: (i, u) for i, u in self.s.exec(st.SENDERS, params={"p_channel": channel, "p_exts": ids})
        }
        for ext in ids:
            cache[("sender", channel, ext)] = found.get(ext, (None, None))

    def identities_of(self, user_id: int) -> list[Identity]:
        cache = self._people()
        key = ("identities", user_id)
        if key not in cache:
            cache[key] = list(self.s.exec(st.IDENTITIES_OF, params={"p_user": user_id}))
        return list(cache[key])

    def remove_identities(self, user_id: int, channel: str) -> int:
        """Unlink a person's account(s) on one app (their history names the person, not the account)."""
        found = list(self.s.exec(select(Identity).where(Identity.user_id == user_id, Identity.channel == channel)))
        for ident in found:
            self.s.delete(ident)
        self.s.flush()
        return len(found)

    def remember_choices(self, channel: str, chat_id: str, choices: list[str] | None) -> None:
        """Store the numbered choices just offered in a chat (None clears them)."""
        q = select(Identity).where(Identity.channel == channel, Identity.chat_id == str(chat_id))
        for ident in self.s.exec(q):
            ident.choices = choices

    def invite_by_hash(self, code_hash: str) -> Invite | None:
        return self.s.exec(select(Invite).where(Invite.code_hash == code_hash)).first()

    def claim_invite(self, code_hash: str, user_id: int, now: datetime) -> bool:
        # One conditional UPDATE: of concurrent claims, the database lets exactly one match.
        res = self.s.execute(
            update(Invite)
            .where(col(Invite.code_hash) == code_hash, col(Invite.used_at).is_(None), col(Invite.expires_at) > now)
            .values(used_at=now, used_by=user_id)
        )
        return rowcount(res) == 1

    def revoke_invites_of(self, user_id: int, now: datetime) -> int:
        """Unused codes someone made (invites, link codes) expire now: a removed person's codes die with them."""
        res = self.s.execute(
            update(Invite)
            .where(col(Invite.created_by) == user_id, col(Invite.used_at).is_(None), col(Invite.expires_at) > now)
            .values(expires_at=now)
        )
        return rowcount(res)

    def one_at_a_time(self, name: str) -> None:
        """Until this transaction ends, another transaction asking for the same `name` waits:
        a check-then-create (a button pressed twice, by two people at once) creates once.
        SQLite's write transactions already run one at a time."""
        if self.s.get_bind().dialect.name == "postgresql":
            self.s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:n, 0))"), {"n": name})
