"""The vi and en catalogues have the same keys and the same placeholders; every key used exists."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.i18n import Texts, catalogue, placeholders

ROOT = Path(__file__).resolve().parents[1]


def test_same_keys_and_placeholders():
    vi, en = catalogue("vi"), catalogue("en")
    assert set(vi) == set(en), sorted(set(vi) ^ set(en))
    mismatched = [k for k in vi if placeholders(vi[k]) != placeholders(en[k])]
    assert not mismatched


def test_every_literal_key_used_in_code_exists():
    vi = catalogue("vi")
    used = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for m in re.finditer(r'texts\(\s*"([a-z_]+\.[a-z_.]+)"', path.read_text()):
            used.add(m.group(1))
        for m in re.finditer(r'reply\(\s*"([a-z_]+\.[a-z_.]+)"', path.read_text()):
            used.add(m.group(1))
    missing = sorted(k for k in used if k not in vi)
    assert not missing
    assert len(used) > 40


def test_parameters_are_escaped_and_times_local():
    from datetime import datetime, timezone

    t = Texts("vi", ZoneInfo("Asia/Ho_Chi_Minh"))
    out = t("card.head", code="X<1>", number=1, title='a & <b>"')
    assert "X&lt;1&gt;" in out and "a &amp; &lt;b&gt;" in out
    deadline = datetime(2026, 6, 11, 0, 30, tzinfo=timezone.utc)
    assert t("card.deadline", deadline=deadline).endswith("11/06/2026 07:30</b>")
