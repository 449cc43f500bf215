"""Zalo: a photo whose caption names a task code is evidence for that task when it is the sender's
agency's; for another agency's code the bot says it cannot, and never files it under a different
task (issue 12 item 11). Over real HTTP against the Zalo double."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Evidence, Task
from tests.test_zalo import ZaloDouble, ZaloStack, coordinator_and_contact, said, zalo_app


def _evidence(app) -> dict[str, int]:
    with app.db.read() as s:
        rows = s.exec(select(Task.code, Evidence.id).join(Evidence, Evidence.task_id == Task.id)).all()
    out: dict[str, int] = {}
    for code, _ in rows:
        out[code] = out.get(code, 0) + 1
    return out


async def test_a_photo_captioned_with_a_code_goes_to_that_task_or_is_refused(db_url):
    async with ZaloDouble() as zd:
        app = zalo_app(db_url, zd)
        stack = await ZaloStack(app, zd, "webhook").start()
        try:
            _, ca = await coordinator_and_contact(app, zd)
            await said(zd, ca, "/nv NC-11", "NC-11")  # the last task shown is NC-11 ...

            since = len(zd.sent)
            await zd.user_sends_photo(ca, caption="CB-23 hiện trường diễn tập")  # ... the caption names CB-23
            got = await zd.wait_for(lambda r: r.chat_id == "ca1", 10, since=since)
            assert "minh chứng cho CB-23" in got.text
            assert _evidence(app) == {"CB-23": 1}

            since = len(zd.sent)
            await zd.user_sends_photo(ca, caption="ảnh cho việc CB-24 nhé")  # SYT's task
            got = await zd.wait_for(lambda r: r.chat_id == "ca1", 10, since=since)
            assert "CB-24" in got.text and "không thuộc đơn vị" in got.text and "chưa được lưu" in got.text
            assert _evidence(app) == {"CB-23": 1}  # not filed under NC-11 (the last shown) either

            await said(zd, ca, "/nv NC-11", "NC-11")
            since = len(zd.sent)
            await zd.user_sends_photo(ca, caption="COVID-19 kiểm tra")  # not a task code: the last task shown
            got = await zd.wait_for(lambda r: r.chat_id == "ca1", 10, since=since)
            assert "minh chứng cho NC-11" in got.text
            assert _evidence(app) == {"CB-23": 1, "NC-11": 1}
        finally:
            await stack.stop()
            app.db.dispose()
