"""What people do from the board (POST /web/act): the same engine use cases as the chat commands,
in one write transaction with the notices they cause, audited with channel `web`.

The engine checks the role and the agency itself (require_staff / require_update); a task the
viewer may not see is answered as if it did not exist. A refusal is a page in the viewer's
language and changes nothing (the transaction is rolled back).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from aiohttp import web

from bot.web.render import CHANGED, html, redirect
from workflows import ending, service
from workflows.access import AccessDenied, can_see_task, require_staff
from workflows.dates import DateParseError, parse_when
from workflows.errors import DutyError
from workflows.ports import Ctx, Notice


def _task(store, rq, *, lock: bool = True):
    ref = rq.form.get("task", "")
    t = store.task(int(ref), lock=lock) if ref.isdigit() else None
    if t is None or not can_see_task(rq.viewer.user, t.lead, t.supporting or []):
        raise DutyError("unknown_task", ref=ref)
    return t


def _when(b, text: str) -> datetime:
    """A datetime-local field ("2026-06-11T08:00") or a date typed the Vietnamese way."""
    text = (text or "").strip().replace("T", " ")
    local = parse_when(text, now=b.app.now(), tz=b.app.tz)
    return local.astimezone(timezone.utc)


def remind(b, rq, store, ctx):
    require_staff(ctx.actor)
    code = rq.form.get("agency", "").upper()
    if code:
        ag = store.agency(code)
        if ag is None:
            raise DutyError("unknown_agency", agency=code)
        event = store.get_event(int(rq.form.get("event", "0") or 0))
        if event is None:
            raise DutyError("no_event")
        ending.refuse_reminder_after_end(event)
        open_tasks = [t for t in store.tasks(event.id) if t.lead == ag.code and t.status not in ("done", "cancelled")]
        notices = [
            Notice(
                key="manual_reminder_agency",
                to="agency",
                agency=ag.code,
                kind="reminder",
                params={
                    "count": len(open_tasks),
                    "codes": ", ".join(t.code for t in open_tasks[:10]),
                    "actor": ctx.actor.name,
                },
            )
        ]
        store.audit(event_id=event.id, task_id=None, ctx=ctx, action="remind", detail={"agency": ag.code})
    else:
        t = _task(store, rq, lock=False)
        ending.refuse_reminder_after_end(store.get_event(t.event_id))
        notices = [
            Notice(
                key="manual_reminder",
                to="agency",
                agency=t.lead,
                task_id=t.id,
                kind="reminder",
                with_buttons=True,
                params={
                    "code": t.code,
                    "title": t.title,
                    "title_en": t.title_en,
                    "deadline": t.deadline,
                    "actor": ctx.actor.name,
                },
            )
        ]
        store.audit(event_id=t.event_id, task_id=t.id, ctx=ctx, action="remind", detail={"agency": t.lead})
    sent = b.app.notifier.enqueue(store, notices, ctx.now)
    return "remind" if sent else "remind_nobody"


def deadline(b, rq, store, ctx):
    require_staff(ctx.actor)
    reason = rq.form.get("reason", "").strip()
    if not reason:
        raise DutyError("reason_required")
    when = _when(b, rq.form.get("deadline", ""))
    t = _task(store, rq)
    result = service.set_deadline(store, ctx, t, when, reason)
    b.app.notifier.enqueue(store, result.notices, ctx.now)
    return "deadline"


def extension(b, rq, store, ctx):
    require_staff(ctx.actor)
    ref = rq.form.get("request", "")
    req = store.extension(int(ref)) if ref.isdigit() else None
    if req is None:
        raise DutyError("unknown_request", request=ref)
    approve = rq.form.get("decision") == "approve"
    result = service.decide_extension(store, ctx, req, approve)
    b.app.notifier.enqueue(store, result.notices, ctx.now)
    return "approved" if approve else "rejected"


def reassign(b, rq, store, ctx):
    require_staff(ctx.actor)
    t = _task(store, rq)
    result = service.reassign(store, ctx, t, rq.form.get("agency", ""))
    b.app.notifier.enqueue(store, result.notices, ctx.now)
    return "reassign"


def status(b, rq, store, ctx):
    kind = rq.form.get("kind", "")
    if kind not in service.REPORT_KINDS:
        raise DutyError("not_allowed")
    percent = rq.form.get("percent", "").strip()
    if kind == "progress" and not percent.isdigit():
        raise DutyError("bad_percent", value=percent)
    t = _task(store, rq)
    result = service.report(
        store,
        ctx,
        t,
        kind,
        percent=int(percent) if kind == "progress" else None,
        reason=rq.form.get("reason") or None,
        note=rq.form.get("note") or None,
    )
    b.app.notifier.enqueue(store, result.notices, ctx.now)
    return "status"


def cancel(b, rq, store, ctx):
    t = _task(store, rq)
    result = service.cancel(store, ctx, t, rq.form.get("reason", "").strip())  # type: ignore[attr-defined]
    b.app.notifier.enqueue(store, result.notices, ctx.now)
    return "cancel"


def restore(b, rq, store, ctx):
    t = _task(store, rq)
    result = service.restore(store, ctx, t)  # type: ignore[attr-defined]
    b.app.notifier.enqueue(store, result.notices, ctx.now)
    return "restore"


ACTIONS = {"remind": remind, "deadline": deadline, "extension": extension, "reassign": reassign, "status": status}
if hasattr(service, "cancel") and hasattr(service, "restore"):  # the engine's use cases (/huy, /khoiphuc)
    ACTIONS.update(cancel=cancel, restore=restore)


def act(b, rq) -> web.Response:
    fn = ACTIONS.get(rq.form.get("action", ""))
    page = rq.page
    if fn is None:
        return html(
            "message.html",
            page,
            status=400,
            title=page.t("web.err.refused"),
            text=page.t("web.err.unknown_action"),
            v=rq.viewer,
        )
    ctx = Ctx(actor=rq.viewer.user, channel="web", now=b.app.now())
    try:
        with b.app.write() as store:
            done = fn(b, rq, store, ctx)
    except AccessDenied as exc:
        return _refused(rq, 403, page.t(f"err.{exc.code}"))
    except DutyError as exc:
        return _refused(rq, 400, page.t(f"err.{exc.code}", **exc.params))
    except (DateParseError, ValueError) as exc:
        return _refused(rq, 400, page.t("err.bad_date", text=getattr(exc, "text", rq.form.get("deadline", ""))))
    back = rq.form.get("next", "/web/")
    back = re.sub(r"[?&]done=\w*$", "", back) if back.startswith("/web/") and "//" not in back else "/web/"
    resp = redirect(back + ("&" if "?" in back else "?") + f"done={done}")
    resp[CHANGED] = True
    return resp


def _refused(rq, status: int, text) -> web.Response:
    return html(
        "message.html",
        rq.page,
        status=status,
        title=rq.page.t("web.err.refused"),
        text=text,
        v=rq.viewer,
        back=rq.form.get("next", "/web/"),
    )
