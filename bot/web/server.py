"""The board's HTTP side: an aiohttp sub-application mounted at /web on dutybot's own server.

Every handler runs its database work in a thread; every request is checked again (session,
person still active, role, agency): nothing is decided by what the page showed earlier.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from bot.context import App
from bot.i18n import Texts
from bot.web import auth
from bot.web.render import CHANGED, HEADERS, HERE, Page, html, pick_lang, redirect

log = logging.getLogger(__name__)


@dataclass
class Rq:
    """One request as a handler sees it: inputs, the viewer (None when signed out), the page helpers."""

    request: web.Request
    form: dict
    viewer: auth.Viewer | None
    page: Page

    @property
    def query(self):
        return self.request.query

    def arg(self, name: str) -> str:
        return self.request.match_info.get(name, "")


class PageCache:
    """The last few pages' data, keyed by (page, event, change stamp, whose view, minute).

    A committee room, phones and the live refresh ask for the same board again and again;
    any change to the event moves its stamp, so nothing stale is ever served."""

    def __init__(self, size: int = 16) -> None:
        self.size, self._data, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key, build):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = build()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value


class Board:
    def __init__(self, app: App, on_change: Callable[[], None] | None = None) -> None:
        self.app = app
        self.on_change = on_change or (lambda: None)
        self.cache = PageCache()

    def texts(self, request: web.Request, user) -> Texts:
        return Texts(pick_lang(request, user, self.app.settings.general.language), self.app.tz)

    def run(self, fn, request: web.Request, form: dict, need_session: bool) -> web.Response:
        v = auth.viewer(self.app, request.cookies.get(auth.COOKIE))
        page = Page(self.texts(request, v.user if v else None))
        if need_session and v is None:
            return html("signin_needed.html", page, status=401)
        if request.method == "POST" and need_session and not auth.csrf_ok(v, form.get("csrf")):
            return html(
                "message.html", page, status=403, title=page.t("web.err.csrf_title"), text=page.t("web.err.csrf")
            )
        return fn(self, Rq(request, form, v, page))


BOARD = web.AppKey("board", Board)


def route(fn, *, session: bool = True):
    async def handler(request: web.Request) -> web.StreamResponse:
        form = dict(await request.post()) if request.method == "POST" else {}
        board: Board = request.app[BOARD]
        resp = await asyncio.to_thread(board.run, fn, request, form, session)
        if request.method == "POST" and resp.get(CHANGED):
            board.on_change()  # queued notices go out now, reminders are re-planned
        return resp

    return handler


# -- signing in and out --------------------------------------------------------------------------
def login_page(board: Board, rq: Rq) -> web.Response:
    state, user = auth.link_state(board.app, rq.arg("token"))
    if state != "ok":
        return html(
            "message.html",
            rq.page,
            status=410 if state in ("used", "expired") else 404,
            title=rq.page.t("web.signin.refused"),
            text=rq.page.t(f"web.signin.{state}"),
        )
    return html("signin.html", rq.page, name=user.name, token=rq.arg("token"))


def login_post(board: Board, rq: Rq) -> web.Response:
    origin, fetch_site = rq.request.headers.get("Origin", "null"), rq.request.headers.get("Sec-Fetch-Site", "")
    # Another site posting someone's link would sign this browser in as that someone. (With our
    # no-referrer policy a browser sends "Origin: null" even from our own page: Sec-Fetch-Site decides.)
    if fetch_site == "cross-site" or (origin != "null" and urlsplit(origin).netloc != rq.request.host):
        return html(
            "message.html", rq.page, status=403, title=rq.page.t("web.err.csrf_title"), text=rq.page.t("web.err.csrf")
        )
    cookie = auth.sign_in(board.app, rq.arg("token"))
    if cookie is None:
        return html(
            "message.html",
            rq.page,
            status=410,
            title=rq.page.t("web.signin.refused"),
            text=rq.page.t("web.signin.used"),
        )
    resp = redirect("/web/")
    resp.set_cookie(
        auth.COOKIE, cookie, path="/web", httponly=True, samesite="Strict", secure=auth.secure_cookies(board.app)
    )
    return resp


def logout(board: Board, rq: Rq) -> web.Response:
    auth.sign_out(board.app, rq.viewer)
    resp = redirect("/web/")
    resp.del_cookie(auth.COOKIE, path="/web")
    return resp


def set_lang(board: Board, rq: Rq) -> web.Response:
    lang = rq.arg("lang") if rq.arg("lang") in ("vi", "en") else "vi"
    back = rq.query.get("next", "/web/")
    resp = redirect(back if back.startswith("/web/") and "//" not in back else "/web/")
    resp.set_cookie(
        auth.LANG_COOKIE,
        lang,
        path="/web",
        samesite="Strict",
        max_age=365 * 86400,
        secure=auth.secure_cookies(board.app),
    )
    return resp


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ("app.css", "app.js"):
        raise web.HTTPNotFound()
    ctype = "text/css" if name.endswith(".css") else "application/javascript"
    return web.Response(
        body=(HERE / "static" / name).read_bytes(),
        content_type=ctype,
        headers={**HEADERS, "Cache-Control": "private, max-age=300"},
    )


def build(app: App, on_change: Callable[[], None] | None = None) -> web.Application:
    """The /web sub-application (mount with `add_subapp("/web", ...)`)."""
    from bot.web import actions, files, pages

    sub = web.Application()
    sub[BOARD] = Board(app, on_change)
    r = sub.router
    r.add_get("/login/{token}", route(login_page, session=False))
    r.add_post("/login/{token}", route(login_post, session=False))
    r.add_post("/logout", route(logout))
    r.add_get("/lang/{lang}", route(set_lang, session=False))
    r.add_get("/static/{name}", static)
    r.add_get("/", route(pages.board))
    r.add_get("/timeline", route(pages.timeline))
    r.add_get("/show", route(pages.run_of_show))
    r.add_get("/task/{id}", route(pages.task))
    r.add_get("/agency/{code}", route(pages.agency))
    r.add_get("/downloads", route(pages.downloads))
    r.add_get("/live", route(pages.live))
    r.add_get("/export/{event}.{fmt}", route(files.export))
    r.add_get("/evidence/{id}", route(files.evidence))
    r.add_post("/act", route(actions.act))
    return sub


def mount(web_app: web.Application, app: App, on_change: Callable[[], None] | None = None) -> None:
    web_app.add_subapp("/web", build(app, on_change))

    async def home(_request):
        raise web.HTTPFound("/web/")

    web_app.router.add_get("/", home)
