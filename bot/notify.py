"""Notices from the engine -> outbox rows, rendered per recipient, in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.event_label import label_for, live_event_names
from bot.i18n import Texts
from bot.views import task_buttons
from storage.repositories import SqlStore
from workflows.ports import Notice
from workflows.spec import parse_duration


def recipients(store: SqlStore, notice: Notice) -> list:
    """Who a notice reaches: coordinators, an agency's contacts (primary first), deputies, a user."""
    if notice.to == "coordinators":
        return store.users_with_role("admin", "coordinator")
    if notice.to == "agency":
        primary = store.contacts_of(notice.agency, deputies=False)
        return primary or store.contacts_of(notice.agency)
    if notice.to == "deputies":
        return store.contacts_of(notice.agency, deputies=True)
    if notice.to == "user" and notice.user_id is not None:
        user = store.user(notice.user_id)
        return [user] if user is not None and user.active else []  # a removed person hears nothing more
    return []


def channel_for(store: SqlStore, user):
    """The one identity a user is reached on: the preferred channel, else the first joined."""
    identities = store.identities_of(user.id)
    if not identities:
        return None
    for ident in identities:
        if ident.channel == user.preferred_channel:
            return ident
    return identities[0]


def queue_rendered(
    store: SqlStore,
    users,
    *,
    default_lang: str,
    tz: ZoneInfo,
    now: datetime,
    kind: str,
    dedupe_key: Callable[[object], str],
    render: Callable[[Texts], str],
) -> int:
    """Queue one message per user, worded in the user's language, to the chat they can be reached in
    (a report-like text: the after-action report, the morning digest); returns how many were new."""
    queued = 0
    for user in users:
        ident = channel_for(store, user)
        if ident is None:
            continue
        text = render(Texts(user.language or default_lang, tz))
        queued += store.enqueue_values(
            dict(
                dedupe_key=dedupe_key(user),
                user_id=user.id,
                channel=ident.channel,
                chat_id=ident.chat_id,
                kind=kind,
                text=text,
                created_at=now,
                next_attempt_at=now,
            )
        )
    return queued


def render_notice(texts: Texts, notice: Notice) -> str:
    """A notice's text in one language: catalogue key + parameters, user strings escaped."""
    params = dict(notice.params)
    if "title" in params and texts.lang == "en" and params.get("title_en"):
        params["title"] = params["title_en"]
    if "status" in params:
        if params["status"] == "in_progress" and params.get("percent"):
            params["status"] = f"{texts.status('in_progress')} {params['percent']}%"
        else:
            params["status"] = texts.status(params["status"])
    for key in ("before", "overdue_for"):  # '3d' in the engine, '3 ngày' for people
        if isinstance(params.get(key), str):
            try:
                params[key] = texts.duration(parse_duration(params[key]))
            except ValueError:
                pass
    if "late" in params:
        params["late"] = texts("word.late") if params["late"] else ""
    if "waiting_on" in params:
        params["waiting_on"] = texts("word.waiting", codes=params["waiting_on"]) if params["waiting_on"] else ""
    # rstrip: a notice whose last line is only an optional part ({reason}{note}) left empty ends there
    return texts(notice.key if "." in notice.key else f"notice.{notice.key}", **params).rstrip()


# Grouped news: items joined by a separator no rendered text contains (render_notice drops it),
# the header ("N updates since ...") added when it is sent (bot.delivery), in the row's language.
GROUP_SEP = "\x1e"
# Longest grouped message, in characters of our HTML: one message on each app (Telegram takes
# 4096 and Zalo 2000 after markup; room left for the header and emoji, which count twice).
GROUP_MAX = {"zalo": 1700, None: 3500}


def grouped_text(texts: Texts, text: str, since: datetime) -> str:
    """What a grouped row says when it is sent: a header counting the items, then the items."""
    items = text.split(GROUP_SEP)
    if len(items) == 1:
        return text
    return texts("notice.grouped", count=len(items), since=since) + "\n\n" + "\n\n".join(items)


class Notifier:
    def __init__(self, tz: ZoneInfo, default_lang: str, backlog_limit: int = 10**9) -> None:
        self.tz, self.default_lang, self.backlog_limit = tz, default_lang, backlog_limit
        # user id -> the plain-news row this process queued last for them (see _append); a
        # stale entry is harmless: the append finds the row sent or taken and a new one starts.
        self._open: dict[int, int] = {}

    def _over_backlog(self, store: SqlStore, user, notice: Notice, now: datetime) -> bool:
        """A contact with too many unsent messages gets only urgent ones; coordinators are told once a day."""
        if notice.urgent or user.role != "contact" or store.pending_for_user(user.id) < self.backlog_limit:
            return False
        warn = Notice(
            key="backlog_full",
            to="coordinators",
            kind="news",
            urgent=True,
            params={"name": user.name, "agency": user.agency_code or "-", "limit": self.backlog_limit},
            dedupe_key=f"backlog:{user.id}:{now.date()}",
        )
        self.enqueue(store, [warn], now)
        return True

    def _plain_news(self, notice: Notice, payload: dict) -> bool:
        return notice.kind == "news" and not notice.urgent and not notice.dedupe_key and not payload

    def _append(self, store: SqlStore, user, ident, notice: Notice, text: str) -> bool:
        """Plain news for someone whose last message from us is plain news still waiting (a
        chat's pace is one message a second) joins it instead of queueing behind it: a
        coordinator gets one grouped message of what changed, not a backlog of a thousand.
        Only the row this process queued last for them: a later urgent row or reminder is
        never overtaken."""
        row_id = self._open.get(user.id)
        if row_id is None:
            return False
        limit = GROUP_MAX.get(ident.channel, GROUP_MAX[None])
        return store.append_news(row_id, user.id, GROUP_SEP, text, notice.task_id, limit)

    def enqueue(
        self, store: SqlStore, notices: list[Notice], now: datetime, *, hold_until: datetime | None = None
    ) -> int:
        """Write one outbox row per (notice, recipient); returns how many were new.

        `hold_until`: the rows wait until then (a launch or broadcast in quiet hours)."""
        send_at = max(now, hold_until) if hold_until is not None else now
        count = 0
        live = None  # events live now, looked up once and only for notices about a task
        for notice in notices:
            if notice.task_id is not None and live is None:
                live = live_event_names(store)
            for user in recipients(store, notice):
                ident = channel_for(store, user)
                if ident is None or self._over_backlog(store, user, notice, now):
                    continue
                texts = Texts(user.language or self.default_lang, self.tz)
                payload = {}
                if notice.with_buttons and notice.task_id is not None:
                    payload["buttons"] = [
                        [{"label": b.label, "data": b.data} for b in row] for row in task_buttons(texts, notice.task_id)
                    ]
                text = render_notice(texts, notice).replace(GROUP_SEP, " ")
                if live and notice.task_id is not None and (label := label_for(texts, store, notice.task_id, live)):
                    text = label + "\n" + text  # several events live: say which one
                values = dict(
                    dedupe_key=f"{notice.dedupe_key}:{user.id}" if notice.dedupe_key else None,
                    user_id=user.id,
                    channel=ident.channel,
                    chat_id=ident.chat_id,
                    kind=notice.kind,
                    text=text,
                    payload=payload,
                    task_id=notice.task_id,
                    urgent=notice.urgent,
                    created_at=now,
                    next_attempt_at=send_at,
                )
                if send_at > now or not self._plain_news(notice, payload):
                    self._open.pop(user.id, None)  # later news must not overtake this row
                    count += store.enqueue_values(values)
                elif self._append(store, user, ident, notice, text):
                    count += 1
                else:
                    values["payload"] = {"lang": texts.lang}  # for the header, if it is grouped
                    self._open[user.id] = store.enqueue_new(values)
                    count += 1
        return count
