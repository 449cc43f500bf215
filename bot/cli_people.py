"""`dutybot user remove` and `dutybot user set-role`: the IT officer's side of workflows.people."""

from __future__ import annotations

from bot.app import SystemActor, config_admin_identities, open_app
from bot.cli import CliError
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
        listed = person.role == "admin" and ({f"{i.channel}:{i.external_id}" for i in store.identities_of(person.id)}
                                             & config_admin_identities(settings))
    print(f"removed #{person.id} {person.name} ({person.role}{' ' + person.agency_code if person.agency_code else ''};"
          f" {ids}); {done.cancelled} waiting messages dropped; history kept")
    if done.agency_without_contact:
        print(f"warning: agency {done.agency_without_contact} has no contact left: invite one with "
              f"`dutybot invite {done.agency_without_contact}`")
    if listed:
        print("warning: still listed in [access] admins: comes back as admin at the next start unless taken out "
              "of the config")
    return 0


def cmd_user_set_role(args, settings) -> int:
    app = open_app(settings)
    with app.write() as store:
        person = _person(store, args.person)
        was = "removed" if not person.active else person.role
        try:
            changed = people.set_role(store, Ctx(actor=SystemActor(), channel="cli", now=app.now()), person,
                                      args.role, agency=args.agency, deputy=args.deputy)
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
