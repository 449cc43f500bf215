"""Commands for everyone: /start (joining by invite), /help, /lang, /whoami."""

from __future__ import annotations

from bot.channels.base import Reply
from bot.commands import ANYONE, MEMBER, ORDERED, Call, UsageError, command, joining
from bot.commands.linking import redeem_link
from bot.i18n import Safe, Texts
from storage.accounts import add_person
from workflows import invites
from workflows.errors import DutyError
from workflows.joining import Standing


@command("start", "batdau", audience=ANYONE, menu=("contact", "staff"))
def start(call: Call) -> list[Reply]:
    if not call.args:
        if call.user is None:
            return call.reply("unknown.hello")
        return call.reply("start.welcome_back", name=call.user.name) + help_(call)
    if len(call.args) != 1:
        raise UsageError()
    return _join(call, call.args[0])


def _join(call: Call, code: str) -> list[Reply]:
    msg, now = call.msg, call.app.now()
    with call.write() as store:
        ident = store.identity(msg.channel, msg.user_id)
        user = store.user(ident.user_id) if ident else None
        try:
            invite = invites.check_code(store, code, now, by=user.id if user is not None and user.active else None)
        except DutyError as exc:  # their own code again (a link tapped twice): say who they are
            if exc.code != "invite_yours" or user is None:
                raise
            return call.reply("join.yours", now=joining.describe(call.texts, Standing.of_user(user)))
        if invite.role == "link":
            return redeem_link(call, store, invite, user, code, now)
        newcomer = user is None
        if user is None:
            lang = call.texts.lang
            user = add_person(
                store,
                name=msg.display_name or f"{msg.channel}:{msg.user_id}",
                role=invite.role,
                language=lang,
                channel=msg.channel,
                external_id=str(msg.user_id),
                chat_id=str(msg.chat_id),
                display_name=msg.display_name,
                now=now,
            )
        return joining.join(call, store, user, invite, newcomer=newcomer)


@command("help", "trogiup", audience=ANYONE, menu=("contact", "staff"))
def help_(call: Call) -> list[Reply]:
    if call.user is None:
        return call.reply("unknown.hello")
    lines = [call.texts("help.head")]
    role = call.user.role
    menu = "contact" if role == "contact" else "staff"
    for cmd in ORDERED:
        # Only this role's own commands: a coordinator's help does not list the contacts' /xong.
        if cmd.audience == ANYONE and cmd.name != "lang" or not cmd.allows(role) or cmd.menu and menu not in cmd.menu:
            continue
        usage = call.texts(cmd.usage_key)
        if call.texts.has(f"what.{cmd.name}"):
            lines.append(call.texts("help.line", usage=usage, what=call.texts(f"what.{cmd.name}")))
        else:
            lines.append(Safe("• " + usage))
    return [Reply("\n".join(lines))]


@command("lang", "ngonngu", audience=ANYONE, menu=("contact", "staff"))
def lang(call: Call) -> list[Reply]:
    if len(call.args) != 1 or call.args[0].lower() not in ("vi", "en"):
        raise UsageError()
    if call.user is None:
        return call.reply("unknown.hello")
    choice = call.args[0].lower()
    with call.write() as store:
        store.user(call.user.id).language = choice
    return [Reply(Texts(choice, call.app.tz)("lang.set"))]


@command("whoami", "toila", audience=MEMBER)
def whoami(call: Call) -> list[Reply]:
    u, texts = call.user, call.texts
    with call.read() as store:
        ag = store.agency(u.agency_code) if u.agency_code else None
        channels = sorted({i.channel for i in store.identities_of(u.id)})
    agency = (
        texts(
            "whoami.agency",
            name=ag.name if ag else u.agency_code,
            code=u.agency_code,
            deputy=texts("whoami.deputy") if u.is_deputy else "",
        )
        if u.agency_code
        else ""
    )
    where = texts("whoami.channels", channels=", ".join(channels)) if channels else ""
    return call.reply("whoami.me", name=u.name, role=texts(f"role.{u.role}"), agency=Safe(agency + where))


@command("channel", "kenh", audience=MEMBER)
def channel(call: Call) -> list[Reply]:
    """Which app gets the messages when one is reachable on several."""
    with call.read() as store:
        mine = sorted({i.channel for i in store.identities_of(call.user.id)})
    if len(call.args) != 1 or call.args[0].lower() not in mine:
        return call.reply("channel.usage", channels=", ".join(mine))
    with call.write() as store:
        store.user(call.user.id).preferred_channel = call.args[0].lower()
    return call.reply("channel.set", channel=call.args[0].lower())
