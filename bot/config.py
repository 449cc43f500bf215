"""Typed settings: config.toml, overridden by DUTYBOT_<SECTION>__<KEY> environment variables.

A bad value stops start-up with one line naming the key and what was expected
(`ConfigError`), so an operator never has to read a pydantic traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from bot.config_env import env_has, environment_problem, list_from_env

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config.toml"

_DURATION = re.compile(r"^\s*(\d+d)?\s*(\d+h)?\s*(\d+m)?\s*$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")


class ConfigError(Exception):
    """The configuration is unusable; the message names the key."""


def _check_duration(value: str) -> str:
    if not value or not _DURATION.match(value) or not any(_DURATION.match(value).groups()):
        raise ValueError(f"expected a duration like '3d', '2h', '30m' or '1h30m', got {value!r}")
    return value


def _check_clock(value: str) -> str:
    if not _CLOCK.match(value):
        raise ValueError(f"expected a time of day HH:MM, got {value!r}")
    return value


class _Section(BaseModel):
    # Unknown keys are typos: refuse them rather than silently ignoring a setting.
    model_config = ConfigDict(extra="forbid")


class StorageSettings(_Section):
    url: str = "sqlite:///data/dutybot.db"
    busy_timeout_ms: int = Field(10000, ge=0)
    pool_size: int = Field(5, ge=1, le=100)
    # Delivered messages and processed updates older than this are deleted (events, tasks,
    # audit and evidence never are).
    retention_days: int = Field(90, ge=1)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if not (v.startswith("sqlite") or v.startswith("postgresql")):
            raise ValueError(f"expected a sqlite:/// or postgresql+psycopg:// URL, got {v!r}")
        return v


class GeneralSettings(_Section):
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"
    templates_dirs: Annotated[list[str], NoDecode] = []
    _split = field_validator("templates_dirs", mode="before")(classmethod(lambda cls, v: list_from_env(v)))
    imports_dir: str = "data/imports"  # plans imported in chat (relative to the working directory)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone like 'Asia/Ho_Chi_Minh', got {v!r}") from None
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class AccessSettings(_Section):
    # From the environment also as "telegram:1,zalo:abc": a JSON list needs quotes that a shell
    # `set -a; . dutybot.env` strips, and systemd's EnvironmentFile= keeps: one form for both.
    admins: Annotated[list[str], NoDecode] = []
    _split = field_validator("admins", mode="before")(classmethod(lambda cls, v: list_from_env(v)))

    @field_validator("admins")
    @classmethod
    def _channel_ids(cls, v: list[str]) -> list[str]:
        for item in v:
            if ":" not in item or item.split(":", 1)[0] not in ("telegram", "zalo", "console"):
                raise ValueError(f"expected entries like 'telegram:123456', got {item!r}")
        return v


class InviteSettings(_Section):
    ttl: str = "7d"
    _v = field_validator("ttl")(classmethod(lambda cls, v: _check_duration(v)))


class ReminderSettings(_Section):
    before: Annotated[list[str], NoDecode] = ["3d", "1d", "2h"]
    overdue_every: str = "24h"
    escalate_after: str = "24h"
    ack_timeout: str = "24h"
    cue_before: Annotated[list[str], NoDecode] = ["30m", "10m"]
    checkin_escalate_after: str = "3m"
    quiet_hours: str = "21:30-07:00"
    urgent_window: str = "2h"
    digest_time: str = "07:30"

    _split = field_validator("before", "cue_before", mode="before")(classmethod(lambda cls, v: list_from_env(v)))

    @field_validator("before", "cue_before")
    @classmethod
    def _durations(cls, v: list[str]) -> list[str]:
        return [_check_duration(x) for x in v]

    @field_validator("overdue_every", "escalate_after", "ack_timeout", "checkin_escalate_after", "urgent_window")
    @classmethod
    def _duration(cls, v: str) -> str:
        return _check_duration(v)

    @field_validator("digest_time")
    @classmethod
    def _clock(cls, v: str) -> str:
        return _check_clock(v)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        parts = v.split("-")
        if v and (len(parts) != 2 or not all(_CLOCK.match(p.strip()) for p in parts)):
            raise ValueError(f"expected 'HH:MM-HH:MM' (or empty for none), got {v!r}")
        return v


class EvidenceSettings(_Section):
    max_bytes: int = Field(10 * 1024 * 1024, ge=1)


class TelegramSettings(_Section):
    token: SecretStr | None = None
    # The bot's @username, for invite deep links t.me/<bot>?start=<code> (read from getMe when running).
    bot_username: str = ""
    base_url: str = "https://api.telegram.org/bot"
    # Where files are downloaded from; empty: derived from base_url (".../bot" -> ".../file/bot").
    base_file_url: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    # Pacing under Telegram's flood limits, per instance: with N instances sending, give each
    # about 29/N. Raise only against a local Bot API server or a test double.
    max_per_second: float = Field(29.0, gt=0)
    chat_interval: float = Field(1.02, ge=0)
    group_per_minute: int = Field(20, ge=1)


class ZaloSettings(_Section):
    token: SecretStr | None = None
    base_url: str = "https://bot-api.zaloplatforms.com/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: SecretStr | None = None
    # Webhook mode: the public HTTPS URL Zalo POSTs to (served at /zalo by [server]).
    webhook_url: str = ""
    # Zalo publishes no send limits (only 429 "Quota exceeded"): pace well under a guess.
    max_per_second: float = Field(5.0, gt=0)
    chat_interval: float = Field(1.0, ge=0)  # seconds between two messages to one chat
    # Received photos are fetched only from these hosts (or their subdomains), over https and
    # without following a redirect elsewhere: a forged photo_url must not make dutybot fetch
    # an internal address. Loopback is allowed only when base_url itself is loopback (tests).
    media_hosts: list[str] = ["zdn.vn", "zadn.vn", "zalo.me", "zaloapp.com", "zaloplatforms.com"]


class ServerSettings(_Section):
    """dutybot's own HTTP server: webhooks (/telegram, /zalo) and /health."""

    listen: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # Serve /health even when no channel uses a webhook (it always runs in webhook mode).
    health: bool = False
    # /health answers 503 when a loop has not completed a round for health_stuck_after
    # seconds beyond its usual pace, has kept failing for health_failing_after seconds, or a
    # due outbox row has waited longer than health_max_due_age seconds.
    health_stuck_after: float = Field(60.0, gt=0)
    health_failing_after: float = Field(10.0, gt=0)
    health_max_due_age: float = Field(300.0, gt=0)


class WebSettings(_Section):
    """The web board, served on [server] listen:port under /web."""

    # None (unset): on in the local chat (loopback demo), off otherwise; true/false decide.
    enabled: bool | None = None
    # The address people open (behind a reverse proxy: its https URL); empty: http://listen:port.
    public_url: str = ""
    link_minutes: int = Field(10, ge=1, le=24 * 60)  # how long a sign-in link stays usable
    session_idle: str = "8h"  # a session unused this long ends
    _v = field_validator("session_idle")(classmethod(lambda cls, v: _check_duration(v)))

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not re.match(r"^https?://[^/\s]+", v):
            raise ValueError(f"expected an http(s):// URL, got {v!r}")
        return v.rstrip("/")


class LoggingSettings(_Section):
    format: Literal["text", "json"] = "text"  # json: one object per line, for log shippers
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"


class LimitSettings(_Section):
    outbox_per_contact: int = Field(200, ge=1)  # pending messages for one person before we warn
    evidence_total_bytes: int = Field(2 * 1024**3, ge=1)
    # Evidence files the tasks of one agency may hold (workflows.quota); the total above still applies.
    evidence_per_agency_bytes: int = Field(200 * 1024**2, ge=1)
    # Floods (Telegram and Zalo): a member sending more than this in a minute is told once; the
    # rest are applied but not answered (0: no limit). An unknown sender is answered at most once
    # per `stranger_answer_every` seconds, and their files are never downloaded.
    sender_per_minute: int = Field(20, ge=0)
    stranger_answer_every: float = Field(3600.0, ge=0)


class Settings(BaseSettings):
    """All of dutybot's settings; build with `load_settings`, never at import time."""

    # Top-level extras are ignored so that unrelated DUTYBOT_* variables (e.g. the test
    # suite's DUTYBOT_TEST_POSTGRES_URL) do not break start-up; sections forbid extras.
    model_config = SettingsConfigDict(env_prefix="DUTYBOT_", env_nested_delimiter="__", extra="ignore")

    storage: StorageSettings = StorageSettings()
    general: GeneralSettings = GeneralSettings()
    access: AccessSettings = AccessSettings()
    invites: InviteSettings = InviteSettings()
    reminders: ReminderSettings = ReminderSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    telegram: TelegramSettings = TelegramSettings()
    zalo: ZaloSettings = ZaloSettings()
    server: ServerSettings = ServerSettings()
    limits: LimitSettings = LimitSettings()
    web: WebSettings = WebSettings()
    logging: LoggingSettings = LoggingSettings()


def template_dirs(settings: Settings) -> list[Path]:
    """Extra template folders from `[general] templates_dirs`, relative to the repo root."""
    return [Path(d) if Path(d).is_absolute() else REPO_ROOT / d for d in settings.general.templates_dirs]


def load_settings(path: Path | str | None = None, **overrides) -> Settings:
    """Read `path` (default: the repo's config.toml), apply the environment, validate."""
    toml_path = Path(path) if path else DEFAULT_CONFIG
    if path and not toml_path.is_file():
        raise ConfigError(f"config file not found: {toml_path}")

    class _FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_path))

    problem = environment_problem(sorted(Settings.model_fields))
    if problem:
        raise ConfigError(problem)
    try:
        return _FileSettings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"][:2])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        var = f"DUTYBOT_{key.upper().replace('.', '__')}"
        where = f"the environment variable {var}" if env_has(var) else f"{toml_path} or {var}"
        raise ConfigError(f"config error: {key}: {msg} (in {where})") from None
    except SettingsError as exc:  # an environment value that is not the JSON its field needs
        found = re.search(r'field "([^"]+)"', str(exc))
        section = found.group(1) if found else ""
        names = sorted(n for n in os.environ if n.upper().startswith(f"DUTYBOT_{section.upper()}__")) or ["DUTYBOT_…"]
        raise ConfigError(
            f"config error: cannot read the environment variable {', '.join(names)}: "
            'a list needs JSON like ["3d", "1d"]'
        ) from None
    except Exception as exc:  # a TOML syntax error in the file
        raise ConfigError(f"config error: cannot read {toml_path}: {exc}") from None
