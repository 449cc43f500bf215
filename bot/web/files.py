"""Files from the board: the event's exports and the evidence contacts sent.

Exports hold every agency's tasks, so only readers (coordinators, observers, admins) get
them. Evidence is served only to a session that may see its task; anything that is not a
plain picture is sent as a download, never shown inline (an uploaded HTML or SVG file must
not run in the board's origin).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

from bot.web.render import HEADERS, html
from workflows.access import can_read_all, can_see_task

FORMATS = ("xlsx", "docx", "csv", "json", "png")
_INLINE = {"image/jpeg", "image/png", "image/gif", "image/webp"}
_CTYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _refuse(rq, status: int, key: str) -> web.Response:
    return html(
        "message.html",
        rq.page,
        status=status,
        title=rq.page.t(f"web.err.{key}_title"),
        text=rq.page.t(f"web.err.{key}"),
        v=rq.viewer,
    )


def export(b, rq) -> web.Response:
    from bot.render.export import to_csv, to_json
    from workflows.report_model import event_report

    fmt, ref = rq.arg("fmt"), rq.arg("event")
    if not can_read_all(rq.viewer.user):
        return _refuse(rq, 403, "readers_only")
    if fmt not in FORMATS or not ref.isdigit():
        return _refuse(rq, 404, "not_found")
    now = b.app.now()
    with b.app.read() as store:
        event = store.get_event(int(ref))
        if event is None:
            return _refuse(rq, 404, "not_found")
        data = event_report(store, event, now)
    texts = rq.page.texts
    if fmt == "json":
        body = to_json(data).encode()
    elif fmt == "csv":
        body = to_csv(data).encode()
    elif fmt == "xlsx":
        from bot.render.xlsx import workbook_bytes

        body = workbook_bytes(data, texts)
    elif fmt == "png":
        from bot.render.chart import chart_png

        body = chart_png(data, texts, now)
    else:  # the formal report (always in Vietnamese: it is addressed to the People's Committee)
        from bot.render.report_docx import build_report_docx

        body = build_report_docx(data, now=now)
    name = f"dutybot-event-{event.id}.{fmt}"
    disposition = "inline" if fmt == "png" else "attachment"
    return web.Response(
        body=body,
        headers={**HEADERS, "Content-Type": _CTYPES[fmt], "Content-Disposition": f'{disposition}; filename="{name}"'},
    )


def evidence(b, rq) -> web.Response:
    ref = rq.arg("id")
    with b.app.read() as store:
        ev = store.evidence(int(ref)) if ref.isdigit() else None
        task = store.task(ev.task_id) if ev is not None else None
        if task is None or not can_see_task(rq.viewer.user, task.lead, task.supporting or []):
            return _refuse(rq, 404, "not_found")
    if ev.data is None:
        return _refuse(rq, 404, "not_found")
    inline = ev.mime in _INLINE and rq.query.get("download") != "1"
    name = (ev.filename or f"evidence-{ev.id}")[:100]
    ascii_name = re.sub(r"[^A-Za-z0-9._\- ]", "_", name) or f"evidence-{ev.id}"  # header-safe fallback
    return web.Response(
        body=ev.data,
        headers={
            **HEADERS,
            "Content-Type": ev.mime if inline else "application/octet-stream",
            "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(name, safe='')}",
        },
    )
