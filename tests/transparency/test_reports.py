"""Reports: the same bytes on every build, the checkpoint they name, the oversight formats."""

from __future__ import annotations

import csv
import io
import json

import pytest

from assistgate.app import App
from assistgate.ledger.checkpoint import SignedCheckpoint, verify_checkpoint
from assistgate.ledger.models import LedgerHead
from assistgate.transparency.oversight import OREGON_COLUMNS, verify_statement
from assistgate.transparency.periods import parse_period
from assistgate.transparency.reports import (
    CHECKPOINT_FILE,
    FORMATS,
    ReportData,
    ReportError,
    build_report,
    gather,
)
from tests.transparency.conftest import ZONE

PERIOD_FOR = {"illinois-annual": "2018", "chicago-quarterly": "2018-Q1"}


def data_of(app: App, period: str) -> ReportData:
    with app.sessions() as session:
        return gather(
            session,
            parse_period(period, ZONE),
            public_key=app.keys.ledger_public_key(),
            origin=app.settings.ledger_origin,
            public_body="Louisville Metro Police Department",
            county="Jefferson",
        )


def build(app: App, fmt: str, period: str | None = None) -> dict[str, bytes]:
    data = data_of(app, period or PERIOD_FOR.get(fmt, "2018-Q1"))
    return build_report(data, fmt, signing_key=app.keys.ledger_private_key())


@pytest.mark.parametrize("fmt", FORMATS)
def test_building_a_report_twice_gives_the_same_bytes(
    app: App, march: dict[str, str], fmt: str
) -> None:
    first, second = build(app, fmt), build(app, fmt)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name
    assert CHECKPOINT_FILE in first


def test_the_report_names_the_ledger_head_checkpoint_which_verifies(
    app: App, march: dict[str, str]
) -> None:
    files = build(app, "json")
    report = json.loads(files["report-2018-Q1.json"])
    with app.sessions() as session:
        head = session.get(LedgerHead, 1)
        assert head is not None
        size = head.size
    cp = report["built_from"]["checkpoint"]
    assert cp["size"] == size
    signed = SignedCheckpoint.from_json(json.loads(files[CHECKPOINT_FILE]))
    checked = verify_checkpoint(signed, app.keys.ledger_public_key())
    assert checked.root.hex() == cp["root_hex"]
    assert f"tree size {size}, root hash {cp['root_hex']}" in report["built_from"]["statement"]
    html = build(app, "html")["report-2018-Q1.html"].decode()
    assert f"tree size {size}, root hash {cp['root_hex']}" in html
    figures = build(app, "csv")["report-2018-Q1-figures.csv"].decode()
    assert f"built_from,root_hash,{cp['root_hex']}" in figures


def test_a_new_step_in_the_register_changes_the_report(app: App, march: dict[str, str]) -> None:
    from tests.factories import new_request
    from tests.transparency.conftest import local

    before = build(app, "json")
    new_request(app, received_at=local(2018, 2, 2, 10, 0))
    after = build(app, "json")
    assert before["report-2018-Q1.json"] != after["report-2018-Q1.json"]
    assert json.loads(after["report-2018-Q1.json"])["figures"]["received"] == 6


def test_the_pdf_is_a_pdf_with_a_fixed_creation_date(app: App, march: dict[str, str]) -> None:
    pdf = build(app, "pdf")["report-2018-Q1.pdf"]
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert b"/CreationDate (D:20000101000000" in pdf


def test_the_oregon_table_has_the_commission_columns_and_a_row_per_request(
    app: App, march: dict[str, str]
) -> None:
    table = build(app, "oregon-cjc", "2018-03")["oregon-cjc-2018-03.csv"].decode()
    rows = list(csv.reader(io.StringIO(table)))
    assert tuple(rows[0]) == OREGON_COLUMNS
    assert [r[0] for r in rows[1:]] == sorted([march[k] for k in "ABCDF"])
    a = next(r for r in rows if r[0] == march["A"])
    assert a[1:4] == [
        "Louisville Metro Police Department",
        "Jefferson",
        "ICE Enforcement and Removal Operations",
    ]
    assert (
        a[7] == "officers sent for the permitted actions only; refused: knock on a door with agents"
    )


def test_the_oregon_table_needs_the_public_body_and_county(app: App) -> None:
    data = data_of(app, "2018")
    bare = ReportData(data.origin, data.figures, data.rows, data.records, data.checkpoint)
    with pytest.raises(ReportError, match="public body and the county"):
        build_report(bare, "oregon-cjc")


def test_the_illinois_report_lists_every_request_and_its_signed_statement_verifies(
    app: App, march: dict[str, str]
) -> None:
    files = build(app, "illinois-annual")
    statement, signature = (
        files["illinois-2018-statement.txt"],
        files["illinois-2018-statement.sig"],
    )
    assert (
        b"6 requests for help from federal immigration agencies were received in 2018" in statement
    )
    assert verify_statement(statement, signature, app.keys.ledger_public_key())
    assert not verify_statement(statement.replace(b"6 requests", b"5 requests"), signature,
                                app.keys.ledger_public_key())  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(files["illinois-2018-requests.csv"].decode())))
    assert len(rows) == 6
    assert {r["how_handled"] for r in rows if r["reference"] == march["C"]} == {
        "withdrawn by the agency before a decision"
    }


def test_a_year_without_requests_gets_a_signed_no_requests_statement(app: App) -> None:
    files = build(app, "illinois-annual", "2019")
    statement = files["illinois-2019-statement.txt"]
    assert (
        b"No requests for help from federal immigration agencies were received in 2019."
        in statement
    )
    assert "illinois-2019-requests.csv" not in files
    assert verify_statement(
        statement, files["illinois-2019-statement.sig"], app.keys.ledger_public_key()
    )


def test_the_chicago_lists_give_each_warrant_or_detainer_and_whether_anyone_was_transferred(
    app: App, march: dict[str, str]
) -> None:
    files = build(app, "chicago-quarterly")
    warrants = list(
        csv.DictReader(io.StringIO(files["chicago-2018-Q1-warrants-detainers.csv"].decode()))
    )
    assert [(w["reference"], w["kind"], w["transferred"]) for w in warrants] == [
        (march["A"], "judicial_criminal", "no"),
        (march["B"], "administrative_immigration", "no"),
    ]
    requests = list(csv.DictReader(io.StringIO(files["chicago-2018-Q1-requests.csv"].decode())))
    assert len(requests) == 5


@pytest.mark.parametrize(
    ("fmt", "period"), [("illinois-annual", "2018-Q1"), ("chicago-quarterly", "2018")]
)
def test_an_oversight_format_refuses_a_period_it_is_not_for(
    app: App, fmt: str, period: str
) -> None:
    with pytest.raises(ReportError, match="not " + period):
        build(app, fmt, period)
