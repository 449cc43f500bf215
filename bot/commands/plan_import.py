"""A coordinator sends a plan document (.docx, .xlsx, .csv) in a private chat: the bot answers with
what it read and two buttons, "Tạo sự kiện" (creates the event, not launched) and "Gửi tệp mẫu"
(sends the template). The caption, if any, is the event start ("19/5/2027 07:00").

The template is written to `[general] imports_dir` under a name made from its content
(`plan-<sha256[:16]>.toml`), which the buttons carry: the same file sent twice is one template, a
second press of "Tạo sự kiện" finds the event made by the first, and nothing is kept in the
user's pending state (which belongs to the questions about tasks).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.channels.base import Button, IncomingMessage, Reply
from bot.context import App
from bot.i18n import Texts
from bot.uow import UnitOfWork
from workflows import events as event_uc
from workflows.dates import DateParseError, parse_when
from workflows.importer import KINDS, import_plan
from workflows.ports import Ctx
from workflows.spec import TemplateError, load_template

log = logging.getLogger(__name__)
STAFF_ROLES = ("admin", "coordinator")
MAX_LISTED = 10
_CALLBACK = re.compile(r"^plan:(c|f):([0-9a-f]{16})$")


def is_plan_document(msg: IncomingMessage, user) -> bool:
    """A staff member's .docx/.xlsx/.csv in a private chat that is not a reply about a task (that is evidence)."""
    att = msg.attachment
    return (
        att is not None
        and user is not None
        and msg.chat_type == "private"
        and att.kind == "document"
        and getattr(user, "role", None) in (*STAFF_ROLES, "observer")
        and not msg.reply_to
        and att.filename.lower().endswith(KINDS)
    )


def imports_dir(app: App) -> Path:
    return Path(app.settings.general.imports_dir)


def handle_document(app: App, msg: IncomingMessage, user, texts: Texts) -> list[Reply]:
    if user.role not in STAFF_ROLES:
        return [Reply(texts("plan.staff_only"))]
    att = msg.attachment
    if att.data is None:  # over [evidence] max_bytes, or the download failed
        return [Reply(texts("plan.not_received", name=att.filename))]
    start = None
    caption = (msg.text or "").strip()
    if caption:
        try:
            start = parse_when(caption, now=app.now(), tz=app.tz)
        except DateParseError:
            return [Reply(texts("plan.bad_caption", text=caption))]
    result = import_plan(att.data, att.filename, start=start, tz=app.settings.general.timezone)
    if result.toml is None:
        key = "plan.need_start" if "--start" in (result.error or "") else "plan.unreadable"
        return [Reply(texts(key, name=att.filename, reason=result.error or ""))]
    digest = hashlib.sha256(result.toml.encode()).hexdigest()[:16]
    path = imports_dir(app) / f"plan-{digest}.toml"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(result.toml, encoding="utf-8")
            tmp.replace(path)
    except OSError as exc:  # a full disk or a read-only folder: say so, keep nothing half-written
        log.error("cannot keep an imported plan in %s: %s", path.parent, exc)
        return [Reply(texts("plan.unreadable", name=att.filename, reason=type(exc).__name__))]
    lines = [
        texts(
            "plan.read",
            name=result.name,
            duties=result.duties,
            agencies=result.agencies,
            phases=result.phases,
            start=result.start if result.start else texts("plan.no_start_value"),
            check=result.rows_to_check,
        )
    ]
    for issue in result.issues[:MAX_LISTED]:
        lines.append(texts(f"plan.issue.{issue.key or 'other'}", row=issue.row, message=issue.message, **issue.params))
    if len(result.issues) > MAX_LISTED:
        lines.append(texts("plan.more", count=len(result.issues) - MAX_LISTED))
    lines.append(texts("plan.next"))
    buttons = [
        [Button(texts("plan.button.create"), f"plan:c:{digest}"), Button(texts("plan.button.file"), f"plan:f:{digest}")]
    ]
    return [Reply("\n".join(lines), buttons=buttons)]


def handle_callback(app: App, msg: IncomingMessage, user, texts: Texts, uow: UnitOfWork | None = None) -> list[Reply]:
    m = _CALLBACK.match(msg.callback or "")
    if m is None:
        return [Reply(texts("err.stale_button"), toast=texts("err.stale_button"))]
    if user.role not in STAFF_ROLES:
        return [Reply(texts("plan.staff_only"), toast=texts("plan.staff_only"))]
    path = imports_dir(app) / f"plan-{m.group(2)}.toml"
    if not path.is_file():
        return [Reply(texts("plan.gone"), toast=texts("plan.gone"))]
    if m.group(1) == "f":
        name = f"ke-hoach-{m.group(2)[:8]}.toml"
        return [Reply(texts("plan.file_caption"), document=(name, path.read_bytes()), toast=texts("plan.file_toast"))]
    try:
        template = load_template(path)
    except TemplateError:
        return [Reply(texts("plan.gone"), toast=texts("plan.gone"))]
    if not template.start:
        return [Reply(texts("plan.need_start", name=path.name, reason=""))]
    start = datetime.strptime(template.start, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(template.timezone))
    with (uow or app.unit_of_work()).write() as store:
        store.one_at_a_time(f"plan-import:{path.name}")  # two presses at once: one event
        made = next((e for e in store.list_events() if e.template_path == str(path)), None)
        if made is not None:  # a second press, or the other coordinator pressed first
            return [Reply(texts("plan.already", id=made.id, name=made.name), toast=texts("plan.already_toast"))]
        ctx = Ctx(actor=user, channel=msg.channel, now=app.now(), message_ref=msg.ref)
        event = event_uc.create_event(store, ctx, template, start, None)
    return [
        Reply(
            texts("plan.created", id=event.id, name=event.name, start=start, count=len(template.duties)),
            toast=texts("plan.created_toast"),
        )
    ]
