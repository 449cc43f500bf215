"""Removing people from chat (/remove, /xoa) and handing an agency over to a new contact."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bot.channels.base import Button, IncomingMessage, Reply
from bot.commands import STAFF, Call, UsageError, command
from bot.context import App
from bot.i18n import Texts, strip_html
from bot.uow import UnitOfWork
from workflows import people
from workflows.errors import DutyError
from workflows.ports import Ctx

_LIST_MAX = 60


@command("remove", "xoa", audience=STAFF, menu=("staff",))
def remove(call: Call) -> list[Reply]:
    """`/xoa` lists who one may remove (with their numbers), `/xoa CA` an agency's, `/xoa #12` asks
    to confirm removing #12 ("Gỡ" removes it: bot.commands.coordination routes the press here)."""
    if call.msg.chat_type != "private":  # the list names people: not for a group
        return call.reply("err.private_only")
    if len(call.args) > 1:
        raise UsageError()
    ref = call.args[0] if call.args else ""
    if not ref or (not ref.lstrip("#").isdigit() and ":" not in ref):
        return _listing(call, ref)
    with call.read() as store:
        person = people.find_person(store, ref)
    if person is None:
        raise DutyError("unknown_person", ref=ref)
    # Refused or already removed: said now, not after a press. The press checks all again.
    with _role_named(call.texts):
        people.check_can_remove(call.user, person)
    if not person.active:
        raise DutyError("already_removed", name=person.name)
    # Removing stops everything sent to that person at once: a mistyped number must not do it.
    yes, no = f"co:rm:{person.id}", f"co:rmkeep:{person.id}"
    buttons = [[Button(call.texts("removeconfirm.yes"), yes), Button(call.texts("removeconfirm.no"), no)]]
    return [Reply(call.texts("removeconfirm.ask", **_who(call.texts, person)), buttons=buttons)]


def on_press(
    app: App, msg: IncomingMessage, user, texts: Texts, action: str, arg: str, uow: UnitOfWork | None = None
) -> list[Reply]:
    """ "Gỡ" (`rm`) or "Giữ nguyên" (`rmkeep`) under a /xoa question. A second press, or one after
    another coordinator removed the person, only says they are removed already."""
    with (uow or app.unit_of_work()).write() as store:
        person = store.user(int(arg)) if arg.isdigit() else None
        if person is None:
            return [_answer(texts("err.stale_button"))]
        if not person.active:
            return [_answer(texts("err.already_removed", name=person.name))]
        if action == "rmkeep":
            return [_answer(texts("removeconfirm.kept", **_who(texts, person)))]
        ctx = Ctx(actor=user, channel=msg.channel, now=app.now(), message_ref=msg.ref)
        try:
            with _role_named(texts):
                done = people.remove(store, ctx, person)
        except DutyError as exc:
            if exc.code != "already_removed":  # the two presses racing: the loser is told, not refused
                raise
            return [_answer(texts("err.already_removed", name=person.name))]
    lines = [
        texts(
            "remove.done",
            name=person.name,
            id=person.id,
            role=texts(f"role.{person.role}"),
            agency=person.agency_code or "",
            cancelled=done.cancelled,
        )
    ]
    if done.agency_without_contact:
        lines.append(texts("remove.no_contact_left", agency=done.agency_without_contact))
    if person.role == "contact":
        lines.append(texts("remove.back", agency=person.agency_code))
    return [_answer("\n".join(lines))]


def _who(texts: Texts, person) -> dict[str, object]:
    agency = f" {person.agency_code}" if person.agency_code else ""
    return {"name": person.name, "id": person.id, "role": texts(f"role.{person.role}"), "agency": agency}


@contextmanager
def _role_named(texts: Texts) -> Iterator[None]:
    """A refusal names the person's role as the reader calls it."""
    try:
        yield
    except DutyError as exc:
        if "role" in exc.params:
            exc.params["role"] = texts(f"role.{exc.params['role']}")
        raise


def _answer(text: str) -> Reply:
    return Reply(text, edit=True, toast=strip_html(text)[:190])  # the question becomes the outcome


def _listing(call: Call, agency_ref: str) -> list[Reply]:
    with call.read() as store:
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
        lines.append(
            call.texts(
                "remove.line",
                id=u.id,
                name=u.name,
                role=call.texts(f"role.{u.role}"),
                agency=f" {u.agency_code}{' (P)' if u.is_deputy else ''}" if u.agency_code else "",
            )
        )
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
