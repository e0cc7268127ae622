"""Reconcile a scan with the request register: find agency requests that bypassed review.

Pure: flagged calls and register entries in, findings out; the CLI reads both and writes the
report. The base case first, then what follows when it fails:

1. A flagged `agency_request` call whose CAD incident id is a request's `cad_incident_id` is
   matched by id.
2. Otherwise it is matched by time and place: a request received within the window of the
   call's time, at the same block (see `locations.block_key`), not matched already. When
   several could match, the pairs closest in time are taken first, one request per call.
3. A flagged agency request left unmatched is a **possible bypass of the policy**: the agency's
   call reached the dispatch system but no commanding officer's review is on record.
4. A request received during the period the scan covers (widened by the window) that no
   flagged call matched is listed too: its CAD incident is not among the dispatch records as
   scanned (a wrong id in the register, a record the scanner could not read as a request, or a
   request that never reached dispatch).

Calls of other categories (with `scan --all-categories`) are neither matched nor reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from assistgate.audit.locations import block_key
from assistgate.audit.rules import Category

_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %I:%M:%S %p",
    "%Y%m%d%H%M%S",
)


class Outcome(StrEnum):
    """What reconciliation found for one call or one request."""

    POSSIBLE_BYPASS = "possible_bypass"
    REQUEST_NOT_IN_DISPATCH = "request_not_in_dispatch"
    MATCHED = "matched"


class MatchedBy(StrEnum):
    CAD_ID = "cad_id"
    TIME_AND_LOCATION = "time_and_location"


@dataclass(frozen=True, slots=True)
class FlaggedCall:
    """One row of a scan's output (`audit scan`), its time already read as UTC."""

    id: str
    time: dt.datetime | None
    category: Category
    location: str = ""
    score: str = ""
    evidence: str = ""
    raw_time: str = ""


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """What reconciliation needs of one request in the register."""

    ref: str
    cad_incident_id: str | None
    received_at: dt.datetime  # UTC
    location: str
    state: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the report: a call, a request, or a matched pair, and why."""

    outcome: Outcome
    call: FlaggedCall | None
    request: RegisterEntry | None
    matched_by: MatchedBy | None = None
    minutes_apart: float | None = None
    note: str = ""


@dataclass
class Reconciliation:
    """The findings, the matched pairs, and what was left aside."""

    period: tuple[dt.datetime, dt.datetime] | None
    window: dt.timedelta
    findings: list[Finding] = field(default_factory=list)
    matched: list[Finding] = field(default_factory=list)
    agency_requests: int = 0
    other_calls: int = 0
    requests_in_period: int = 0
    requests_outside: int = 0

    def count(self, outcome: Outcome) -> int:
        return sum(1 for f in self.findings if f.outcome is outcome)


def parse_call_time(text: str, zone: ZoneInfo) -> dt.datetime | None:
    """Read a call time as exported (ISO 8601 or US style); a time without offset is in `zone`."""
    value = text.strip()
    if not value:
        return None
    moment = _read_time(value.replace(" UTC", "+00:00"))
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


def _read_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def scan_period(
    calls: Sequence[FlaggedCall],
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> tuple[dt.datetime, dt.datetime] | None:
    """Return the period a scan covered: `since`/`until` if given, else its first/last call.

    Preconditions: `since` and `until` are timezone-aware. A `ValueError` if `until` is
    before `since`; None if neither is given and no flagged call has a time.
    """
    times = [c.time for c in calls if c.time is not None]
    start = since or (min(times) if times else None)
    end = until or (max(times) if times else None)
    if start is None or end is None:
        return None
    if end < start:
        raise ValueError("the end of the period is before its start")
    return start, end


def reconcile(
    calls: Sequence[FlaggedCall],
    requests: Sequence[RegisterEntry],
    *,
    window: dt.timedelta,
    period: tuple[dt.datetime, dt.datetime] | None = None,
) -> Reconciliation:
    """Match flagged agency requests with register entries; list what has no counterpart.

    Preconditions: every datetime is timezone-aware; `window` is not negative. Without a
    `period`, the scan is taken to cover its earliest to its latest flagged call.
    """
    if window < dt.timedelta(0):
        raise ValueError("the matching window cannot be negative")
    asked = [c for c in calls if c.category is Category.AGENCY_REQUEST]
    times = [c.time for c in calls if c.time is not None]
    if period is None and times:
        period = (min(times), max(times))
    result = Reconciliation(period, window, agency_requests=len(asked))
    result.other_calls = len(calls) - len(asked)

    in_period: list[RegisterEntry] = []
    for r in requests:
        if period is not None and period[0] - window <= r.received_at <= period[1] + window:
            in_period.append(r)
        else:
            result.requests_outside += 1
    result.requests_in_period = len(in_period)

    # 1. By CAD incident id: any request, even one received outside the period.
    by_id = {_id(r.cad_incident_id): r for r in requests if r.cad_incident_id}
    taken: set[str] = set()
    pairs: dict[int, Finding] = {}
    for i, c in enumerate(asked):
        same = by_id.get(_id(c.id))
        if same is not None and same.ref not in taken:
            taken.add(same.ref)
            pairs[i] = _pair(c, same, MatchedBy.CAD_ID)

    # 2. By time and block, closest in time first, among the requests not matched by id.
    free = [r for r in in_period if r.ref not in taken]
    options: list[tuple[dt.timedelta, int, str, RegisterEntry]] = []
    for i, c in enumerate(asked):
        if i in pairs or c.time is None or not block_key(c.location):
            continue
        for r in free:
            gap = abs(r.received_at - c.time)
            if gap <= window and block_key(r.location) == block_key(c.location):
                options.append((gap, i, r.ref, r))
    for _, i, ref, r in sorted(options, key=lambda o: o[:3]):
        if i not in pairs and ref not in taken:
            taken.add(ref)
            pairs[i] = _pair(asked[i], r, MatchedBy.TIME_AND_LOCATION)

    for i, c in enumerate(asked):
        if i in pairs:
            result.matched.append(pairs[i])
        else:
            result.findings.append(
                Finding(Outcome.POSSIBLE_BYPASS, c, None, note=_why_unmatched(c, in_period, window))
            )
    for r in in_period:
        if r.ref not in taken:
            result.findings.append(
                Finding(
                    Outcome.REQUEST_NOT_IN_DISPATCH,
                    None,
                    r,
                    note=_why_not_found(r, asked, window),
                )
            )
    return result


def _id(value: str | None) -> str:
    return (value or "").strip().upper()


def _pair(c: FlaggedCall, r: RegisterEntry, how: MatchedBy) -> Finding:
    apart = None if c.time is None else abs(r.received_at - c.time).total_seconds() / 60
    return Finding(Outcome.MATCHED, c, r, how, apart)


def _minutes(window: dt.timedelta) -> str:
    return f"{window.total_seconds() / 60:g} minutes"


def _why_unmatched(c: FlaggedCall, requests: list[RegisterEntry], window: dt.timedelta) -> str:
    said = f"no request has CAD incident {c.id!r}"
    if c.time is None:
        return f"{said}, and the call has no time to match on" + (
            f" ({c.raw_time!r} is not a time)" if c.raw_time else ""
        )
    if not block_key(c.location):
        return f"{said}, and the call has no location to match on"
    at = c.time
    near = [r for r in requests if abs(r.received_at - at) <= window]
    text = f"{said}, and none was received within {_minutes(window)} at {block_key(c.location)}"
    if near:
        closest = min(near, key=lambda r: abs(r.received_at - at))
        text += f" (nearest in time: {closest.ref} at {closest.location!r})"
    return text


def _why_not_found(r: RegisterEntry, calls: list[FlaggedCall], window: dt.timedelta) -> str:
    where = f"no flagged call within {_minutes(window)} at {block_key(r.location) or '?'}"
    if r.cad_incident_id:
        return f"CAD incident {r.cad_incident_id!r} is not among the flagged calls, and {where}"
    return f"the request has no CAD incident id, and {where}"
