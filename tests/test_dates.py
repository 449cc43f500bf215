"""workflows.dates: the Vietnamese ways of writing a date/time, and nothing but DateParseError."""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.dates import DateParseError, format_local, parse_when

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 5, 20, 10, 15, tzinfo=TZ)  # a Wednesday morning, before the ceremony


def when(text: str, now: datetime = NOW, **kw) -> datetime:
    return parse_when(text, now=now, tz=TZ, **kw)


def at(y: int, mo: int, d: int, h: int = 17, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("11/6/2026 08:00", at(2026, 6, 11, 8)),
        ("11/06/2026 8:00", at(2026, 6, 11, 8)),
        ("11/06 8h", at(2026, 6, 11, 8)),
        ("11/6 8h30", at(2026, 6, 11, 8, 30)),
        ("8h30 11/6", at(2026, 6, 11, 8, 30)),
        ("8h 11/6", at(2026, 6, 11, 8)),
        ("11-6-2026", at(2026, 6, 11)),
        ("11.6.2026", at(2026, 6, 11)),
        ("11.6.2026 7:45", at(2026, 6, 11, 7, 45)),
        ("2026-06-11 08:00", at(2026, 6, 11, 8)),
        ("2026-06-11T08:00", at(2026, 6, 11, 8)),
        ("2026-06-11T08:00:00", at(2026, 6, 11, 8)),
        ("2026-06-11", at(2026, 6, 11)),
        ("ngày 11/6", at(2026, 6, 11)),
        ("Ngày 11/6 lúc 8h sáng", at(2026, 6, 11, 8)),
        ("11/6", at(2026, 6, 11)),
        ("11/6/26", at(2026, 6, 11)),
        ("11/6/26 14h", at(2026, 6, 11, 14)),
        ("  11/06/2026   08:00 ", at(2026, 6, 11, 8)),
        ("11/6 2h chiều", at(2026, 6, 11, 14)),
        ("11/6, 8 giờ 30", at(2026, 6, 11, 8, 30)),
        ("11/6 8 giờ rưỡi", at(2026, 6, 11, 8, 30)),
    ],
)
def test_explicit_dates(text: str, expected: datetime) -> None:
    got = when(text)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("17h", at(2026, 5, 20, 17)),  # later today
        ("17:00", at(2026, 5, 20, 17)),
        ("9h", at(2026, 5, 21, 9)),  # already past → tomorrow
        ("10:15", at(2026, 5, 20, 10, 15)),  # exactly now is not past
        ("hôm nay 17h", at(2026, 5, 20, 17)),
        ("hom nay 17h", at(2026, 5, 20, 17)),
        ("17h hôm nay", at(2026, 5, 20, 17)),
        ("hôm nay", at(2026, 5, 20)),  # date only → default time
        ("mai 8h", at(2026, 5, 21, 8)),
        ("ngày mai 8h", at(2026, 5, 21, 8)),
        ("ngay mai 8h", at(2026, 5, 21, 8)),
        ("8h sáng mai", at(2026, 5, 21, 8)),
        ("mai", at(2026, 5, 21)),
        ("8h sáng", at(2026, 5, 21, 8)),  # 08:00 already past today
        ("8h sang", at(2026, 5, 21, 8)),
        ("2h chiều", at(2026, 5, 20, 14)),
        ("2h chieu", at(2026, 5, 20, 14)),
        ("14h", at(2026, 5, 20, 14)),
        ("14h chiều", at(2026, 5, 20, 14)),
        ("8 giờ 30", at(2026, 5, 21, 8, 30)),
        ("8 gio 30", at(2026, 5, 21, 8, 30)),
        ("8 giờ 30 tối", at(2026, 5, 20, 20, 30)),
        ("7h tối mai", at(2026, 5, 21, 19)),
        ("chiều mai", at(2026, 5, 21, 14)),  # part of day with no hour → its usual hour
        ("3pm", at(2026, 5, 20, 15)),
        ("tomorrow 9:30", at(2026, 5, 21, 9, 30)),
    ],
)
def test_relative_forms(text: str, expected: datetime) -> None:
    assert when(text) == expected


def test_default_time_is_used_for_date_only() -> None:
    assert when("11/6", default_time=time(8, 0)) == at(2026, 6, 11, 8)
    assert when("mai", default_time=time(7, 30)) == at(2026, 5, 21, 7, 30)


def test_iso_with_offset_is_converted_to_tz() -> None:
    assert when("2026-06-11T08:00+07:00") == at(2026, 6, 11, 8)
    assert when("2026-06-11T01:00Z") == at(2026, 6, 11, 8)
    got = when("2026-06-11T08:00-05:00")
    assert got == at(2026, 6, 11, 20)
    assert got.utcoffset() == TZ.utcoffset(got.replace(tzinfo=None))


def test_now_in_another_zone_is_read_in_tz() -> None:
    # 20/5 23:30 UTC is already 21/5 06:30 in Hanoi: "hôm nay" is the 21st.
    now_utc = datetime(2026, 5, 20, 23, 30, tzinfo=timezone.utc)
    assert when("hôm nay 17h", now=now_utc) == at(2026, 5, 21, 17)


def test_year_inference_across_new_year() -> None:
    december = datetime(2026, 12, 28, 9, 0, tzinfo=TZ)
    assert when("11/6", now=december) == at(2027, 6, 11)  # next June
    assert when("2/1 8h", now=december) == at(2027, 1, 2, 8)
    assert when("30/12", now=december) == at(2026, 12, 30)
    assert when("28/12 8h", now=december) == at(2026, 12, 28, 8)  # today's date counts, even if the hour passed
    new_year_eve = datetime(2026, 12, 31, 23, 0, tzinfo=TZ)
    assert when("8h", now=new_year_eve) == at(2027, 1, 1, 8)
    assert when("mai 8h", now=new_year_eve) == at(2027, 1, 1, 8)
    assert when("1/5") == at(2027, 5, 1)  # 1 May already gone in May 2026
    assert when("29/2") == at(2028, 2, 29)  # the next leap day


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "31/2/2026",
        "31/2",
        "29/2/2027",
        "25:00",
        "11/6 25:00",
        "8h61",
        "11/13/2026",
        "13/13",
        "0/6",
        "11/0",
        "xyz",
        "ngày",
        "mai mai",
        "11/6 mai",
        "8h 9h",
        "11/6 12/6",
        "14h sáng",
        "13pm",
        "11/6/202",
        "11/6/0026",
        "2026-13-01",
        "2026-02-30 08:00",
        "soon",
        "hôm qua hoặc mai",
        "12345678",
        "2026-06-11T08:00+25:00",
        "x" * 500,
    ],
)
def test_invalid_input_raises_date_parse_error(text: str) -> None:
    with pytest.raises(DateParseError) as info:
        when(text)
    assert info.value.text == text
    assert "Cannot read" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_error_message_names_the_problem() -> None:
    with pytest.raises(DateParseError, match="not a valid date"):
        when("31/2")
    with pytest.raises(DateParseError, match="not a valid time"):
        when("25:00")


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_when("11/6", now=datetime(2026, 5, 20), tz=TZ)


def test_format_local() -> None:
    assert format_local(at(2026, 6, 11, 8), TZ) == "11/06/2026 08:00"
    assert format_local(datetime(2026, 6, 11, 1, 0, tzinfo=timezone.utc), TZ) == "11/06/2026 08:00"
    assert format_local(datetime(2026, 12, 31, 17, 5, tzinfo=timezone.utc), TZ) == "01/01/2027 00:05"
    with pytest.raises(ValueError):
        format_local(datetime(2026, 6, 11, 8), TZ)


@pytest.mark.parametrize("text", ["11/6/2026 08:00", "11/06 8h", "mai 8h", "2h chiều", "2026-06-11T08:00+07:00"])
def test_round_trip_through_format_local(text: str) -> None:
    got = when(text)
    assert when(format_local(got, TZ)) == got


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_only_date_parse_error(text: str) -> None:
    try:
        got = when(text)
    except DateParseError as exc:
        assert exc.text == text and str(exc)
        return
    assert got.tzinfo is not None


_PIECES = st.sampled_from(
    [
        "11/6",
        "31/2",
        "2026",
        "-",
        ":",
        "/",
        ".",
        "8h",
        "30",
        "h",
        "giờ",
        "sáng",
        "chiều",
        "tối",
        "đêm",
        "mai",
        "hôm nay",
        "ngày",
        "T",
        "+07:00",
        "Z",
        "am",
        "pm",
        "99",
        "0",
        "29/2/2100",
        "rưỡi",
        " ",
        "9999-12-31",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=6).map("".join), st.datetimes(timezones=st.just(TZ)))
def test_fuzz_date_like_text(text: str, now: datetime) -> None:
    try:
        got = parse_when(text, now=now, tz=TZ)
    except DateParseError:
        return
    assert got.tzinfo is not None
