"""Reporting periods: a month, a quarter, a year or a range of days, in the deployment's zone.

Public interface (stable; the web pages and the CLI use it):

    parse_period("2017-09", "America/Kentucky/Louisville")        -> a month
    parse_period("2017-Q3", zone)                                  -> a quarter (Q1 to Q4)
    parse_period("2017", zone)                                     -> a calendar year
    parse_period("2017-09-01..2017-12-31", zone)                   -> days, both ends included

A `Period` knows its first and last local day, the UTC instants that bound it (`start`
included, `end` excluded), the months it touches (`months()`) and whether a moment falls in
it (`contains`). A request belongs to the period in which it was *received*, on the local
calendar: a call at 23:30 on 30 September in Louisville is a September call, although it is
already October in UTC. Bad text raises `PeriodError`, which says what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTH, QUARTER, YEAR, RANGE = "month", "quarter", "year", "range"
FORMS = "YYYY-MM (a month), YYYY-Qn (a quarter), YYYY (a year) or YYYY-MM-DD..YYYY-MM-DD"
_YEAR = re.compile(r"(\d{4})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
# Registers start in 2017; anything outside these years is a typing mistake, not a period.
FIRST_YEAR, LAST_YEAR = 1990, 2200


class PeriodError(ValueError):
    """The text is not a period; the message names the text and the accepted forms."""


@dataclass(frozen=True, slots=True)
class Period:
    """Local days `first` to `last` (both included) in the time zone named `timezone`."""

    kind: str
    label: str
    first: dt.date
    last: dt.date
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start(self) -> dt.datetime:
        """The first instant of the period (local midnight of `first`), in UTC."""
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period (local midnight after `last`), in UTC."""
        return _midnight(self.last + dt.timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def contains(self, moment: dt.datetime) -> bool:
        """Say whether an aware `moment` falls within the period."""
        return self.start <= moment < self.end

    def months(self) -> list[str]:
        """Return every month the period touches, as YYYY-MM, in order."""
        out: list[str] = []
        year, month = self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def whole_months(self) -> bool:
        """Say whether the period starts on a 1st and ends on a month's last day."""
        return self.first.day == 1 and (self.last + dt.timedelta(days=1)).day == 1

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "first_day": self.first.isoformat(),
            "last_day": self.last.isoformat(),
            "timezone": self.timezone,
        }


def parse_period(text: str, timezone: str | ZoneInfo) -> Period:
    """Read a period written as a month, a quarter, a year or a range of days."""
    zone = _zone_name(timezone)
    raw = text.strip() if isinstance(text, str) else ""
    if m := _MONTH.fullmatch(raw):
        year, month = _year(m.group(1), raw), int(m.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"period {raw!r}: month {m.group(2)} is not 01 to 12")
        first = dt.date(year, month, 1)
        return Period(MONTH, raw, first, _month_end(first), zone)
    if m := _QUARTER.fullmatch(raw):
        year, quarter = _year(m.group(1), raw), int(m.group(2))
        first = dt.date(year, 3 * quarter - 2, 1)
        last = _month_end(dt.date(year, 3 * quarter, 1))
        return Period(QUARTER, f"{year:04d}-Q{quarter}", first, last, zone)
    if m := _YEAR.fullmatch(raw):
        year = _year(m.group(1), raw)
        return Period(YEAR, raw, dt.date(year, 1, 1), dt.date(year, 12, 31), zone)
    if m := _RANGE.fullmatch(raw):
        first, last = _day(m.group(1), raw), _day(m.group(2), raw)
        if last < first:
            raise PeriodError(f"period {raw!r}: the range ends before it starts")
        return Period(RANGE, raw, first, last, zone)
    raise PeriodError(f"period {text!r} is not one of {FORMS}")


def period_of_month(month: str, timezone: str | ZoneInfo) -> Period:
    """Return the period of one YYYY-MM month (the month a figure or a CFS total is for)."""
    period = parse_period(month, timezone)
    if period.kind != MONTH:
        raise PeriodError(f"{month!r} is not a month written YYYY-MM")
    return period


def month_of(moment: dt.datetime, zone: ZoneInfo) -> str:
    """Return the local month (YYYY-MM) of an aware moment."""
    return moment.astimezone(zone).strftime("%Y-%m")


def week_of(moment: dt.datetime, zone: ZoneInfo) -> str:
    """Return the local ISO week (like 2017-W37) of an aware moment."""
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year:04d}-W{week:02d}"


def _zone_name(timezone: str | ZoneInfo) -> str:
    name = timezone.key if isinstance(timezone, ZoneInfo) else timezone
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise PeriodError(f"time zone {name!r} is not an IANA time zone") from None
    return name


def _year(digits: str, raw: str) -> int:
    year = int(digits)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(f"period {raw!r}: year {year} is outside {FIRST_YEAR} to {LAST_YEAR}")
    return year


def _day(text: str, raw: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"period {raw!r}: {text} is not a calendar date") from None
    _year(str(day.year), raw)
    return day


def _month_end(first: dt.date) -> dt.date:
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)
