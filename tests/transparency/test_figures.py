"""The figures of a period, checked against a register built by hand through the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistgate.app import App
from assistgate.requests import service
from assistgate.transparency.cfs import CfsTotals, store_totals
from assistgate.transparency.figures import compute_figures, percent_text, share_text
from assistgate.transparency.periods import parse_period
from assistgate.transparency.public_log import load_public_log
from tests.factories import WARRANT_FACTS, new_request
from tests.transparency.conftest import ZONE, local, minutes, step


def figures(app: App, period: str, trend: str | None = None) -> dict[str, Any]:
    with app.sessions() as session:
        span = parse_period(period, ZONE)
        over = parse_period(trend, ZONE) if trend else None
        return compute_figures(session, span, trend=over).to_json()


def test_march_counts_the_five_requests_received_in_march_local_time(
    app: App, march: dict[str, str]
) -> None:
    f = figures(app, "2018-03")
    # D came at 23:30 on 31 March in Louisville (already April in UTC): it is a March request.
    # E came at 00:30 on 1 April: it is not.
    assert f["received"] == 5
    assert f["by_agency"] == {"ice-ero": 2, "ice-hsi": 2, "cbp": 1}
    # A asked for two actions, F for two, B, C and D for one each.
    assert f["by_action"] == {
        "backup": 2,
        "knock_and_talk": 1,
        "locate_person": 1,
        "respond_to_crime": 1,
        "serve_criminal_warrant": 1,
        "traffic_stop": 1,
    }


def test_decisions_grounds_and_prohibited_actions_follow_the_policy_answers(
    app: App, march: dict[str, str]
) -> None:
    d = figures(app, "2018-03")["decisions"]
    assert d == {
        "dispatched": 2,  # A and F
        "declined": 1,  # B
        "cancelled": 1,  # C
        "pending": 1,  # D, under review
        # A: a verified judicial criminal warrant (a ground under both instruments);
        # F: a crime under way with an articulated risk of violence.
        "grounds": {"crime": 1, "criminal_warrant": 1, "judicial_warrant": 1, "violence_risk": 1},
        # A asked officers to knock on the door; B asked for a traffic stop on an I-200.
        "prohibited_asked": {"knock_and_talk": 1, "traffic_stop": 1},
        "requests_asking_prohibited": 2,
    }
    assert d["dispatched"] + d["declined"] + d["cancelled"] + d["pending"] == 5


def test_times_are_medians_and_nearest_rank_90th_percentiles_in_minutes(
    app: App, march: dict[str, str]
) -> None:
    t = figures(app, "2018-03")["timing"]
    # Intake to decision: A 10 min, B 4 min, F 30 min. Median 10; 90th percentile by nearest
    # rank is the 3rd of 3 values.
    assert t["intake_to_decision"] == {"count": 3, "median_minutes": 10.0, "p90_minutes": 30.0}
    # Only A's commander arrived: 20 min after dispatch, 22 min after the decision.
    assert t["decision_to_commander_arrival"] == {
        "count": 1,
        "median_minutes": 22.0,
        "p90_minutes": 22.0,
    }


def test_compliance_shows_the_missing_arrival_and_recording_and_zero_groundless_dispatches(
    app: App, march: dict[str, str]
) -> None:
    c = figures(app, "2018-03")["compliance"]
    assert c["commander_on_scene"] == {"count": 1, "of": 2, "percent": 50.0}
    assert c["with_recording"] == {"count": 2, "of": 3, "percent": 66.6667}
    assert c["exceptions"] == {"no_commander_arrival": 1, "no_recording": 1}
    assert c["decisions_without_ground"] == 0


def test_outcomes_count_arrests_and_the_statements_that_nobody_asked_about_status(
    app: App, march: dict[str, str]
) -> None:
    o = figures(app, "2018-03")["outcomes"]
    assert o == {
        "closed": 3,
        "police_arrests": 1,
        "police_arrests_by_offence": {"theft": 1},
        "agency_arrests": 1,
        "no_status_asked": {"count": 3, "of": 3, "percent": 100.0},
        "status_asked": 0,
    }


def test_the_share_of_calls_for_service_uses_the_imported_monthly_totals(
    app: App, march: dict[str, str], tmp_path: Path
) -> None:
    before = figures(app, "2018-Q1")["calls_for_service"]
    assert before["text"] == "no calls-for-service totals have been imported for this period"
    with app.transaction() as session:
        store_totals(session, CfsTotals("cfs.csv", "test", {"2018-03": 45000, "2018-02": 41000}, 2))
    share = figures(app, "2018-Q1")["calls_for_service"]
    assert share["text"] == "5 of 86,000 calls (0.0058%)"
    assert share["months_counted"] == ["2018-02", "2018-03"]
    assert share["months_missing"] == ["2018-01"]
    march_only = figures(app, "2018-03")["calls_for_service"]
    assert march_only["text"] == "5 of 45,000 calls (0.011%)"


def test_the_monthly_series_covers_every_month_of_the_trend_even_empty_ones(
    app: App, march: dict[str, str]
) -> None:
    months = figures(app, "2018-03", trend="2018-02-01..2018-04-30")["monthly"]
    assert [(m["month"], m["received"], m["dispatched"], m["declined"]) for m in months] == [
        ("2018-02", 0, 0, 0),
        ("2018-03", 5, 2, 1),
        ("2018-04", 1, 0, 1),
    ]


def test_an_empty_period_has_zero_counts_and_no_durations(app: App) -> None:
    f = figures(app, "2017")
    assert f["received"] == 0
    assert f["timing"]["intake_to_decision"] == {
        "count": 0,
        "median_minutes": None,
        "p90_minutes": None,
    }
    assert f["compliance"]["commander_on_scene"] == {"count": 0, "of": 0, "percent": None}
    assert f["compliance"]["decisions_without_ground"] == 0


def test_the_2017_finding_reads_as_it_was_reported() -> None:
    # KyCIR, 2017: 23 immigration-agency calls among about 275,000 calls for service.
    assert share_text(23, 275_000) == "23 of 275,000 calls (0.0084%)"
    assert percent_text(50.0) == "50.0%"
    assert percent_text(0.0) == "0%"


def test_a_request_withdrawn_after_its_decision_counts_under_its_decision(app: App) -> None:
    at = local(2018, 2, 14, 11, 0)
    ref = new_request(app, received_at=at).ref
    step(app, service.claim, "lt.okafor", minutes(at, 1), ref=ref)
    step(app, service.decide, "lt.okafor", minutes(at, 5), ref=ref, facts=WARRANT_FACTS,
         approve=["serve_criminal_warrant"])  # fmt: skip
    step(app, service.cancel, "cad", minutes(at, 9), ref=ref, reason="Subject not there.")
    d = figures(app, "2018-02")["decisions"]
    assert (d["dispatched"], d["cancelled"], d["pending"]) == (1, 0, 0)
    with app.sessions() as session:
        (row,) = load_public_log(session, ZONE)
    assert (row.decision, row.outcome, row.commander_attended) == ("dispatch", "cancelled", None)
