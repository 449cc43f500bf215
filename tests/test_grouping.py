"""News that comes faster than a chat can take it is grouped into the message still waiting.

A coordinator is sent one message a second at most (Telegram's per-chat pace), and nothing
non-urgent during quiet hours; every status change is news to them. Without grouping a busy
morning leaves thousands of rows queued for one person and hours of lag; with it, what is
waiting is one message that grows, up to one screen, and then the next one starts. Nothing is
dropped, nothing is reordered, and nothing but plain news is ever grouped. On SQLite and
PostgreSQL (where two writers fold into the same row at once).
"""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import timedelta

from sqlmodel import select

from bot.delivery import Delivery, reply_from_row
from bot.i18n import strip_html
from bot.notify import GROUP_SEP
from storage.models import Outbox
from tests.helpers import FakeChannel, add_user
from workflows.ports import Notice


def news(
    n: int,
    *,
    actor: str = "Công an",
    urgent: bool = False,
    dedupe: str | None = None,
    buttons: bool = False,
    kind: str = "news",
) -> Notice:
    return Notice(
        key="news_evidence",
        to="coordinators",
        kind=kind,
        urgent=urgent,
        dedupe_key=dedupe,
        with_buttons=buttons,
        task_id=None,
        params={"actor": actor, "kind": "ảnh", "code": f"T-{n:04d}"},
    )


def enqueue(app, *notices: Notice) -> None:
    with app.write() as store:
        app.notifier.enqueue(store, list(notices), app.now())


def rows_for(app, handle: str) -> list[Outbox]:
    with app.read() as store:
        uid = next(u.id for u in store.users_with_role("admin", "coordinator", "contact") if u.name == handle)
        return list(store.s.exec(select(Outbox).where(Outbox.user_id == uid).order_by(Outbox.id)))


def codes(text: str) -> list[str]:
    return re.findall(r"T-\d{4}", text)


def shown(app, row: Outbox) -> str:
    """The row as it is sent (grouped rows get their header then)."""
    return reply_from_row(row, app.tz).text


def test_news_waiting_for_a_coordinator_grows_into_one_message(app, clock):
    add_user(app, "coord", "coordinator")
    enqueue(app, news(1))
    clock.advance(seconds=1)
    enqueue(app, news(2), news(3))  # the second and third while the first still waits
    (row,) = rows_for(app, "coord")
    text = strip_html(shown(app, row))
    assert codes(text) == ["T-0001", "T-0002", "T-0003"]  # in the order they happened
    assert text.startswith("🗞 3 tin cập nhật từ 01/05/2026 09:00")  # 02:00 UTC, shown in Hà Nội time
    assert GROUP_SEP not in text and row.task_id is None


def test_the_grouped_message_is_delivered_once_and_later_news_starts_a_new_one(app, clock):
    add_user(app, "coord", "coordinator", lang="en")
    enqueue(app, news(1), news(2))
    fake = FakeChannel()
    assert asyncio.run(Delivery(app, {"fake": fake}).drain_once()) == 1
    (sent,) = fake.texts("coord")
    assert sent.startswith("🗞 2 updates since") and codes(sent) == ["T-0001", "T-0002"]
    enqueue(app, news(3))  # the grouped row is gone: this one is on its own
    rows = rows_for(app, "coord")
    assert [r.status for r in rows] == ["sent", "pending"] and codes(rows[1].text) == ["T-0003"]
    assert not strip_html(shown(app, rows[1])).startswith("🗞")


def test_only_plain_news_is_grouped(app):
    add_user(app, "coord", "coordinator")
    enqueue(app, news(1))
    enqueue(app, news(2, urgent=True))  # urgent: its own row, and news after it does not jump back
    enqueue(app, news(3))
    enqueue(app, news(4, dedupe="once:4"), news(5))  # a deduplicated notice stays addressable
    enqueue(app, news(6, kind="reminder"), news(7))
    rows = rows_for(app, "coord")
    assert [codes(r.text) for r in rows] == [
        ["T-0001"],
        ["T-0002"],
        ["T-0003"],
        ["T-0004"],
        ["T-0005"],
        ["T-0006"],
        ["T-0007"],
    ]


def test_a_row_a_worker_has_touched_is_left_alone(app):
    add_user(app, "coord", "coordinator")
    enqueue(app, news(1))
    with app.write() as store:  # claimed by a worker that is sending it right now
        row = store.s.exec(select(Outbox)).one()
        row.claimed_by, row.claimed_until = "other:1", app.now() + timedelta(seconds=60)
    enqueue(app, news(2))
    with app.write() as store:  # a failed try: it may already be on the user's screen
        row = store.s.exec(select(Outbox).order_by(Outbox.id.desc())).first()
        row.attempts = 1
    enqueue(app, news(3))
    assert [codes(r.text) for r in rows_for(app, "coord")] == [["T-0001"], ["T-0002"], ["T-0003"]]


def test_a_full_message_starts_the_next_and_nothing_is_lost(app):
    add_user(app, "coord", "coordinator")
    add_user(app, "zcoord", "coordinator", channel="zalo")
    for n in range(300):
        enqueue(app, news(n, actor="Đồng chí <Trưởng> & phó \x1e"))  # a separator in user text is dropped
    for handle, limit in (("coord", 4096), ("zcoord", 2000)):  # one message on each app
        rows = rows_for(app, handle)
        texts = [shown(app, r) for r in rows]
        assert 2 < len(rows) < 300 and all(len(t) <= limit for t in texts)
        assert [c for t in texts for c in codes(t)] == [f"T-{n:04d}" for n in range(300)]
        assert all("&lt;Trưởng&gt; &amp; phó" in t and "<Trưởng>" not in t and GROUP_SEP not in t for t in texts)
        heads = [re.match(r"🗞 (\d+) ", t) for t in texts]
        assert all(h and int(h[1]) == len(codes(t)) for h, t in zip(heads, texts))


def test_two_writers_folding_at_once_lose_nothing(app):
    """Two transactions add news for the same coordinator at the same moments (PostgreSQL: row lock)."""
    add_user(app, "coord", "coordinator")
    enqueue(app, news(9999))
    errors: list[BaseException] = []

    def writer(base: int) -> None:
        try:
            for n in range(base, base + 40):
                enqueue(app, news(n))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(b,)) for b in (0, 1000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    got = [c for r in rows_for(app, "coord") for c in codes(r.text)]
    assert sorted(got) == sorted([f"T-{n:04d}" for n in [*range(40), *range(1000, 1040)]] + ["T-9999"])
