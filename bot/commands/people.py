"""Removing people from chat (/remove, /xoa) and handing an agency over to a new contact."""

from __future__ import annotations

from bot.channels.base import Reply
from bot.commands import STAFF, Call, UsageError, command
from workflows import people
from workflows.errors import DutyError

_LIST_MAX = 60


@command("remove", "xoa", audience=STAFF, menu=("staff",))
def remove(call: Call) -> list[Reply]:
    """`/xoa` lists who one may remove (with their numbers), `/xoa CA` an agency's, `/xoa #12` removes."""
    if call.msg.chat_type != "private":  # the list names people: not for a group
        return call.reply("err.private_only")
    if len(call.args) > 1:
        raise UsageError()
    ref = call.args[0] if call.args else ""
    if not ref or (not ref.lstrip("#").isdigit() and ":" not in ref):
        return _listing(call, ref)
    with call.app.write() as store:
        person = people.find_person(store, ref)
        if person is None:
            raise DutyError("unknown_person", ref=ref)
        try:
            done = people.remove(store, call.ctx(), person)
        except DutyError as exc:
            if "role" in exc.params:  # the role as the reader calls it
                exc.params["role"] = call.texts(f"role.{exc.params['role']}")
            raise
    lines = [call.texts("remove.done", name=person.name, id=person.id, role=call.texts(f"role.{person.role}"),
                        agency=person.agency_code or "", cancelled=done.cancelled)]
    if done.agency_without_contact:
        lines.append(call.texts("remove.no_contact_left", agency=done.agency_without_contact))
    if person.role == "contact":
        lines.append(call.texts("remove.back", agency=person.agency_code))
    return [Reply("\n".join(lines))]


def _listing(call: Call, agency_ref: str) -> list[Reply]:
    with call.app.read() as store:
        if agency_ref:
            agency = store.agency(agency_ref.upper())
            if agency is None:
                raise DutyError("unknown_agency", agency=agency_ref)
            found = store.contacts_of(agency.code)
        else:
            found = [u for u in store.users() if u.active]
    mine = [u for u in found if _may_remove(call.user, u)]
    if not mine:
        return call.reply("remove.nobody")
    lines = [call.texts("remove.head", count=len(mine))]
    for u in mine[:_LIST_MAX]:
        lines.append(call.texts("remove.line", id=u.id, name=u.name, role=call.texts(f"role.{u.role}"),
                                agency=f" {u.agency_code}{' (P)' if u.is_deputy else ''}" if u.agency_code else ""))
    if len(mine) > _LIST_MAX:
        lines.append(call.texts("remove.more", count=len(mine) - _LIST_MAX))
    lines.append(call.texts("remove.how"))
    return [Reply("\n".join(lines))]


def _may_remove(actor, person) -> bool:
    try:
        people.check_can_remove(actor, person)
    except DutyError:
        return False
    return True
