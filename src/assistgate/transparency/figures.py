"""The figures of a period, computed from the register: what the public and oversight see.

Public interface (stable):

    compute_figures(session, period, *, trend=None) -> Figures
    figures_from(records, period, calls_by_month, *, trend_records=None, trend=None) -> Figures
    Figures.to_json() -> dict (plain JSON values, keys in a fixed order)
    share_text(n, m, noun="calls") -> "23 of 275,000 calls (0.0084%)"

Every figure counts the requests *received* in the period (local calendar, see `periods`),
in the state they are in when the figures are computed: a request received on the last day
and decided the next morning counts as a decision of the period it was received in. Counts
(`Counts`) are (key, count) pairs, largest first, then by key. Durations are in minutes: the
median (the middle value, or the mean of the two middle values) and the 90th percentile by
the nearest-rank method (the smallest value with at least 90% of values at or below it).

The sections:
- `received`, `by_agency`, `by_action`: requests, and each action asked for (a request asking
  for three actions counts once under each);
- `decisions`: dispatched, declined, cancelled (withdrawn before a decision), pending (not
  decided yet), which add up to `received` (a request withdrawn after its decision counts
  under its decision); the
  grounds that held in the decisions; the prohibited actions asked for (actions the policy
  forbade in the answer to that request) and how many requests asked for at least one;
- `timing`: intake to decision, decision to the commanding officer's arrival;
- `compliance`: of requests where units were sent, the share with the commanding officer on
  scene; of decided requests, the share with the call recording; exceptions by kind (every
  kind listed, zeros too); dispatch decisions with no ground (must be 0, always shown);
- `outcomes`: of closed requests, arrests by the police by offence category (one per person
  arrested), arrests by the agency, how many closures confirm that nobody asked anyone's
  immigration status and how many say someone did;
- `calls_for_service`: requests and calls for service over the months of the period that
  have a calls-for-service total, and the months that have none;
- `monthly`: one point per month of `trend` (default: the months of the period).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.requests.enums import ExceptionKind, State
from assistgate.transparency.models import CallsForServiceMonth
from assistgate.transparency.periods import Period, month_of
from assistgate.transparency.records import RequestRecord, load_records

Counts = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Share:
    """`count` of `of`; `percent` is None when `of` is 0."""

    count: int
    of: int

    @property
    def percent(self) -> float | None:
        return None if self.of == 0 else 100.0 * self.count / self.of

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "of": self.of, "percent": _round(self.percent)}


@dataclass(frozen=True, slots=True)
class Durations:
    """How many intervals were measured, their median and 90th percentile, in minutes."""

    count: int
    median_minutes: float | None
    p90_minutes: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "median_minutes": self.median_minutes,
            "p90_minutes": self.p90_minutes,
        }


@dataclass(frozen=True, slots=True)
class Decisions:
    dispatched: int
    declined: int
    cancelled: int
    pending: int
    grounds: Counts
    prohibited_asked: Counts
    requests_asking_prohibited: int

    def to_json(self) -> dict[str, Any]:
        return {
            "dispatched": self.dispatched,
            "declined": self.declined,
            "cancelled": self.cancelled,
            "pending": self.pending,
            "grounds": _counts(self.grounds),
            "prohibited_asked": _counts(self.prohibited_asked),
            "requests_asking_prohibited": self.requests_asking_prohibited,
        }


@dataclass(frozen=True, slots=True)
class Timing:
    intake_to_decision: Durations
    decision_to_commander_arrival: Durations

    def to_json(self) -> dict[str, Any]:
        return {
            "intake_to_decision": self.intake_to_decision.to_json(),
            "decision_to_commander_arrival": self.decision_to_commander_arrival.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Compliance:
    commander_on_scene: Share  # of requests where units were sent
    with_recording: Share  # of decided requests
    exceptions: Counts
    decisions_without_ground: int

    def to_json(self) -> dict[str, Any]:
        return {
            "commander_on_scene": self.commander_on_scene.to_json(),
            "with_recording": self.with_recording.to_json(),
            "exceptions": _counts(self.exceptions),
            "decisions_without_ground": self.decisions_without_ground,
        }


@dataclass(frozen=True, slots=True)
class Outcomes:
    closed: int
    police_arrests: int
    police_arrests_by_offence: Counts
    agency_arrests: int
    no_status_asked: Share  # closures confirming nobody was asked, of closed requests
    status_asked: int

    def to_json(self) -> dict[str, Any]:
        return {
            "closed": self.closed,
            "police_arrests": self.police_arrests,
            "police_arrests_by_offence": _counts(self.police_arrests_by_offence),
            "agency_arrests": self.agency_arrests,
            "no_status_asked": self.no_status_asked.to_json(),
            "status_asked": self.status_asked,
        }


@dataclass(frozen=True, slots=True)
class CallsShare:
    """Requests among all calls for service, over the months that have a total."""

    requests: int
    calls: int
    months_counted: tuple[str, ...]
    months_missing: tuple[str, ...]

    @property
    def text(self) -> str:
        if not self.months_counted:
            return "no calls-for-service totals have been imported for this period"
        return share_text(self.requests, self.calls)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "calls": self.calls,
            "share": Share(self.requests, self.calls).to_json()["percent"] if self.calls else None,
            "text": self.text,
            "months_counted": list(self.months_counted),
            "months_missing": list(self.months_missing),
        }


@dataclass(frozen=True, slots=True)
class MonthPoint:
    """One month of the trend: requests received and what became of them."""

    month: str
    received: int
    dispatched: int
    declined: int
    cancelled: int
    asking_prohibited: int
    calls_for_service: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "received": self.received,
            "dispatched": self.dispatched,
            "declined": self.declined,
            "cancelled": self.cancelled,
            "asking_prohibited": self.asking_prohibited,
            "calls_for_service": self.calls_for_service,
        }


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything published about one period."""

    period: Period
    received: int
    by_agency: Counts
    by_action: Counts
    decisions: Decisions
    timing: Timing
    compliance: Compliance
    outcomes: Outcomes
    calls_for_service: CallsShare
    monthly: tuple[MonthPoint, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period.to_json(),
            "received": self.received,
            "by_agency": _counts(self.by_agency),
            "by_action": _counts(self.by_action),
            "decisions": self.decisions.to_json(),
            "timing": self.timing.to_json(),
            "compliance": self.compliance.to_json(),
            "outcomes": self.outcomes.to_json(),
            "calls_for_service": self.calls_for_service.to_json(),
            "monthly": [m.to_json() for m in self.monthly],
        }


def compute_figures(session: Session, period: Period, *, trend: Period | None = None) -> Figures:
    """Compute the figures of `period` from the register (and the trend over `trend`)."""
    records = load_records(session, period)
    trend_records = None
    if trend is not None and trend != period:
        trend_records = load_records(session, trend)
    months = set(period.months()) | set(trend.months() if trend else ())
    return figures_from(
        records, period, calls_by_month(session, months), trend_records=trend_records, trend=trend
    )


def calls_by_month(session: Session, months: Iterable[str]) -> dict[str, int]:
    """Return the imported calls-for-service totals of the given months (those that have one)."""
    wanted = sorted(set(months))
    if not wanted:
        return {}
    rows = session.execute(
        select(CallsForServiceMonth.month, CallsForServiceMonth.calls).where(
            CallsForServiceMonth.month.in_(wanted)
        )
    )
    return {month: int(calls) for month, calls in rows}


def figures_from(
    records: Sequence[RequestRecord],
    period: Period,
    calls: Mapping[str, int],
    *,
    trend_records: Sequence[RequestRecord] | None = None,
    trend: Period | None = None,
) -> Figures:
    """Compute the figures from loaded records (pure: no database)."""
    decided = [r for r in records if r.decision]
    dispatch = [r for r in decided if r.decision == "dispatch"]
    sent = [r for r in records if r.dispatched_at is not None]
    closed = [r for r in records if r.closed]
    zone = period.zone
    counted = tuple(m for m in period.months() if m in calls)
    in_counted = sum(1 for r in records if month_of(r.received_at, zone) in calls)
    return Figures(
        period=period,
        received=len(records),
        by_agency=_tally(r.agency for r in records),
        by_action=_tally(a for r in records for a in r.requested_actions),
        decisions=Decisions(
            dispatched=len(dispatch),
            declined=sum(1 for r in decided if r.decision == "decline"),
            cancelled=sum(1 for r in records if not r.decision and r.state == State.CANCELLED),
            pending=sum(1 for r in records if not r.decision and r.state != State.CANCELLED),
            grounds=_tally(g for r in decided for g in r.grounds),
            prohibited_asked=_tally(a for r in decided for a in r.prohibited_asked),
            requests_asking_prohibited=sum(1 for r in decided if r.prohibited_asked),
        ),
        timing=Timing(
            intake_to_decision=_durations(
                (r.decided_at - r.received_at).total_seconds()
                for r in decided
                if r.decided_at is not None
            ),
            decision_to_commander_arrival=_durations(
                (r.arrived_at - r.decided_at).total_seconds()
                for r in decided
                if r.decided_at is not None and r.arrived_at is not None
            ),
        ),
        compliance=Compliance(
            commander_on_scene=Share(sum(1 for r in sent if r.arrived_at is not None), len(sent)),
            with_recording=Share(sum(1 for r in decided if r.has_recording), len(decided)),
            exceptions=_all_kinds(
                _tally(k for r in records for k in r.exceptions), [k.value for k in ExceptionKind]
            ),
            decisions_without_ground=sum(1 for r in dispatch if not r.grounds),
        ),
        outcomes=Outcomes(
            closed=len(closed),
            police_arrests=sum(len(r.police_arrest_offences) for r in closed),
            police_arrests_by_offence=_tally(o for r in closed for o in r.police_arrest_offences),
            agency_arrests=sum(r.agency_arrests for r in closed),
            no_status_asked=Share(sum(1 for r in closed if r.status_asked is False), len(closed)),
            status_asked=sum(1 for r in closed if r.status_asked is True),
        ),
        calls_for_service=CallsShare(
            requests=in_counted,
            calls=sum(calls[m] for m in counted),
            months_counted=counted,
            months_missing=tuple(m for m in period.months() if m not in calls),
        ),
        monthly=monthly_series(
            records if trend_records is None else trend_records, trend or period, calls
        ),
    )


def monthly_series(
    records: Sequence[RequestRecord], over: Period, calls: Mapping[str, int]
) -> tuple[MonthPoint, ...]:
    """Return one point per month of `over`, months without requests included."""
    zone = over.zone
    by_month: dict[str, list[RequestRecord]] = {m: [] for m in over.months()}
    for r in records:
        month = month_of(r.received_at, zone)
        if month in by_month and over.contains(r.received_at):
            by_month[month].append(r)
    return tuple(
        MonthPoint(
            month=month,
            received=len(rs),
            dispatched=sum(1 for r in rs if r.decision == "dispatch"),
            declined=sum(1 for r in rs if r.decision == "decline"),
            cancelled=sum(1 for r in rs if not r.decision and r.state == State.CANCELLED),
            asking_prohibited=sum(1 for r in rs if r.prohibited_asked),
            calls_for_service=calls.get(month),
        )
        for month, rs in by_month.items()
    )


def share_text(n: int, m: int, noun: str = "calls") -> str:
    """Say "N of M calls (x%)", with enough digits that a small share does not read as 0%."""
    if m == 0:
        return f"{n:,} of 0 {noun}"
    return f"{n:,} of {m:,} {noun} ({percent_text(100.0 * n / m)})"


def percent_text(value: float) -> str:
    """Write a percentage with one decimal, or two significant digits below 1%."""
    if value == 0:
        return "0%"
    if value >= 1:
        return f"{value:.1f}%"
    digits = 1 - math.floor(math.log10(value))
    return f"{value:.{digits}f}%"


def _tally(items: Iterable[str]) -> Counts:
    return tuple(sorted(Counter(items).items(), key=lambda kv: (-kv[1], kv[0])))


def _all_kinds(counts: Counts, kinds: Sequence[str]) -> Counts:
    present = dict(counts)
    extra = [(k, n) for k, n in counts if k not in kinds]
    return tuple([(k, present.get(k, 0)) for k in kinds] + extra)


def _counts(counts: Counts) -> dict[str, int]:
    return dict(counts)


def _durations(seconds: Iterable[float]) -> Durations:
    values = sorted(seconds)
    if not values:
        return Durations(0, None, None)
    p90 = values[math.ceil(0.9 * len(values)) - 1]
    return Durations(len(values), _minutes(statistics.median(values)), _minutes(p90))


def _minutes(seconds: float) -> float:
    return round(seconds / 60.0, 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
