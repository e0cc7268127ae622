"""The auditor's reconciliation screen: upload a real dispatch export, see the planted bypass
with its evidence, download the findings, and get a clear message for every bad file."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from assistgate.app import App
from assistgate.audit.report import REPORT_COLUMNS
from assistgate.auth import security
from assistgate.cli.audit import audit
from assistgate.ledger.entry import Entry
from assistgate.ledger.models import LedgerEntryRow
from assistgate.web.routes import audit_reconcile
from tests.factories import LOUISVILLE, new_request
from tests.web.conftest import browser_sign_in, sign_in

HEADER = ("incident_number", "call_time", "call_type", "remarks", "location")
# One day of calls: an agency request with its request in the register (matched by id), one
# with no request at all (the planted bypass), and calls that only look like one.
CALLS = [
    ("P18-0001", "2018-03-06 09:40:00", "ASSIST OTHER AGENCY",
     "ICE ERO AGT ON SCENE AT 1234 S 4TH ST, REQ 2 UNITS FOR WARRANT SVC", "1234 S 4TH ST"),
    ("P18-0002", "2018-03-06 13:05:00", "ASSIST OTHER AGENCY",
     "HSI SA ADV NEED 10-78 FOR ARREST TEAM AT 900 W BROADWAY", "900 W BROADWAY"),
    ("P18-0003", "2018-03-06 07:15:00", "TRAFFIC HAZARD",
     "ICE ON RDWY AT 9TH ST RAMP, REQ SALT TRUCK", "9TH ST / MAIN ST"),
    ("P18-0004", "2018-03-06 11:02:00", "THEFT",
     "SHOPLIFTER TOOK 3 BAGS OF ICE FROM SPEEDWAY, REQ OFFICER", "4100 DIXIE HWY"),
    ("P18-0005", "2018-03-06 16:30:00", "DOMESTIC",
     "CALLER STATES HUSBAND WAS DETAINED BY ICE, WANTS TO KNOW WHERE", "2300 BARDSTOWN RD"),
    ("P18-0006", "2018-03-06 18:45:00", "DISORDER",
     "REQ UNIT FOR DISORDERLY SUBJ, ZERO VISIBILITY IN LOT", "500 S 3RD ST"),
]  # fmt: skip


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with Argon2id at its cheapest: the same code, a hundredth of the time."""
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                            parallelism=1))  # fmt: skip


@pytest.fixture
def register(web_app: App) -> dict[str, str]:
    """Two requests: one for the first call's incident, one whose incident is not exported."""
    matched = new_request(web_app, received_at=dt.datetime(2018, 3, 6, 9, 41, tzinfo=LOUISVILLE),
                          cad_incident_id="P18-0001").ref  # fmt: skip
    lost = new_request(web_app, received_at=dt.datetime(2018, 3, 6, 12, 0, tzinfo=LOUISVILLE),
                       cad_incident_id="P18-0404", location="700 W Main St").ref  # fmt: skip
    return {"matched": matched, "lost": lost}


def write_export(folder: Path, fmt: str, rows: Sequence[tuple[str, ...]] = CALLS) -> Path:
    """Write the calls as the dispatch system would: CSV, gzip CSV, Parquet or JSON Lines."""
    plain = folder / "calls.csv"
    with plain.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    if fmt == "csv":
        return plain
    if fmt == "csv.gz":
        packed = folder / "calls.csv.gz"
        packed.write_bytes(gzip.compress(plain.read_bytes()))
        return packed
    target = folder / ("calls.parquet" if fmt == "parquet" else "calls.jsonl")
    option = "FORMAT parquet" if fmt == "parquet" else "FORMAT json"
    con = duckdb.connect()
    try:
        con.execute(f"COPY (SELECT * FROM read_csv('{plain}', all_varchar=true)) "
                    f"TO '{target}' ({option})")  # fmt: skip
    finally:
        con.close()
    return target


@pytest.fixture
def auditor(client: TestClient) -> TestClient:
    assert sign_in(client, "ig.rowe").headers["location"] == "/audit"
    return client


def token(client: TestClient) -> str:
    page = client.get("/audit/reconcile")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def upload(
    client: TestClient,
    path: Path | None,
    *,
    name: str | None = None,
    content: bytes | None = None,
    as_csv: bool = False,
    **fields: str,
) -> Any:
    data = {"csrf_token": token(client), "kind": "internal", "window": "30", **fields}
    if as_csv:
        data["as"] = "csv"
    files = {}
    if path is not None or content is not None:
        body = content if content is not None else path.read_bytes() if path else b""
        files["export"] = (name or (path.name if path else "export.csv"), body)
    return client.post("/audit/reconcile", data=data, files=files)


def events(app: App, event: str) -> list[dict[str, Any]]:
    with app.sessions() as db:
        rows = db.scalars(select(LedgerEntryRow).where(LedgerEntryRow.event == event)
                          .order_by(LedgerEntryRow.seq))  # fmt: skip
        return [{"actor": r.actor, "subject": r.subject, **Entry.from_bytes(r.body).data}
                for r in rows]  # fmt: skip


def bypass_ids(html: str) -> list[str]:
    section = html.split('id="bypass-h"')[1].split('id="missing-h"')[0]
    return re.findall(r"<tr><td>(P18-\d+)</td>", section)


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet", "jsonl"])
def test_an_uploaded_export_shows_the_call_with_no_request_and_its_quoted_evidence(
    auditor: TestClient, web_app: App, register: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    export = write_export(tmp_path, fmt)
    page = upload(auditor, export)
    assert page.status_code == 200, page.text
    html = page.text
    assert bypass_ids(html) == ["P18-0002"]
    assert "Possible bypasses: 1" in html
    assert "<q>HSI SA</q>" in html
    assert "<q>NEED 10-78</q>" in html
    assert "no request has CAD incident &#39;P18-0002&#39;" in html
    missing = html.split('id="missing-h"')[1]
    assert "Requests whose incident is not in the export: 1" in html
    assert f'href="/audit/requests/{register["lost"]}"' in missing
    assert register["matched"] not in missing
    assert "Read 6 rows" in html
    digest = hashlib.sha256(export.read_bytes()).hexdigest()
    [uploaded] = events(web_app, "audit:export_uploaded")
    assert uploaded == {"actor": "ig.rowe", "subject": f"upload:{digest[:16]}",
                        "file": export.name, "bytes": export.stat().st_size,
                        "sha256": digest, "kind": "internal", "refused": ""}  # fmt: skip
    [ran] = events(web_app, "audit:reconciled")
    assert (ran["actor"], ran["subject"]) == ("ig.rowe", f"upload:{digest[:16]}")
    assert (ran["flagged_agency_requests"], ran["matched"], ran["possible_bypass"],
            ran["request_not_in_dispatch"], ran["rows_scanned"]) == (2, 1, 1, 1, 6)  # fmt: skip


def test_a_flagged_csv_from_the_scan_command_is_reconciled_as_it_is(
    auditor: TestClient, register: dict[str, str], tmp_path: Path
) -> None:
    flagged = tmp_path / "flagged.csv"
    done = CliRunner().invoke(audit, ["scan", str(write_export(tmp_path, "csv")),
                                      "--preset", "internal", "--out", str(flagged)])  # fmt: skip
    assert done.exit_code == 0, done.output
    page = upload(auditor, flagged, kind="flagged")
    assert page.status_code == 200, page.text
    assert bypass_ids(page.text) == ["P18-0002"]
    assert "Read " not in page.text  # nothing was scanned: the file was the scan


def test_the_findings_download_as_csv_with_the_commands_columns(
    auditor: TestClient, web_app: App, register: dict[str, str], tmp_path: Path
) -> None:
    response = upload(auditor, write_export(tmp_path, "csv.gz"), as_csv=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="reconciliation-calls.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == REPORT_COLUMNS
    found = {(r["finding"], r["call_id"] or r["request_ref"]) for r in rows}
    assert found == {("possible_bypass", "P18-0002"),
                     ("request_not_in_dispatch", register["lost"])}  # fmt: skip
    bypass = next(r for r in rows if r["finding"] == "possible_bypass")
    assert bypass["evidence"] == "HSI SA | NEED 10-78 | ASSIST OTHER AGENCY"
    assert bypass["call_time"] == "2018-03-06T13:05-05:00"
    assert len(events(web_app, "audit:reconciled")) == 1


def test_a_period_given_lists_a_request_of_the_period_even_before_the_first_call(
    auditor: TestClient, web_app: App, register: dict[str, str], tmp_path: Path
) -> None:
    early = new_request(web_app, received_at=dt.datetime(2018, 3, 6, 1, 0, tzinfo=LOUISVILLE),
                        location="1 Main St").ref  # fmt: skip
    export = write_export(tmp_path, "csv")
    without = upload(auditor, export).text.split('id="missing-h"')[1]
    assert early not in without
    within = upload(auditor, export, since="2018-03-06", until="2018-03-06").text
    assert early in within.split('id="missing-h"')[1]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("calls.csv", b"incident,when,what\nP1,2018-03-06,ICE REQ UNIT\n",
         "calls.csv: no id column &#39;incident_number&#39; or &#39;event_number&#39; or "
         "&#39;cad_number&#39;; the file&#39;s columns are: incident, when, what"),
        ("calls.csv.gz", gzip.compress(b"incident_number,remarks\n" + "".join(
            f"P{i},REQ UNIT {i * 7919 % 10007}\n" for i in range(5000)).encode())[:4000],
         "calls.csv.gz: the gzip stream ends early"),
        ("calls.csv", b"incident_number,call_time,call_type,remarks,location\n"
         b"P1,2018-03-06 10:00,THEFT,REQ UNIT,1 MAIN ST\nP2,2018-03-06 11:00,\"ICE REQ\n",
         "calls.csv, line 3"),
        ("calls.csv", b"", "calls.csv: the file is empty"),
        ("calls.parquet", b"PAR1 not really", "calls.parquet: not a readable Parquet file"),
        ("calls.xlsx", b"incident_number,remarks\nP1,ICE REQ UNIT\n",
         "calls.xlsx: expected a .csv, .csv.gz, .parquet or .jsonl file"),
    ],
    ids=["missing-column", "truncated-gzip", "broken-line", "empty", "bad-parquet", "xlsx"],
)  # fmt: skip
def test_a_bad_file_gets_the_page_again_with_a_message_naming_the_file(
    auditor: TestClient, web_app: App, register: dict[str, str],
    name: str, content: bytes, expected: str,
) -> None:  # fmt: skip
    page = upload(auditor, None, name=name, content=content)
    assert page.status_code == 422
    assert "The file was not reconciled." in page.text
    assert expected in page.text
    assert 'enctype="multipart/form-data"' in page.text  # the form, to try again
    assert "assistgate-upload-" not in page.text  # the server's temporary copy is never named
    [uploaded] = events(web_app, "audit:export_uploaded")
    assert uploaded["file"] == name
    assert uploaded["refused"]
    assert events(web_app, "audit:reconciled") == []


def test_a_malformed_form_is_refused_with_the_field_named(
    auditor: TestClient, web_app: App, tmp_path: Path
) -> None:
    export = write_export(tmp_path, "csv")
    cases = [
        (upload(auditor, None), "export: choose the file to upload"),
        (upload(auditor, export, kind="lpr_log"), "kind: &#39;lpr_log&#39; is not one of"),
        (upload(auditor, export, window="-5"), "window: expected whole minutes"),
        (upload(auditor, export, since="March"), "since: expected a date like 2018-03-06"),
        (upload(auditor, export, since="2018-03-07", until="2018-03-06"),
         "until: the end of the period is before its start"),
    ]  # fmt: skip
    for page, expected in cases:
        assert page.status_code == 400
        assert expected in page.text
    assert events(web_app, "audit:export_uploaded") == []


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    auditor: TestClient, web_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_reconcile, "UPLOAD_LIMIT", 2048)
    page = upload(auditor, None, name="calls.csv", content=b"incident_number,remarks\n" * 200)
    assert page.status_code == 413
    assert "larger than the limit" in page.text
    assert events(web_app, "audit:export_uploaded") == []


def test_an_upload_that_does_not_declare_its_length_is_refused(
    auditor: TestClient, web_app: App, tmp_path: Path
) -> None:
    body = write_export(tmp_path, "csv").read_bytes()

    def chunks() -> Iterator[bytes]:  # sent chunked: no Content-Length
        yield body

    page = auditor.post("/audit/reconcile", content=chunks(),
                        headers={"content-type": "multipart/form-data; boundary=x"})  # fmt: skip
    assert page.status_code == 411
    assert "must declare its length" in page.text
    assert events(web_app, "audit:export_uploaded") == []


def test_only_auditors_reconcile_and_only_with_the_forms_token(
    client: TestClient, web_app: App, tmp_path: Path
) -> None:
    sign_in(client, "maj.chen")
    assert client.get("/audit/reconcile").status_code == 403
    assert "Reconcile a dispatch export" not in client.get("/audit").text
    client.post("/logout", data={"csrf_token": re.findall(
        r'name="csrf_token" value="([^"]+)"', client.get("/audit").text)[0]})  # fmt: skip
    sign_in(client, "ig.rowe")
    assert "Reconcile a dispatch export" in client.get("/audit").text
    export = write_export(tmp_path, "csv")
    forged = client.post("/audit/reconcile", data={"kind": "internal", "csrf_token": "x"},
                         files={"export": ("calls.csv", export.read_bytes())})  # fmt: skip
    assert forged.status_code == 403
    assert events(web_app, "audit:export_uploaded") == []


def test_an_auditor_uploads_an_export_in_chromium_and_sees_the_planted_bypass(
    web_app: App, register: dict[str, str], live_server: str, page: Page, tmp_path: Path
) -> None:
    export = write_export(tmp_path, "csv.gz")
    browser_sign_in(page, live_server, "ig.rowe")
    page.get_by_role("link", name="Reconcile a dispatch export").click()
    expect(page.get_by_role("heading", name="Reconcile a dispatch export with the register"))\
        .to_be_visible()  # fmt: skip
    page.get_by_label("File (CSV").set_input_files(str(export))
    page.get_by_label("What the file is").select_option("internal")
    page.get_by_role("button", name="Reconcile", exact=True).click()
    expect(page.get_by_role("heading", name="Possible bypasses: 1")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="P18-0002")
    expect(row).to_contain_text("HSI SA")
    expect(row).to_contain_text("NEED 10-78")
    expect(page.get_by_role("link", name=register["lost"])).to_be_visible()
    page.get_by_label("File (CSV").set_input_files(str(export))
    with page.expect_download() as download:
        page.get_by_role("button", name="Reconcile and download the findings as CSV").click()
    saved = tmp_path / "findings.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(saved.open(encoding="utf-8", newline="")))
    assert [r["call_id"] for r in rows if r["finding"] == "possible_bypass"] == ["P18-0002"]
