"""The board's pages (GET): board, timeline, run-of-show, task, agency, downloads, live stamp."""

from __future__ import annotations

import json

from aiohttp import web

from bot.web import audit, model, rows
from bot.web.actions import ACTIONS
from bot.web.render import HEADERS, html
from storage import web as web_store
from workflows.access import can_read_all, can_see_task, is_staff


def _event(store, rq, now):
    """The event asked for (?event=N), else the current one; and the list for the picker."""
    events = store.list_events()
    ref = rq.query.get("event", "")
    event = store.get_event(int(ref)) if ref.isdigit() else store.current_event(now)
    return event, sorted(events, key=lambda e: -e.id)


def _scope(rq) -> str | None:
    """Whose view a cached page is: everyone's for readers, one agency's for a contact."""
    return None if can_read_all(rq.viewer.user) else f"agency:{rq.viewer.user.agency_code}"


def _no_event(rq) -> web.Response:
    return html(
        "message.html",
        rq.page,
        status=404,
        title=rq.page.t("web.err.no_event_title"),
        text=rq.page.t("web.err.no_event"),
        v=rq.viewer,
    )


def _common(b, rq, store, event, events, now, tab: str, stamp: str | None = None) -> dict:
    texts = rq.page.texts
    return {
        "v": rq.viewer,
        "ev": event,
        "events": events,
        "tab": tab,
        "now": now,
        "stamp": stamp or web_store.change_stamp(store.s, event.id),
        "staff": is_staff(rq.viewer.user),
        "reader": can_read_all(rq.viewer.user),
        "ago": lambda dt: model.since_text(texts, now - dt),
        "path": rq.request.path_qs,
        "request_path": rq.request.path,
        "done": _flash(rq),
    }


DONE = ("remind", "remind_nobody", "deadline", "approved", "rejected", "reassign", "status", "cancel", "restore")


def _flash(rq):
    key = rq.query.get("done", "")
    return rq.page.t(f"web.done.{key}") if key in DONE else None


def board(b, rq) -> web.Response:
    now = b.app.now()
    with b.app.read() as store:
        event, events = _event(store, rq, now)
        if event is None:
            return _no_event(rq)
        stamp = web_store.change_stamp(store.s, event.id)
        d = b.cache.get(
            ("board", event.id, stamp, _scope(rq), rq.page.lang, now.replace(second=0, microsecond=0)),
            lambda: _with_rows(model.board(store, rq.viewer.user, event, now, rq.page.lang), event),
        )
        ctx = _common(b, rq, store, event, events, now, "board", stamp)
    return html("board.html", rq.page, d=d, rows_html=d["rows_html"], **ctx)


def _with_rows(d: dict, event) -> dict:
    d["rows_html"] = rows.agency_rows(d["rows"], d["statuses"], event.id)
    return d


def timeline(b, rq) -> web.Response:
    from workflows.report_model import event_phases

    now = b.app.now()
    with b.app.read() as store:
        event, events = _event(store, rq, now)
        if event is None:
            return _no_event(rq)
        stamp = web_store.change_stamp(store.s, event.id)

        def build() -> dict:
            codes = web_store.phase_codes(store.s, event.id)
            phases = [{"code": p.code, "name": p.name, "name_en": p.name_en} for p in event_phases(event, codes)]
            d = model.timeline(store, rq.viewer.user, event, now, phases)
            for ph in d["phases"]:
                ph["dots_html"] = rows.timeline_dots(ph.pop("dots"), rq.page)
            return d

        d = b.cache.get(
            ("timeline", event.id, stamp, _scope(rq), rq.page.lang, now.replace(second=0, microsecond=0)), build
        )
        ctx = _common(b, rq, store, event, events, now, "timeline", stamp)
    return html("timeline.html", rq.page, d=d, **ctx)


def run_of_show(b, rq) -> web.Response:
    now = b.app.now()
    with b.app.read() as store:
        event, events = _event(store, rq, now)
        if event is None:
            return _no_event(rq)
        stamp = web_store.change_stamp(store.s, event.id)
        cues, rows_html = b.cache.get(
            ("show", event.id, stamp, _scope(rq), rq.page.lang, now.replace(second=0, microsecond=0)),
            lambda: _cue_rows(model.run_of_show(store, rq.viewer.user, event, now), rq.page),
        )
        ctx = _common(b, rq, store, event, events, now, "show", stamp)
    return html("show.html", rq.page, cues=cues, rows_html=rows_html, **ctx)


def _cue_rows(cues: list, page) -> tuple:
    return cues, rows.cue_rows(cues, page)


def _not_found(rq) -> web.Response:
    # A contact asking for another agency's task gets the same answer as for no task at all.
    return html(
        "message.html",
        rq.page,
        status=404,
        title=rq.page.t("web.err.not_found_title"),
        text=rq.page.t("web.err.not_found"),
        v=rq.viewer,
    )


def task(b, rq) -> web.Response:
    now = b.app.now()
    ref = rq.arg("id")
    with b.app.read() as store:
        t = store.task(int(ref)) if ref.isdigit() else None
        if t is None or not can_see_task(rq.viewer.user, t.lead, t.supporting or []):
            return _not_found(rq)
        event = store.get_event(t.event_id)
        d = model.task_page(store, t)
        shown = model.statuses([t], store.tasks_by_codes(t.event_id, t.depends_on or []))
        agencies = store.agencies()
        ctx = _common(b, rq, store, event, store.list_events(), now, "task")
    user = rq.viewer.user
    may_update = is_staff(user) or (user.role == "contact" and user.agency_code == t.lead)
    return html(
        "task.html",
        rq.page,
        task=t,
        d=d,
        shown=shown[t.id],
        agencies=agencies,
        audit_action=audit.action,
        audit_detail=audit.detail,
        can_cancel="cancel" in ACTIONS,
        overdue=t.status not in ("done", "cancelled") and t.deadline < now,
        may_update=may_update,
        ended=event is not None and event.ended_at is not None,
        **ctx,
    )


def agency(b, rq) -> web.Response:
    now = b.app.now()
    code = rq.arg("code").upper()
    user = rq.viewer.user
    if not can_read_all(user) and user.agency_code != code:
        return _not_found(rq)
    with b.app.read() as store:
        ag = store.agency(code)
        event, events = _event(store, rq, now)
        if ag is None:
            return _not_found(rq)
        if event is None:
            return _no_event(rq)
        tasks = web_store.task_rows(store.s, event.id, involving=code)  # what it leads or supports
        shown = model.shown_statuses(store, event.id, tasks)
        people = store.contacts_of(code) if can_read_all(user) else []
        ctx = _common(b, rq, store, event, events, now, "agency")
    return html("agency.html", rq.page, ag=ag, tasks=tasks, shown=shown, people=people, **ctx)


def downloads(b, rq) -> web.Response:
    now = b.app.now()
    if not can_read_all(rq.viewer.user):
        return html(
            "message.html",
            rq.page,
            status=403,
            title=rq.page.t("web.err.forbidden_title"),
            text=rq.page.t("web.err.readers_only"),
            v=rq.viewer,
        )
    with b.app.read() as store:
        event, events = _event(store, rq, now)
        if event is None:
            return _no_event(rq)
        ctx = _common(b, rq, store, event, events, now, "downloads")
    from bot.web.files import FORMATS

    return html("downloads.html", rq.page, formats=FORMATS, **ctx)


def live(b, rq) -> web.Response:
    """The event's change stamp: the page polls it and refreshes itself when it moves."""
    ref = rq.query.get("event", "")
    with b.app.read() as store:
        event = store.get_event(int(ref)) if ref.isdigit() else None
        stamp = web_store.change_stamp(store.s, event.id) if event else ""
    return web.Response(text=json.dumps({"stamp": stamp}), content_type="application/json", headers=HEADERS)
