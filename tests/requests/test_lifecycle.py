"""A request's lifecycle as an officer and an auditor would check it, on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from assistgate.app import App
from assistgate.ledger.models import LedgerEntryRow
from assistgate.requests import service
from assistgate.requests.errors import (
    AlreadyHeld,
    InvalidField,
    NotPermitted,
    RegisterError,
    RuleNotMet,
)
from assistgate.requests.flows import TransitionRefused
from assistgate.requests.models import Request
from tests.factories import LOUISVILLE, WARRANT_FACTS, make_app, new_request

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
OUTCOME: dict[str, Any] = {
    "officer_actions": ["serve_criminal_warrant"],
    "police_arrests": [{"offense_category": "theft"}],
    "agency_arrests": 0,
    "immigration_status_asked": False,
    "summary": "Warrant served at the door by LMPD; agents stayed at the street.",
}


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(database_url, tmp_path)
    yield app
    app.close()


def step(app: App, fn: Any, username: str, **kwargs: Any) -> Any:
    with app.transaction() as session:
        return fn(session, app.deployment, actor=app.user(session, username), **kwargs)


def ledger_size(app: App) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(LedgerEntryRow)) or 0


def events(app: App, ref: str) -> list[str]:
    with app.sessions() as session:
        rows = session.scalars(
            select(LedgerEntryRow).where(LedgerEntryRow.subject == ref).order_by(LedgerEntryRow.seq)
        )
        return [r.event for r in rows]


def load(app: App, ref: str) -> Request:
    with app.sessions() as session:
        return service.get_request(session, ref)


def test_a_request_goes_from_the_call_to_closure_with_every_step_on_the_ledger(app: App) -> None:
    req = new_request(app)
    assert (req.ref, req.state) == ("AG-2018-0001", "awaiting_review")
    assert req.location == "1200 block of S 4th St"
    step(app, service.claim, "lt.okafor", ref=req.ref)
    decision = step(
        app,
        service.decide,
        "lt.okafor",
        ref=req.ref,
        facts=WARRANT_FACTS,
        approve=["serve_criminal_warrant"],
        note="Warrant confirmed with the clerk.",
    )
    assert decision.outcome == "dispatch"
    assert decision.answer["profile"] == ["louisville-lmpd-2017", "louisville-ordinance-2017"]
    assert decision.answer["prohibited_actions"] == ["knock_and_talk"]
    step(app, service.record_dispatch, "cad", ref=req.ref, units=["4A21", "4A23"])
    step(app, service.record_arrival, "lt.okafor", ref=req.ref)
    step(app, service.clear, "cad", ref=req.ref)
    step(app, service.attach_recording, "lt.okafor", ref=req.ref, sha256=SHA)
    closed = step(app, service.close, "lt.okafor", ref=req.ref, outcome=OUTCOME)
    assert closed.state == "closed"
    assert closed.flagged_for_review is False
    assert events(app, req.ref) == [
        "request:created",
        "request:alerted",
        "request:claimed",
        "request:decided",
        "request:dispatched",
        "request:arrived",
        "request:cleared",
        "request:recording_attached",
        "request:closed",
    ]


def test_times_are_stored_in_utc_and_keep_their_instant(app: App) -> None:
    received = dt.datetime(2018, 1, 9, 22, 15, tzinfo=LOUISVILLE)
    req = new_request(app, received_at=received)
    stored = load(app, req.ref).received_at
    assert stored.tzinfo is not None
    assert stored.utcoffset() == dt.timedelta(0)
    assert stored == received


def test_a_request_is_decided_under_the_instruments_in_force_on_its_own_date(app: App) -> None:
    before_ordinance = new_request(
        app, received_at=dt.datetime(2017, 10, 2, 10, 0, tzinfo=LOUISVILLE)
    )
    step(app, service.claim, "lt.okafor", ref=before_ordinance.ref)
    d = step(
        app, service.decide, "lt.okafor", ref=before_ordinance.ref, facts=WARRANT_FACTS, approve=[]
    )
    assert d.answer["profile"] == "louisville-lmpd-2017"
    assert d.assessment["date"] == "2017-10-02"
    assert d.outcome == "decline"  # the officer may send less than permitted


def test_the_officer_cannot_choose_the_instrument(app: App) -> None:
    req = new_request(app)
    step(app, service.claim, "lt.okafor", ref=req.ref)
    with pytest.raises(InvalidField, match=r"facts\.profile: set by the deployment"):
        step(
            app,
            service.decide,
            "lt.okafor",
            ref=req.ref,
            facts={**WARRANT_FACTS, "profile": "chicago-welcoming-city"},
            approve=[],
        )


def test_units_cannot_be_sent_on_a_declined_request_and_nothing_is_written(app: App) -> None:
    req = new_request(app, requested_actions=["traffic_stop"])
    step(app, service.claim, "lt.okafor", ref=req.ref)
    step(app, service.decide, "lt.okafor", ref=req.ref, facts={}, approve=[])
    size = ledger_size(app)
    with pytest.raises(RuleNotMet, match="no dispatch decision"):
        step(app, service.record_dispatch, "cad", ref=req.ref, units=["4A21"])
    assert ledger_size(app) == size
    assert load(app, req.ref).state == "declined"


def test_the_officer_may_not_approve_more_than_the_policy_permits(app: App) -> None:
    req = new_request(app)
    step(app, service.claim, "lt.okafor", ref=req.ref)
    with pytest.raises(InvalidField, match="knock_and_talk not permitted by the policy"):
        step(
            app,
            service.decide,
            "lt.okafor",
            ref=req.ref,
            facts=WARRANT_FACTS,
            approve=["serve_criminal_warrant", "knock_and_talk"],
        )
    with pytest.raises(InvalidField, match="allows no dispatch"):
        step(app, service.decide, "lt.okafor", ref=req.ref, facts={}, approve=["backup"])
    assert load(app, req.ref).state == "under_review"
    assert events(app, req.ref)[-1] == "request:claimed"


def test_only_a_commanding_officer_may_claim_or_decide(app: App) -> None:
    req = new_request(app)
    with pytest.raises(NotPermitted, match=r"ct\.alvarez \(call_taker\) may not claim"):
        step(app, service.claim, "ct.alvarez", ref=req.ref)
    with pytest.raises(NotPermitted):
        step(app, service.decide, "ig.rowe", ref=req.ref, facts={}, approve=[])
    with pytest.raises(NotPermitted):
        step(app, service.claim, "ig.rowe", ref=req.ref)


def test_a_second_commanding_officer_is_told_who_holds_the_request(app: App) -> None:
    req = new_request(app)
    step(app, service.claim, "lt.okafor", ref=req.ref)
    with pytest.raises(AlreadyHeld, match=r"already held by lt\.okafor"):
        step(app, service.claim, "lt.brandt", ref=req.ref)
    with pytest.raises(AlreadyHeld):
        step(app, service.decide, "lt.brandt", ref=req.ref, facts=WARRANT_FACTS, approve=[])
    step(app, service.release, "lt.okafor", ref=req.ref)
    assert step(app, service.claim, "lt.brandt", ref=req.ref).commander == "lt.brandt"


def test_a_refused_step_names_what_is_allowed_and_writes_nothing(app: App) -> None:
    req = new_request(app)
    size = ledger_size(app)
    with pytest.raises(TransitionRefused, match="allowed from awaiting_review: claim, cancel"):
        step(app, service.record_arrival, "lt.okafor", ref=req.ref)
    assert ledger_size(app) == size


def _dispatched(app: App) -> str:
    req = new_request(app)
    step(app, service.claim, "lt.okafor", ref=req.ref)
    step(
        app,
        service.decide,
        "lt.okafor",
        ref=req.ref,
        facts=WARRANT_FACTS,
        approve=["serve_criminal_warrant"],
    )
    step(app, service.record_dispatch, "cad", ref=req.ref, units=["4A21"])
    return req.ref


def test_clearing_without_the_commanders_arrival_needs_a_flagged_exception(app: App) -> None:
    ref = _dispatched(app)
    with pytest.raises(RuleNotMet, match="arrival is not recorded"):
        step(app, service.clear, "cad", ref=ref)
    step(
        app,
        service.record_exception,
        "maj.chen",
        ref=ref,
        kind="no_commander_arrival",
        reason="Lieutenant diverted to a shooting on the way; sergeant supervised.",
    )
    cleared = step(app, service.clear, "cad", ref=ref)
    assert cleared.state == "cleared"
    assert cleared.flagged_for_review is True


def test_a_request_cannot_close_without_its_recording_or_an_exception(app: App) -> None:
    ref = _dispatched(app)
    step(app, service.record_arrival, "lt.okafor", ref=ref)
    step(app, service.clear, "cad", ref=ref)
    with pytest.raises(RuleNotMet, match="without the call recording"):
        step(app, service.close, "lt.okafor", ref=ref, outcome=OUTCOME)
    step(
        app,
        service.record_exception,
        "lt.okafor",
        ref=ref,
        kind="no_recording",
        reason="Recorder outage 09:30-11:00, ticket 5521.",
    )
    closed = step(app, service.close, "lt.okafor", ref=ref, outcome=OUTCOME)
    assert (closed.state, closed.flagged_for_review) == ("closed", True)
    assert closed.exceptions == {"no_recording": "Recorder outage 09:30-11:00, ticket 5521."}


@pytest.mark.parametrize(
    ("outcome", "field"),
    [
        ({**OUTCOME, "immigration_status_asked": None}, "outcome.immigration_status_asked"),
        (
            {k: v for k, v in OUTCOME.items() if k != "immigration_status_asked"},
            "outcome.immigration_status_asked",
        ),
        ({**OUTCOME, "officer_actions": ["knock_and_talk"]}, "outcome.officer_actions"),
        ({**OUTCOME, "agency_arrests": -1}, "outcome.agency_arrests"),
        ({**OUTCOME, "police_arrests": ["theft"]}, "outcome.police_arrests"),
    ],
)
def test_the_outcome_must_be_complete_and_within_what_was_approved(
    app: App, outcome: dict[str, Any], field: str
) -> None:
    ref = _dispatched(app)
    step(app, service.record_arrival, "lt.okafor", ref=ref)
    step(app, service.clear, "cad", ref=ref)
    step(app, service.attach_recording, "lt.okafor", ref=ref, sha256=SHA)
    with pytest.raises(InvalidField, match=field.replace(".", r"\.")):
        step(app, service.close, "lt.okafor", ref=ref, outcome=outcome)
    assert load(app, ref).state == "cleared"


def test_an_officer_asking_about_status_is_recorded_and_flagged(app: App) -> None:
    ref = _dispatched(app)
    step(app, service.record_arrival, "lt.okafor", ref=ref)
    step(app, service.clear, "cad", ref=ref)
    step(app, service.attach_recording, "lt.okafor", ref=ref, sha256=SHA)
    closed = step(
        app,
        service.close,
        "maj.chen",
        ref=ref,
        outcome={**OUTCOME, "immigration_status_asked": True},
    )
    assert closed.flagged_for_review is True


def test_the_agency_can_withdraw_until_the_request_is_cleared(app: App) -> None:
    req = new_request(app)
    cancelled = step(
        app,
        service.cancel,
        "ct.alvarez",
        ref=req.ref,
        reason="ERO called back: subject already in custody.",
    )
    assert cancelled.state == "cancelled"
    with pytest.raises(TransitionRefused, match="nothing \\(it is final\\)"):
        step(app, service.cancel, "ct.alvarez", ref=req.ref, reason="again")


def test_a_cad_incident_is_registered_once(app: App) -> None:
    first = new_request(app, cad_incident_id="P18065001")
    with pytest.raises(InvalidField, match=f"already registered as request {first.ref}"):
        new_request(app, cad_incident_id="P18065001")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"agency": "fbi"}, "agency: expected one of ice-ero"),
        ({"requested_actions": []}, "requested_actions: expected a non-empty list"),
        ({"requested_actions": ["backup", "raid"]}, r"requested_actions\[1\]"),
        ({"official_name": "  "}, "official_name: must not be empty"),
        ({"identity_check": "trust_me"}, "identity_check: expected one of"),
    ],
)
def test_bad_request_fields_are_refused_by_name(
    app: App, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(RegisterError, match=message):
        new_request(app, **fields)
    assert ledger_size(app) == 0


def test_reference_numbers_count_per_year_in_local_time(app: App) -> None:
    # The year is the local one: what matters is the calendar on the 911 floor.
    new_year = dt.datetime(2019, 1, 1, 0, 30, tzinfo=LOUISVILLE)
    late_2018 = dt.datetime(2018, 12, 31, 23, 50, tzinfo=LOUISVILLE)
    assert new_request(app, received_at=late_2018).ref == "AG-2018-0001"
    assert new_request(app, received_at=new_year).ref == "AG-2019-0001"
    assert new_request(app, received_at=new_year).ref == "AG-2019-0002"
