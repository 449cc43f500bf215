"""`dutybot user …` and `dutybot web link`: the IT officer's side of workflows.people."""

from __future__ import annotations

from bot.actors import SystemActor
from bot.app import add_admin, config_admin_identities, open_app
from bot.cli_args import CliError
from workflows import people
from workflows.errors import DutyError
from workflows.ports import Ctx

_WHY = {
    "already_removed": "{name} is already removed; nothing changed",
    "unknown_role": "unknown role {role!r} (one of {roles})",
    "agency_required": "a contact needs --agency CODE",
    "agency_only_for_contacts": "--agency is only for the contact role",
    "unknown_agency": "unknown agency {agency!r}",
}


def _person(store, ref: str):
    person = people.find_person(store, ref)
    if person is None:
        raise CliError(f"no person {ref!r}: give CHANNEL:ID (telegram:123456789) or a user id from `dutybot user list`")
    return person


def _fail(exc: DutyError) -> CliError:
    return CliError(_WHY.get(exc.code, exc.code).format(**exc.params))


def _ids(store, person) -> str:
    return ", ".join(f"{i.channel}:{i.external_id}" for i in store.identities_of(person.id)) or "no identity"


def cmd_user_remove(args, settings) -> int:
    app = open_app(settings)
    with app.write() as store:
        person = _person(store, args.person)
        try:
            done = people.remove(store, Ctx(actor=SystemActor(), channel="cli", now=app.now()), person)
        except DutyError as exc:
            raise _fail(exc) from None
        ids = _ids(store, person)
        listed = person.role == "admin" and (
            {f"{i.channel}:{i.external_id}" for i in store.identities_of(person.id)} & config_admin_identities(settings)
        )
    print(
        f"removed #{person.id} {person.name} ({person.role}{' ' + person.agency_code if person.agency_code else ''};"
        f" {ids}); {done.cancelled} waiting messages dropped; history kept"
    )
    if done.agency_without_contact:
        print(
            f"warning: agency {done.agency_without_contact} has no contact left: invite one with "
            f"`dutybot invite {done.agency_without_contact}`"
        )
    if listed:
        print(
            "warning: still listed in [access] admins: comes back as admin at the next start unless taken out "
            "of the config"
        )
    return 0


def cmd_user_set_role(args, settings) -> int:
    app = open_app(settings)
    with app.write() as store:
        person = _person(store, args.person)
        was = "removed" if not person.active else person.role
        try:
            changed = people.set_role(
                store,
                Ctx(actor=SystemActor(), channel="cli", now=app.now()),
                person,
                args.role,
                agency=args.agency,
                deputy=args.deputy,
            )
        except DutyError as exc:
            raise _fail(exc) from None
    agency = f" {person.agency_code}{' deputy' if person.is_deputy else ''}" if person.agency_code else ""
    if not changed:
        print(f"#{person.id} {person.name} is already {person.role}{agency}; nothing changed")
    elif was == person.role == "admin":
        print(f"#{person.id} {person.name} stays admin, now also when [access] admins no longer lists them")
    else:
        print(f"#{person.id} {person.name}: {was} -> {person.role}{agency}")
    return 0


def cmd_user_add_admin(args, settings) -> int:
    channel, _, external_id = args.identity.partition(":")
    if channel not in ("telegram", "zalo", "console") or not external_id:
        raise CliError(f"expected CHANNEL:ID like telegram:123456789, got {args.identity!r}", usage=True)
    app = open_app(settings)
    with app.read() as store:
        ident = store.identity(channel, external_id)
        known = store.user(ident.user_id) if ident is not None else None
    if known is not None and known.role == "admin":
        print(f"already admin #{known.id} ({channel}:{external_id}); nothing changed")
        return 0
    user, created = add_admin(app, channel, external_id)
    print(f"{'added' if created else 'promoted'} admin #{user.id} ({channel}:{external_id})")
    return 0


def cmd_user_list(args, settings) -> int:
    app = open_app(settings)
    with app.read() as store:
        for u in store.users():
            ids = ", ".join(f"{i.channel}:{i.external_id}" for i in store.identities_of(u.id))
            agency = f"{u.agency_code}{' deputy' if u.is_deputy else ''}" if u.agency_code else "-"
            state = "" if u.active else "\tremoved"
            print(f"{u.id}\t{u.role}\t{agency}\t{u.name}\t{ids}{state}")
    return 0


def cmd_web_link(args, settings) -> int:
    from bot.web.auth import find_user, make_link, usable

    if args.minutes is not None and not 1 <= args.minutes <= 24 * 60:
        raise CliError("--minutes: expected 1 to 1440")
    app = open_app(settings)
    who = args.who.strip()
    if ":" not in who and not who.isdigit():
        raise CliError(f"expected CHANNEL:ID (telegram:123456789) or a user id, got {args.who!r}")
    user = find_user(app, who)
    if user is None:
        raise CliError(f"no such person: {args.who}")
    if not usable(user):
        raise CliError(f"{user.name} (#{user.id}) may not use the board (inactive, or a contact without an agency)")
    print(make_link(app, user.id, args.minutes))
    return 0
