"""Reconciliation of a scan with the register: the pure core, then the command on both databases."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from assistgate.audit.locations import block_key
from assistgate.audit.reconcile import (
    FlaggedCall,
    MatchedBy,
    Outcome,
    RegisterEntry,
    parse_call_time,
    reconcile,
)
from assistgate.audit.rules import Category
from assistgate.cli import main
from tests.factories import make_app, new_request

LOUISVILLE = ZoneInfo("America/Kentucky/Louisville")
UTC = dt.UTC
WINDOW = dt.timedelta(minutes=30)


def _at(hour: int, minute: int = 0, day: int = 6) -> dt.datetime:
    return dt.datetime(2018, 3, day, hour, minute, tzinfo=UTC)


def _call(ident: str, when: dt.datetime | None, location: str = "", **kw: object) -> FlaggedCall:
    category = kw.pop("category", Category.AGENCY_REQUEST)
    assert isinstance(category, Category)
    return FlaggedCall(ident, when, category, location=location)


def _request(ref: str, when: dt.datetime, location: str, cad: str | None = None) -> RegisterEntry:
    return RegisterEntry(ref, cad, when, location, "received")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1234 S 4th St", "1200 BLK S FOURTH STREET"),
        ("1234 S 4th St", "12XX S 4TH ST"),
        ("1299 S. 4th St. #2", "1200 block of South 4th Street, Apt 3"),
        ("4TH ST / MAIN ST", "Main Street and 4th Street"),
        ("2310 Bardstown Rd", "2300 BLK BARDSTOWN ROAD"),
    ],
)
def test_two_ways_of_writing_the_same_block_give_the_same_key(a: str, b: str) -> None:
    assert block_key(a) == block_key(b) != ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1234 S 4th St", "1334 S 4th St"),  # the next block
        ("1234 S 4th St", "1234 N 4th St"),  # the other side of town
        ("1234 S 4th St", "1234 S 5th St"),
    ],
)
def test_different_blocks_give_different_keys(a: str, b: str) -> None:
    assert block_key(a) != block_key(b)


def test_an_empty_address_has_no_block() -> None:
    assert block_key("") == block_key(None) == block_key("   ") == ""


def test_a_call_with_a_request_for_its_cad_incident_is_matched_by_id() -> None:
    result = reconcile(
        [_call("P18001", _at(14, 41), "1234 S 4th St")],
        [_request("AG-1", _at(14, 43), "somewhere else", cad="P18001")],
        window=WINDOW,
    )
    assert result.findings == []
    [pair] = result.matched
    assert (pair.matched_by, pair.request and pair.request.ref) == (MatchedBy.CAD_ID, "AG-1")
    assert pair.minutes_apart == pytest.approx(2)


def test_a_call_without_a_request_id_is_matched_by_time_and_block() -> None:
    result = reconcile(
        [_call("P18002", _at(14, 41), "1200 BLK S FOURTH ST")],
        [_request("AG-2", _at(15, 5), "1234 S 4th St")],
        window=WINDOW,
    )
    assert [m.matched_by for m in result.matched] == [MatchedBy.TIME_AND_LOCATION]
    assert result.findings == []


def test_a_call_with_no_request_is_a_possible_bypass_and_says_why() -> None:
    result = reconcile(
        [_call("P18003", _at(14, 41), "1234 S 4th St")],
        [
            _request("AG-3", _at(15, 30), "1234 S 4th St"),  # the same block, 49 minutes later
            _request("AG-4", _at(14, 50), "900 W Broadway"),  # in time, another block
        ],
        window=WINDOW,
    )
    bypass = [f for f in result.findings if f.outcome is Outcome.POSSIBLE_BYPASS]
    assert [f.call and f.call.id for f in bypass] == ["P18003"]
    assert "no request has CAD incident 'P18003'" in bypass[0].note
    assert "none was received within 30 minutes at 1200 S 4TH" in bypass[0].note
    assert "nearest in time: AG-4" in bypass[0].note


def test_a_request_whose_incident_is_not_among_the_calls_is_listed() -> None:
    result = reconcile(
        [_call("P18005", _at(9), "1 Main St")],
        [
            _request("AG-5", _at(9), "1 Main St", cad="P18005"),
            _request("AG-6", _at(12), "500 S 3rd St", cad="P18999"),
            _request("AG-7", _at(12, 30), "600 S 3rd St"),
        ],
        window=WINDOW,
        period=(_at(0), _at(23, 59)),
    )
    listed = {
        f.request.ref: f.note
        for f in result.findings
        if f.outcome is Outcome.REQUEST_NOT_IN_DISPATCH and f.request
    }
    assert set(listed) == {"AG-6", "AG-7"}
    assert "CAD incident 'P18999' is not among the flagged calls" in listed["AG-6"]
    assert "the request has no CAD incident id" in listed["AG-7"]


def test_requests_outside_the_period_the_scan_covers_are_left_aside() -> None:
    result = reconcile(
        [_call("P1", _at(9), "1 Main St"), _call("P2", _at(17), "1 Main St")],
        [_request("AG-8", _at(9, 0, day=20), "1 Main St")],
        window=WINDOW,
    )
    assert result.period == (_at(9), _at(17))
    assert result.requests_outside == 1
    assert [f.outcome for f in result.findings] == [Outcome.POSSIBLE_BYPASS] * 2


def test_one_request_matches_one_call_only_the_closest_in_time() -> None:
    calls = [_call("P1", _at(10, 0), "1 Main St"), _call("P2", _at(10, 20), "1 Main St")]
    result = reconcile(calls, [_request("AG-9", _at(10, 18), "1 Main St")], window=WINDOW)
    assert [m.call and m.call.id for m in result.matched] == ["P2"]
    assert [f.call and f.call.id for f in result.findings] == ["P1"]


def test_a_request_matched_by_id_is_not_offered_to_another_call_by_time() -> None:
    calls = [_call("P1", _at(10), "1 Main St"), _call("P2", _at(10, 5), "1 Main St")]
    result = reconcile(calls, [_request("AG-10", _at(10), "1 Main St", cad="P2")], window=WINDOW)
    assert [(m.call and m.call.id, m.matched_by) for m in result.matched] == [
        ("P2", MatchedBy.CAD_ID)
    ]
    assert [f.call and f.call.id for f in result.findings] == ["P1"]


def test_calls_without_a_time_or_a_location_are_bypasses_that_say_so() -> None:
    result = reconcile(
        [_call("P1", None), _call("P2", _at(10))],
        [_request("AG-11", _at(10), "1 Main St")],
        window=WINDOW,
    )
    notes = {f.call.id: f.note for f in result.findings if f.call}
    assert "the call has no time to match on" in notes["P1"]
    assert "the call has no location to match on" in notes["P2"]


def test_calls_of_other_categories_need_no_request() -> None:
    notice = _call("P1", _at(10), "1 Main St", category=Category.AGENCY_NOTIFICATION)
    result = reconcile([notice], [], window=WINDOW)
    assert (result.findings, result.other_calls, result.agency_requests) == ([], 1, 0)


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        reconcile([], [], window=dt.timedelta(minutes=-1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-03-06 09:41:00", dt.datetime(2018, 3, 6, 14, 41, tzinfo=UTC)),  # EST, UTC-5
        ("2018-03-06T09:41:00-05:00", dt.datetime(2018, 3, 6, 14, 41, tzinfo=UTC)),
        ("2018-03-06T14:41:00Z", dt.datetime(2018, 3, 6, 14, 41, tzinfo=UTC)),
        ("03/06/2018 09:41:00 AM", dt.datetime(2018, 3, 6, 14, 41, tzinfo=UTC)),
        ("2018/03/06 09:41:00", dt.datetime(2018, 3, 6, 14, 41, tzinfo=UTC)),
        ("", None),
        ("yesterday", None),
    ],
)
def test_call_times_are_read_in_the_deployments_zone_unless_they_carry_an_offset(
    text: str, expected: dt.datetime | None
) -> None:
    assert parse_call_time(text, LOUISVILLE) == expected


# --- The command, on SQLite and PostgreSQL ---------------------------------------------------


def _flagged_file(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "time", "score", "category", "evidence", "rules", "location"])
        for ident, when, category, location in rows:
            w.writerow([ident, when, "0.95", category, "ICE AGT REQ UNIT", "agency.x", location])
    return path


def _run(database_url: str, data_dir: Path, *args: str) -> Result:
    env = {
        "ASSISTGATE_DATA_DIR": str(data_dir),
        "ASSISTGATE_DATABASE_URL": database_url,
        "ASSISTGATE_TIMEZONE": "America/Kentucky/Louisville",
    }
    return CliRunner().invoke(main, ["audit", "reconcile", *args], env=env)


@pytest.fixture
def register(database_url: str, tmp_path: Path) -> tuple[str, Path]:
    """A register with three requests on 6 March 2018 (Louisville time)."""
    app = make_app(database_url, tmp_path / "data")
    try:
        local = ZoneInfo("America/Kentucky/Louisville")
        new_request(
            app,
            received_at=dt.datetime(2018, 3, 6, 9, 41, tzinfo=local),
            cad_incident_id="P18065001",
            location="1234 S 4th St",
        )
        new_request(
            app,
            received_at=dt.datetime(2018, 3, 6, 13, 10, tzinfo=local),
            location="2300 BLK Bardstown Rd",
        )
        new_request(
            app,
            received_at=dt.datetime(2018, 3, 6, 16, 0, tzinfo=local),
            cad_incident_id="P18065999",
            location="500 W Jefferson St",
        )
    finally:
        app.close()
    return database_url, tmp_path / "data"


def test_reconcile_lists_bypasses_and_unmatched_requests_from_the_register(
    register: tuple[str, Path], tmp_path: Path
) -> None:
    database_url, data_dir = register
    flagged = _flagged_file(
        tmp_path / "flagged.csv",
        [
            ("P18065001", "2018-03-06 09:40:12", "agency_request", "1200 BLK S 4TH ST"),
            ("P18065002", "2018-03-06 13:25:00", "agency_request", "2310 BARDSTOWN RD"),
            ("P18065003", "2018-03-06 15:02:00", "agency_request", "700 E MAIN ST"),
            ("P18065004", "2018-03-06 17:30:00", "agency_notification", "1 MAIN ST"),
        ],
    )
    out = tmp_path / "report.csv"
    result = _run(database_url, data_dir, str(flagged), "--out", str(out))
    assert result.exit_code == 0, result.stderr + repr(result.exception)
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["finding"], r["call_id"], r["request_ref"]) for r in rows] == [
        ("possible_bypass", "P18065003", ""),
        ("request_not_in_dispatch", "", "AG-2018-0003"),
    ]
    assert rows[0]["call_time"] == "2018-03-06T15:02-05:00"
    assert rows[1]["request_received_at"] == "2018-03-06T16:00-05:00"
    assert rows[1]["request_cad_incident_id"] == "P18065999"
    summary = result.stderr
    assert "reconciled 3 flagged agency requests with 3 requests in the register" in summary
    assert "matched: 2 (1 by CAD incident id, 1 by time and location)" in summary
    assert "possible bypasses of the policy: 1" in summary
    assert "requests not in the dispatch records: 1" in summary
    assert "left aside: 1 flagged calls of other categories" in summary


def test_reconcile_prints_json_with_the_matched_pairs_when_asked(
    register: tuple[str, Path], tmp_path: Path
) -> None:
    database_url, data_dir = register
    flagged = _flagged_file(
        tmp_path / "flagged.csv",
        [("P18065001", "2018-03-06T14:40:00Z", "agency_request", "")],
    )
    result = _run(
        database_url,
        data_dir,
        str(flagged),
        "--json",
        "--include-matched",
        "--window-minutes",
        "10",
        "--since",
        "2018-03-06",
        "--until",
        "2018-03-06",
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["window_minutes"] == 10
    assert doc["period"] == {"from": "2018-03-06T00:00-05:00", "to": "2018-03-07T00:00-05:00"}
    assert doc["counts"]["matched_by_cad_id"] == 1
    assert doc["counts"]["request_not_in_dispatch"] == 2
    outcomes = sorted((f["finding"], f["request_ref"]) for f in doc["findings"])
    assert outcomes == [
        ("matched", "AG-2018-0001"),
        ("request_not_in_dispatch", "AG-2018-0002"),
        ("request_not_in_dispatch", "AG-2018-0003"),
    ]


def test_reconcile_refuses_a_file_that_is_not_a_scan_output(
    register: tuple[str, Path], tmp_path: Path
) -> None:
    database_url, data_dir = register
    bad = tmp_path / "not-a-scan.csv"
    bad.write_text("incident,when\nP1,2018-03-06\n", encoding="utf-8")
    result = _run(database_url, data_dir, str(bad))
    assert result.exit_code == 2
    assert "no column id, time, category" in result.stderr
    assert "the file's columns are: incident, when" in result.stderr
