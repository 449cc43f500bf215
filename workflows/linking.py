"""Linking one person's accounts on several apps (Telegram <-> Zalo), and unlinking them.

A link code is made on one app and redeemed on another: only on an app the person is not on
yet, so a leaked code cannot give a second account on the same app the owner's rights (and
their messages). The owner is told on the app(s) they already had whenever an account is
added, and `/unlink` takes one away again (never the last).
"""

from __future__ import annotations

from workflows.errors import DutyError
from workflows.ports import Ctx, NewIdentity, Notice, Store, UserRecord


def link_account(
    store: Store,
    ctx: Ctx,
    owner: UserRecord | None,
    redeemer: UserRecord | None,
    *,
    channel: str,
    external_id: str,
    chat_id: str,
    display_name: str,
) -> Notice:
    """Bind the account (channel, external_id) to `owner`; returns the notice telling the owner.

    Refused (nothing changed): a removed owner, an account that already belongs to someone,
    an app the owner is already on (the code is for the *other* app)."""
    if owner is None or not owner.active:
        raise DutyError("invite_invalid")
    if redeemer is not None:
        raise DutyError("link_already_yours" if redeemer.id == owner.id else "link_taken")
    mine = {i.channel for i in store.identities_of(owner.id)}
    if channel in mine:
        raise DutyError("link_same_app", channel=channel)
    ident = store.add_identity(
        NewIdentity(
            user_id=owner.id,
            channel=channel,
            external_id=str(external_id),
            chat_id=str(chat_id),
            display_name=display_name,
            created_at=ctx.now,
        )
    )
    store.audit(
        event_id=None,
        task_id=None,
        ctx=ctx,
        action="linked",
        detail={"channel": channel, "account": str(external_id), "name": display_name},
    )
    # Told on the app(s) they had (the notifier picks the preferred or first one: never the new one,
    # which cannot be preferred yet); if it was not them, /unlink takes it back at once.
    return Notice(
        key="account_linked",
        to="user",
        user_id=owner.id,
        kind="news",
        urgent=True,
        params={"channel": channel, "name": display_name or str(external_id)},
        dedupe_key=f"linked:{ident.id}",
    )


def unlink_account(store: Store, ctx: Ctx, user: UserRecord, channel: str) -> int:
    """Remove `user`'s account(s) on `channel`; never the last app they can be reached on."""
    channel = channel.lower()
    mine = store.identities_of(user.id)
    gone = [i for i in mine if i.channel == channel]
    if not gone:
        raise DutyError("unlink_unknown", channel=channel, channels=", ".join(sorted({i.channel for i in mine})))
    if len(gone) == len(mine):
        raise DutyError("unlink_last", channel=channel)
    removed = store.remove_identities(user.id, channel)
    dropped = store.cancel_outbox_for(user.id, ctx.now, channel=channel)
    person = store.user(user.id)
    if person is not None and person.preferred_channel == channel:
        person.preferred_channel = None
    store.audit(
        event_id=None,
        task_id=None,
        ctx=ctx,
        action="unlinked",
        detail={"channel": channel, "accounts": [i.external_id for i in gone], "cancelled_messages": dropped},
    )
    return removed
