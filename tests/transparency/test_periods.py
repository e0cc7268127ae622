"""Periods as people write them, placed on the local calendar of the deployment."""

from __future__ import annotations

import datetime as dt

import pytest

from assistgate.transparency.periods import PeriodError, parse_period, week_of

ZONE = "America/Kentucky/Louisville"


@pytest.mark.parametrize(
    ("text", "kind", "first", "last"),
    [
        ("2017-09", "month", "2017-09-01", "2017-09-30"),
        ("2016-02", "month", "2016-02-01", "2016-02-29"),
        ("2017-Q3", "quarter", "2017-07-01", "2017-09-30"),
        ("2017-q4", "quarter", "2017-10-01", "2017-12-31"),
        ("2017", "year", "2017-01-01", "2017-12-31"),
        ("2017-09-01..2017-12-31", "range", "2017-09-01", "2017-12-31"),
        (" 2018-03 ", "month", "2018-03-01", "2018-03-31"),
    ],
)
def test_each_form_names_its_first_and_last_day(
    text: str, kind: str, first: str, last: str
) -> None:
    period = parse_period(text, ZONE)
    assert (period.kind, period.first.isoformat(), period.last.isoformat()) == (kind, first, last)


def test_a_period_starts_and_ends_at_local_midnight() -> None:
    period = parse_period("2017-Q3", ZONE)
    # Louisville is on daylight time (UTC-4) on both days.
    assert period.start == dt.datetime(2017, 7, 1, 4, tzinfo=dt.UTC)
    assert period.end == dt.datetime(2017, 10, 1, 4, tzinfo=dt.UTC)
    assert period.contains(dt.datetime(2017, 10, 1, 3, 59, tzinfo=dt.UTC))
    assert not period.contains(dt.datetime(2017, 10, 1, 4, tzinfo=dt.UTC))
    assert period.months() == ["2017-07", "2017-08", "2017-09"]


def test_a_winter_month_ends_at_midnight_standard_time() -> None:
    period = parse_period("2017-12", ZONE)
    assert period.end == dt.datetime(2018, 1, 1, 5, tzinfo=dt.UTC)


def test_weeks_are_iso_weeks_of_the_local_date() -> None:
    # 23:30 on Sunday 31 Dec 2017 in Louisville is Monday 1 Jan 2018 in UTC.
    late = dt.datetime(2018, 1, 1, 4, 30, tzinfo=dt.UTC)
    assert week_of(late, parse_period("2017", ZONE).zone) == "2017-W52"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2017-13", "month 13 is not 01 to 12"),
        ("2017-Q5", "is not one of YYYY-MM"),
        ("Q3 2017", "is not one of YYYY-MM"),
        ("2017-02-30..2017-03-01", "2017-02-30 is not a calendar date"),
        ("2017-12-31..2017-01-01", "the range ends before it starts"),
        ("0017", "year 17 is outside"),
        ("", "is not one of"),
    ],
)
def test_bad_periods_are_refused_with_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text, ZONE)


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(PeriodError, match="not an IANA time zone"):
        parse_period("2017", "Mars/Olympus")
