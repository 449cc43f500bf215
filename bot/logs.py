"""Logging set-up: the bot token never appears in a log line or a traceback.

httpx logs request URLs at INFO and its exceptions carry them; Telegram URLs contain the
token (`/bot<TOKEN>/sendMessage`). A filter on every handler rewrites any token-shaped
string, and the known tokens verbatim, before a record is formatted.
"""

from __future__ import annotations

import json
import logging
import re

_TOKEN = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{30,}\b")
_URL_TOKEN = re.compile(r"(/bot)[^/\s]+(/)")


class RedactTokens(logging.Filter):
    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return _URL_TOKEN.sub(r"\1<redacted>\2", _TOKEN.sub("<redacted>", text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.redact(message), None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (time, level, logger, message, worker, exception) for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        from bot.instance import WORKER_ID

        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "worker": WORKER_ID,
        }
        if record.exc_text or record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup(level: int, secrets: list[str] | None = None, fmt: str = "text") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))  # migrations are chatty at INFO
    flt = RedactTokens(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(flt)
        if fmt == "json":
            handler.setFormatter(JsonFormatter())
