"""Jinja2 pages in the viewer's language, the headers every board response carries, and the
response helpers the request loop (bot.web.server) and the handlers (bot.web.actions) share."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.i18n import LANGS, Texts

HERE = Path(__file__).resolve().parent
ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# Nothing the board shows may be kept by a shared proxy or framed by another site; the
# sign-in token in a URL must not leak to another site through Referer.
HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


# Set by an action that wrote: the request loop then wakes delivery and the scheduler. Here, not
# in bot.web.server, so the handlers do not import the loop that imports them.
CHANGED = web.ResponseKey("changed", bool)


def redirect(location: str) -> web.Response:
    """303: after a POST the browser fetches the page again with GET (a reload repeats nothing)."""
    return web.Response(status=303, headers={**HEADERS, "Location": location})


def pick_lang(request: web.Request, user, default: str) -> str:
    lang = request.cookies.get("dutybot_lang") or getattr(user, "language", None) or default
    return lang if lang in LANGS else "vi"


class Page:
    """Template helpers for one request: `t(key, ...)`, `when(dt)`, `status(s)`, `title(task)`."""

    def __init__(self, texts: Texts) -> None:
        self.texts = texts
        self.lang = texts.lang

    def t(self, key: str, **params) -> Markup:
        return Markup(self.texts(key, **params))

    def when(self, dt: datetime | None) -> str:
        return self.texts.value(dt) if dt else "—"

    def short(self, dt: datetime | None) -> str:
        return dt.astimezone(self.texts.tz).strftime("%d/%m %H:%M") if dt else "—"

    def clock(self, dt: datetime | None) -> str:
        return dt.astimezone(self.texts.tz).strftime("%H:%M") if dt else "—"

    def iso_local(self, dt: datetime | None) -> str:
        return dt.astimezone(self.texts.tz).strftime("%Y-%m-%dT%H:%M") if dt else ""

    def status(self, s: str) -> str:
        return self.texts.status(s)

    def title(self, task) -> str:
        return self.texts.title(task)


def html(template: str, page: Page, status: int = 200, **ctx) -> web.Response:
    body = ENV.get_template(template).render(p=page, t=page.t, **ctx)
    resp = web.Response(text=body, content_type="text/html", charset="utf-8", status=status, headers=HEADERS)
    if len(body) > 20_000:  # a 500-agency board is ~400 KB of HTML and ~20 KB gzipped: phones notice
        resp.enable_compression()
    return resp
