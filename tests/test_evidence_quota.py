"""Evidence quota per agency: over `[limits] evidence_per_agency_bytes` a file is refused, clearly, and
the coordinators are told once."""

from __future__ import annotations

from sqlmodel import select

from bot.channels.base import Attachment
from storage.models import Evidence, Outbox
from tests.conftest import make_app
from tests.helpers import Chat, seed_world


def _file(size: int, name: str = "bien-ban.pdf") -> Attachment:
    return Attachment(kind="document", file_ref=name, size=size, filename=name, data=b"x" * size)


def _quota_news(app) -> list[Outbox]:
    with app.read() as store:
        return [r for r in store.s.exec(select(Outbox)) if "hạn mức minh chứng" in r.text or "quota" in r.text]


def test_an_agency_over_its_quota_is_refused_and_coordinators_told_once(db_url, clock):
    app = make_app(db_url, clock, limits={"evidence_per_agency_bytes": 1000})
    try:
        seed_world(app)
        chat = Chat(app)
        chat.say("ca", "/tiendo NC-11 30")
        assert "minh chứng" in chat.say("ca", "", attachment=_file(600))
        refused = chat.say("ca", "ảnh thêm", attachment=_file(600, "anh.jpg"))
        assert "Chưa lưu được tệp" in refused and "CA" in refused and "NC-11" in refused
        assert "đã dùng 0.0 MB trong hạn mức minh chứng 0.0 MB" in refused  # tiny test quota: sizes in MB
        assert "đường link" in refused  # what to do instead
        again = chat.say("ca", "", attachment=_file(700))
        assert "Chưa lưu được tệp" in again
        # Once per agency: two refusals, one message to each coordinator (admin and coord).
        news = _quota_news(app)
        assert sorted(r.chat_id for r in news) == ["admin", "coord"] and all(r.urgent for r in news)
        # Another agency still has its own room; a small file still fits CA's remaining 400 bytes.
        chat.say("stc", "/tiendo CB-05 10")
        assert "minh chứng" in chat.say("stc", "", attachment=_file(900))
        assert "Chưa lưu" not in chat.say("ca", "", attachment=_file(400))
        with app.read() as store:
            sizes = sorted(e.size for e in store.s.exec(select(Evidence)))
        assert sizes == [400, 600, 900]
        assert len(_quota_news(app)) == 2
    finally:
        app.db.dispose()


def test_the_refusal_reads_in_english(sqlite_url, clock):
    app = make_app(sqlite_url, clock, limits={"evidence_per_agency_bytes": 3 * 1024**2})
    try:
        seed_world(app)
        chat = Chat(app)
        chat.say("ca", "/lang en")
        chat.say("ca", "/tiendo NC-11 30")
        refused = chat.say("ca", "", attachment=_file(4 * 1024**2))
        assert "was not stored" in refused and "4.0 MB" in refused and "3.0 MB" in refused
    finally:
        app.db.dispose()
