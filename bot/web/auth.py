"""Who is looking: sign-in links, session cookies, CSRF tokens, and the checks on every request.

No passwords: a person gets a single-use link (`dutybot web link`, or /web in a private
chat). Opening it shows a button; pressing it (a POST) spends the link and starts a
session. The extra press is there because chat apps fetch links for their previews, and a
GET that signed in would let the preview robot spend the link first.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from bot.context import App
from storage.repositories import SqlStore
from workflows.access import ROLES
from workflows.ports import UserRecord
from workflows.spec import parse_duration

COOKIE = "dutybot_session"
LANG_COOKIE = "dutybot_lang"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most this often (not on every poll)


@dataclass
class Viewer:
    """The signed-in person, as the engine's access rules see them (role, agency)."""

    user: UserRecord
    session_id: int
    csrf: str

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def agency_code(self) -> str | None:
        return self.user.agency_code


def base_url(app: App) -> str:
    cfg = app.settings
    if cfg.web.public_url:
        return cfg.web.public_url
    host = cfg.server.listen if cfg.server.listen not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"http://{host}:{cfg.server.port}"


def secure_cookies(app: App) -> bool:
    return app.settings.web.public_url.startswith("https://")


def idle_limit(app: App) -> timedelta:
    return parse_duration(app.settings.web.session_idle)


def usable(user: UserRecord | None) -> bool:
    """Active, with a known role; a contact without an agency sees nothing, so gets no session."""
    return bool(
        user is not None and user.active and user.role in ROLES and (user.role != "contact" or user.agency_code)
    )


def find_user(app: App, who: str) -> UserRecord | None:
    """`CHANNEL:ID` (an identity) or a bare user id."""
    with app.read() as store:
        if ":" in who:
            channel, ext = who.split(":", 1)
            ident = store.identity(channel, ext)
            return store.user(ident.user_id) if ident else None
        return store.user(int(who)) if who.isdigit() else None


def board_enabled(settings, *, local_chat: bool) -> bool:
    """`[web] enabled`; unset means on in the local chat (a loopback demo) and off otherwise."""
    return settings.web.enabled if settings.web.enabled is not None else local_chat


def make_link(app: App, user_id: int, minutes: int | None = None, *, store: SqlStore | None = None) -> str:
    """A fresh single-use sign-in URL for `user_id` (in `store`'s transaction when given)."""
    ttl = timedelta(minutes=minutes or app.settings.web.link_minutes)
    if store is not None:
        token = store.create_web_link(user_id, app.now(), ttl)
    else:
        with app.write() as own:
            token = own.create_web_link(user_id, app.now(), ttl)
    return f"{base_url(app)}/web/login/{token}"


def link_state(app: App, token: str) -> tuple[str, UserRecord | None]:
    with app.read() as store:
        state, user_id = store.web_link_state(token, app.now())
        user = store.user(user_id) if user_id else None
    if state != "ok":
        return state, None
    return ("ok" if usable(user) else "inactive"), user


def sign_in(app: App, token: str) -> str | None:
    """Spend the link and start a session: the session cookie's value, or None if refused."""
    now = app.now()
    with app.write() as store:
        user_id = store.claim_web_link(token, now)
        if user_id is None or not usable(store.user(user_id)):
            return None
        return store.start_web_session(user_id, now)


def viewer(app: App, cookie: str | None) -> Viewer | None:
    """The session behind `cookie`, checked now: not ended, not idle too long, person still active."""
    if not cookie:
        return None
    now = app.now()
    with app.read() as store:
        row, user = store.web_session(cookie)
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen > idle_limit(app) or not usable(user):
        with app.write() as store:  # idle too long, removed or made inactive: the session is over
            store.end_web_session(row.id, now)
        return None
    if now - row.last_seen > TOUCH_EVERY:
        with app.write() as store:
            store.touch_web_session(row.id, now)
    return Viewer(user, row.id, row.csrf)


def sign_out(app: App, v: Viewer) -> None:
    with app.write() as store:
        store.end_web_session(v.session_id, app.now())


def csrf_ok(v: Viewer, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(v.csrf.encode(), str(sent).encode())
