"""Reading Bot API requests: query string, JSON, form-urlencoded and multipart bodies."""

from __future__ import annotations

import functools
import json
import ssl
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

from ._tg_spec import UploadedFile, bad_request


@functools.lru_cache(maxsize=1)
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for all PTB clients of the tests (httpx builds one per client, slowly)."""
    return ssl.create_default_context()


def _parse_form(body: str) -> dict[str, str]:
    """application/x-www-form-urlencoded, decoding only what is encoded (fast path)."""
    out = {}
    for pair in body.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            if "%" in key or "+" in key:
                key = unquote_plus(key)
            out[key] = unquote_plus(value) if "%" in value or "+" in value else value
    return out


async def read_params(request: web.Request) -> dict[str, Any]:
    """All parameters of a call; file parts become UploadedFile (``attach://`` resolved)."""
    raw: dict[str, Any] = dict(request.query) if request.query_string else {}
    if not request.body_exists:
        return raw
    ctype = request.content_type
    if ctype == "application/json":
        body = await request.read()
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(data, dict):
                raise bad_request("request body must be a JSON object")
            raw.update(data)
    elif ctype == "application/x-www-form-urlencoded":  # what PTB sends without files
        body = await request.read()
        try:
            raw.update(_parse_form(body.decode(request.charset or "utf-8")))
        except (UnicodeDecodeError, LookupError):
            raise bad_request("request body is not valid UTF-8") from None
    elif ctype == "multipart/form-data":
        files: dict[str, UploadedFile] = {}
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                raw[key] = value
        if files:
            attach_files(raw, files)
    return raw


def attach_files(raw: dict[str, Any], files: dict[str, UploadedFile]) -> None:
    """Resolves ``attach://name`` values; other parts fill the parameter they are named after."""
    for key, value in list(raw.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            name = value[len("attach://") :]
            if name not in files:
                raise bad_request(f'file "{name}" must be uploaded in the request')
            raw[key] = files.pop(name)
    referenced = " ".join(v for v in raw.values() if isinstance(v, str))
    for name, upload in files.items():  # parts named after the parameter they fill
        if f"attach://{name}" not in referenced:
            raw[name] = upload
