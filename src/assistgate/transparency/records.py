"""The one reader of the register for publication: public-safe facts per request.

`load_records(session, period)` selects only columns that may be published or that figures
are computed from (times, states, codes, categories). It never selects the official's name
or badge, the callback number, the location, the call taker's or commander's name, unit call
signs, or any free text (the caller's words, notes, reasons, summaries, descriptions), so
nothing built from a `RequestRecord` can leak them. Times are kept to compute durations and
to place a request in its month and week; publication never shows them.

Outcome category (`outcome_category`), one of OUTCOME_CATEGORIES:
    open                      not closed yet (awaiting review, decided, or on scene)
    cancelled                 the agency withdrew the request
    no_officers_sent          declined and closed
    no_arrest                 officers were sent; nobody was arrested
    police_arrest             the police arrested someone on a local charge
    agency_arrest             the agency arrested someone
    police_and_agency_arrest  both
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from assistgate.requests.enums import State
from assistgate.requests.models import Decision, Request
from assistgate.transparency.periods import Period

OUTCOME_CATEGORIES = (
    "open",
    "cancelled",
    "no_officers_sent",
    "no_arrest",
    "police_arrest",
    "agency_arrest",
    "police_and_agency_arrest",
)
BATCH = 5000


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What publication may know of one request."""

    ref: str
    received_at: dt.datetime
    via_dispatch_system: bool
    district: str
    agency: str
    requested_actions: tuple[str, ...]
    state: str
    decision: str  # "dispatch", "decline" or "" (none yet, or cancelled before one)
    decided_at: dt.datetime | None
    grounds: tuple[str, ...]
    prohibited_asked: tuple[str, ...]
    warrant_kind: str  # from the assessment: none, judicial_criminal, ... ("" if undecided)
    dispatched_at: dt.datetime | None
    arrived_at: dt.datetime | None
    has_recording: bool
    exceptions: tuple[str, ...]  # kinds only, never the reasons
    closed: bool
    officer_actions: tuple[str, ...]
    police_arrest_offences: tuple[str, ...]  # one category per person arrested
    agency_arrests: int
    status_asked: bool | None  # None until closed with its statement

    @property
    def outcome_category(self) -> str:
        if self.state == State.CANCELLED:
            return "cancelled"
        if not self.closed:
            return "open"
        if self.dispatched_at is None:
            return "no_officers_sent"
        police, agency = bool(self.police_arrest_offences), self.agency_arrests > 0
        if police and agency:
            return "police_and_agency_arrest"
        if police:
            return "police_arrest"
        return "agency_arrest" if agency else "no_arrest"

    @property
    def commander_attended(self) -> bool | None:
        """Whether the commanding officer reached the scene; None when no units were sent."""
        return None if self.dispatched_at is None else self.arrived_at is not None


def _query() -> Select[Any]:
    return select(
        Request.ref,
        Request.received_at,
        Request.cad_incident_id.is_not(None),
        Request.district,
        Request.agency,
        Request.requested_actions,
        Request.state,
        Decision.outcome,
        Decision.decided_at,
        Decision.answer["grounds"],
        Decision.answer["prohibited_actions"],
        Decision.assessment["warrant"],
        Request.dispatched_at,
        Request.arrived_at,
        Request.recording_sha256.is_not(None),
        Request.exceptions,
        Request.closed_at.is_not(None),
        Request.outcome,
    ).outerjoin(Decision, Decision.id == Request.decision_id)


def iter_records(
    session: Session, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> Iterator[RequestRecord]:
    """Yield the requests received in [start, end) (all when not given), by reference."""
    query = _query()
    if start is not None:
        query = query.where(Request.received_at >= start)
    if end is not None:
        query = query.where(Request.received_at < end)
    for row in session.execute(query.order_by(Request.ref).execution_options(yield_per=BATCH)):
        yield _record(row)


def load_records(session: Session, period: Period) -> list[RequestRecord]:
    """Return the requests received in `period`, by reference."""
    return list(iter_records(session, period.start, period.end))


def _record(row: Any) -> RequestRecord:
    (ref, received, via_cad, district, agency, actions, state, decision, decided_at, grounds,
     prohibited, warrant, dispatched, arrived, recorded, exceptions, closed,
     outcome) = row  # fmt: skip
    result: Mapping[str, Any] = outcome or {}
    return RequestRecord(
        ref=ref,
        received_at=received,
        via_dispatch_system=bool(via_cad),
        district=district or "",
        agency=agency,
        requested_actions=tuple(actions or ()),
        state=state,
        decision=decision or "",
        decided_at=decided_at,
        grounds=tuple(_list(grounds)),
        prohibited_asked=tuple(_list(prohibited)),
        warrant_kind=_warrant_kind(warrant, decision),
        dispatched_at=dispatched,
        arrived_at=arrived,
        has_recording=bool(recorded),
        exceptions=tuple(sorted(exceptions or {})),
        closed=bool(closed),
        officer_actions=tuple(result.get("officer_actions", ())),
        police_arrest_offences=tuple(
            str(a["offense_category"]) for a in result.get("police_arrests", ())
        ),
        agency_arrests=int(result.get("agency_arrests", 0)),
        status_asked=result.get("immigration_status_asked") if outcome else None,
    )


def _list(value: Any) -> list[str]:
    # JSON paths come back decoded on PostgreSQL and as JSON text on some SQLite builds.
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value or ()]


def _warrant_kind(warrant: Any, decision: str | None) -> str:
    if decision is None:
        return ""
    if isinstance(warrant, str):
        warrant = json.loads(warrant)
    if isinstance(warrant, Mapping):
        return str(warrant.get("kind", "none"))
    return "none"
