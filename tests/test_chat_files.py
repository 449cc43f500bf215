"""Chat input never names a server file: /newevent takes only template ids from the template folders."""

from __future__ import annotations

import os

import pytest
from sqlmodel import select

from storage.models import Event
from tests.helpers import Chat, add_user
from workflows.spec import bundled_templates_dir


@pytest.fixture
def watched_stat(monkeypatch):
    """Every path `os.stat`/`open` is asked about (Path.is_file, Path.exists, read_text go through them)."""
    seen: list[str] = []
    real_stat, real_open = os.stat, open

    def stat(path, *a, **kw):
        seen.append(os.fspath(path) if not isinstance(path, int) else "")
        return real_stat(path, *a, **kw)

    def open_(path, *a, **kw):
        seen.append(os.fspath(path) if not isinstance(path, int) else "")
        return real_open(path, *a, **kw)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr("builtins.open", open_)
    monkeypatch.setattr("io.open", open_)
    return seen


def _events(app):
    with app.read() as store:
        return list(store.s.exec(select(Event)))


def test_a_server_path_is_an_unknown_template_and_is_never_read_or_looked_for(app, tmp_path, watched_stat):
    add_user(app, "coord", "coordinator")
    chat = Chat(app)
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$SECRETHASH:19000:0:99999:7:::\n")
    missing = tmp_path / "nothing-here"
    bundled = bundled_templates_dir() / "ceremony.toml"  # a real template, but named by path

    answers = {}
    for ref in (str(secret), str(missing), str(bundled), "../../../etc/passwd", "/etc/shadow"):
        watched_stat.clear()
        answers[ref] = chat.say("coord", f"/newevent {ref} 20/6/2026 Thử")
        # (Listing the template folders stats their files: that is the only file access.)
        assert not [p for p in watched_stat if str(tmp_path) in p or p.startswith("/etc") or "etc/passwd" in p]
        assert "Không có mẫu kế hoạch" in answers[ref] and "ceremony" in answers[ref]
    assert "SECRETHASH" not in answers[str(secret)]
    # No existence oracle: a file that exists and one that does not get the same answer.
    assert answers[str(secret)].replace(str(secret)[:64], "X") == answers[str(missing)].replace(str(missing)[:64], "X")
    assert _events(app) == []


def test_a_template_id_still_makes_the_event_in_english_too(app):
    add_user(app, "coord", "coordinator", lang="en")
    chat = Chat(app)
    assert "There is no template “nope”" in chat.say("coord", "/newevent nope 20/6/2026 Test")
    assert "#1" in chat.say("coord", "/newevent ceremony 20/6/2026 07:00 Lễ thử")
    assert [e.template_id for e in _events(app)] == ["ceremony"]
