"""Fetching a photo a Zalo update points at, without becoming a proxy into our own network.

A Zalo update carries the photo as a URL, and whoever can post to the webhook or poll path
chooses it: `photo_url=http://127.0.0.1:8080/health` used to be fetched and kept as a
"photo". So a URL is fetched only over https from Zalo's media hosts (`[zalo] media_hosts`,
a host or any subdomain of it); a redirect is followed only to another allowed URL, at most
three times; a loopback URL is allowed only on the Bot API's own origin, and only when that is
on loopback itself (the tests' double serves its photos there). The size limit holds while
reading.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urljoin, urlsplit

import httpx

MAX_REDIRECTS = 3


class MediaRefused(Exception):
    """The URL is not one dutybot fetches (the reason is in the message, never the URL's query)."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class MediaPolicy:
    def __init__(self, hosts: list[str], base_url: str) -> None:
        self.hosts = [h.lower().lstrip(".") for h in hosts if h]
        base = urlsplit(base_url)
        host = (base.hostname or "").lower()
        self.loopback_origin = (host, base.port) if _loopback(host) else None

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if _loopback(host):
            if self.loopback_origin == (host, parts.port) and parts.scheme in ("http", "https"):
                return
            raise MediaRefused("a loopback address")
        if parts.scheme != "https":
            raise MediaRefused(f"not https ({parts.scheme or 'no scheme'})")
        if parts.username or parts.password:
            raise MediaRefused("credentials in the URL")
        if not any(host == h or host.endswith("." + h) for h in self.hosts):
            raise MediaRefused(f"host {host or '?'} is not a Zalo media host")

    async def fetch(self, http: httpx.AsyncClient, url: str, limit: int) -> tuple[bytes | None, str]:
        """(the bytes, or None when larger than `limit`; the content type)."""
        for _ in range(MAX_REDIRECTS + 1):
            self.check(url)
            async with http.stream("GET", url, follow_redirects=False) as r:
                if r.is_redirect:
                    url = urljoin(url, r.headers.get("location", ""))
                    continue
                r.raise_for_status()
                mime = r.headers.get("content-type", "").split(";")[0].strip()
                if int(r.headers.get("content-length") or 0) > limit:
                    return None, mime
                data = bytearray()
                async for chunk in r.aiter_bytes():
                    data += chunk
                    if len(data) > limit:
                        return None, mime
                return bytes(data), mime
        raise MediaRefused("too many redirects")
