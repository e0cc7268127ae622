"""The auditor's screens: search and filter every request, read one (and the reading is
recorded), export the selection, and check the ledger with its signed checkpoint and key."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from assistgate.app import App
from assistgate.auth import security
from assistgate.ledger.entry import Entry
from assistgate.ledger.keys import public_key_pem
from assistgate.ledger.models import LedgerEntryRow
from assistgate.requests import service
from assistgate.requests.models import Request
from assistgate.web.routes.audit_pages import CSV_COLUMNS
from tests.factories import LOUISVILLE, WARRANT_FACTS, new_request
from tests.web.conftest import browser_sign_in, sign_in


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with Argon2id at its cheapest: the same code, a hundredth of the time."""
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                            parallelism=1))  # fmt: skip


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2018, 3, day, hour, 0, tzinfo=LOUISVILLE)


def decide(app: App, ref: str, *, day: int, facts: dict[str, Any], approve: list[str]) -> None:
    with app.transaction() as db:
        okafor = app.user(db, "lt.okafor")
        service.claim(db, app.deployment, actor=okafor, ref=ref, now=at(day, 11))
        service.decide(db, app.deployment, actor=okafor, ref=ref, facts=facts, approve=approve,
                       note="Warrant confirmed with the clerk", now=at(day, 12))  # fmt: skip


@pytest.fixture
def register(web_app: App) -> dict[str, str]:
    """Four requests: dispatched on a warrant, declined, flagged, and one still waiting."""
    warrant = new_request(web_app, received_at=at(1)).ref
    decide(web_app, warrant, day=1, facts=WARRANT_FACTS, approve=["serve_criminal_warrant"])
    declined = new_request(web_app, received_at=at(5), agency="ice-hsi",
                           requested_actions=["backup"]).ref  # fmt: skip
    decide(web_app, declined, day=5, facts={}, approve=[])
    flagged = new_request(web_app, received_at=at(9), agency="cbp",
                          official_name="=HYPERLINK(\"http://evil.example\")",
                          requested_actions=["locate_person"]).ref  # fmt: skip
    with web_app.transaction() as db:
        service.record_exception(db, web_app.deployment, actor=web_app.user(db, "maj.chen"),
                                 ref=flagged, kind="no_recording",
                                 reason="Recorder outage on the command line",
                                 now=at(9, 15))  # fmt: skip
    waiting = new_request(web_app, received_at=at(20)).ref
    return {"warrant": warrant, "declined": declined, "flagged": flagged, "waiting": waiting}


@pytest.fixture
def auditor(client: TestClient) -> TestClient:
    assert sign_in(client, "ig.rowe").headers["location"] == "/audit"
    return client


def refs_on(html: str) -> list[str]:
    return re.findall(r'href="/audit/requests/([A-Z0-9-]+)"', html)


def events(app: App, event: str) -> list[dict[str, Any]]:
    with app.sessions() as db:
        rows = db.scalars(select(LedgerEntryRow).where(LedgerEntryRow.event == event)
                          .order_by(LedgerEntryRow.seq))  # fmt: skip
        return [{"actor": r.actor, "subject": r.subject, **Entry.from_bytes(r.body).data}
                for r in rows]  # fmt: skip


def test_the_auditor_finds_requests_by_date_agency_decision_ground_exception_and_state(
    auditor: TestClient, register: dict[str, str]
) -> None:
    r = register
    assert set(refs_on(auditor.get("/audit").text)) == set(r.values())
    searches = {
        "date_from=2018-03-02&date_to=2018-03-09": {r["declined"], r["flagged"]},
        "agency=ice-hsi": {r["declined"]},
        "outcome=dispatch": {r["warrant"]},
        "outcome=decline": {r["declined"]},
        "outcome=undecided": {r["flagged"], r["waiting"]},
        "ground=criminal_warrant": {r["warrant"]},
        "review=flagged": {r["flagged"]},
        "review=exception": {r["flagged"]},
        "review=clean": {r["warrant"], r["declined"], r["waiting"]},
        "state=awaiting_review": {r["flagged"], r["waiting"]},
        "agency=ice-ero&outcome=dispatch&date_to=2018-03-01": {r["warrant"]},
    }
    for query, expected in searches.items():
        page = auditor.get(f"/audit?{query}")
        assert set(refs_on(page.text)) == expected, query
        assert f"{len(expected)} of 4 requests match" in page.text
    odd = auditor.get("/audit?date_from=March&agency=fbi")
    assert "Some filters were ignored" in odd.text
    assert len(refs_on(odd.text)) == 4


def test_opening_a_request_shows_it_read_only_and_records_the_view(
    auditor: TestClient, web_app: App, register: dict[str, str]
) -> None:
    ref = register["warrant"]
    page = auditor.get(f"/audit/requests/{ref}")
    assert page.status_code == 200
    text = page.text
    for shown in ("Deportation Officer K. Marsh (fictional)", "Officers sent, by lt.okafor",
                  "Warrant confirmed with the clerk", "criminal warrant",
                  "lmpd.ground-criminal-warrant", "request:decided", "intact"):  # fmt: skip
        assert shown in text, shown
    forms = re.findall(r'<form[^>]*action="([^"]+)"', text)
    assert forms == ["/logout"], f"a read-only page holds forms that write: {forms}"
    assert events(web_app, "access:request_viewed") == [
        {"actor": "ig.rowe", "subject": ref, "via": "audit", "roles": ["auditor"]}
    ]
    again = auditor.get(f"/audit/requests/{ref}").text
    assert "Who opened it before you" in again
    assert again.count(">ig.rowe<") >= 1
    assert auditor.get("/audit/requests/AG-1999-9999").status_code == 404


def test_the_export_holds_the_selection_with_the_inspectors_columns_and_is_recorded(
    auditor: TestClient, web_app: App, register: dict[str, str]
) -> None:
    response = auditor.get("/audit/export.csv?outcome=decline")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["ref"] for r in rows] == [register["declined"]]
    row = rows[0]
    assert tuple(row) == CSV_COLUMNS
    assert row["agency"] == "ice-hsi"
    assert row["decision"] == "decline"
    assert row["received_at"] == "2018-03-05T10:00:00-05:00"
    assert row["minutes_to_decision"] == "120.0"
    assert "lmpd.three-grounds" in row["clauses"]
    # The agency's narrative and the street address stay out of bulk exports.
    assert "caller_words" not in row
    assert "location" not in row
    everything = list(csv.DictReader(io.StringIO(auditor.get("/audit/export.csv").text)))
    assert len(everything) == 4
    flagged = next(r for r in everything if r["ref"] == register["flagged"])
    assert flagged["official_name"].startswith("'=")  # a spreadsheet shows it, never runs it
    assert flagged["exceptions"] == "no_recording: Recorder outage on the command line"
    assert flagged["flagged_for_review"] == "yes"
    exported = events(web_app, "audit:exported")
    assert [(e["actor"], e["rows"], e["filters"]) for e in exported] == [
        ("ig.rowe", 1, {"outcome": "decline"}), ("ig.rowe", 4, {})
    ]  # fmt: skip


def test_commanders_may_search_but_not_export(client: TestClient, register: dict[str, str]) -> None:
    sign_in(client, "maj.chen")
    page = client.get("/audit")
    assert len(refs_on(page.text)) == 4
    assert "Export these" not in page.text
    assert client.get("/audit/export.csv").status_code == 403


def test_the_ledger_page_verifies_on_demand_and_shows_the_checkpoint_and_key(
    auditor: TestClient, web_app: App, register: dict[str, str]
) -> None:
    page = auditor.get("/audit/ledger").text
    assert "the signature verifies with the public key below" in page
    assert public_key_pem(web_app.keys.ledger_public_key()).strip() in page
    assert "&#34;signature&#34;:" in page  # the checkpoint JSON, HTML-escaped
    checkpoint = auditor.get("/audit/ledger/checkpoint.json").json()
    assert set(checkpoint) == {"origin", "size", "root", "at", "key_id", "signature"}
    assert auditor.get("/audit/ledger/public-key.pem").text.startswith("-----BEGIN PUBLIC KEY")

    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    ok = auditor.post("/audit/ledger/verify", data={"csrf_token": token.group(1)})
    assert "The ledger verifies" in ok.text
    assert "4 requests, 2 decisions" in ok.text

    with web_app.transaction() as db:
        db.execute(update(Request).where(Request.ref == register["declined"])
                   .values(agency="ice-ero"))  # fmt: skip
    bad = auditor.post("/audit/ledger/verify", data={"csrf_token": token.group(1)})
    assert "THE LEDGER DOES NOT VERIFY" in bad.text
    assert f"request {register['declined']} differs from its ledger entries in agency" in bad.text
    assert [e["ok"] for e in events(web_app, "audit:ledger_verified")] == [True, False]


def test_an_auditor_reads_a_request_in_chromium_and_finds_nothing_to_change(
    web_app: App, live_server: str, page: Page
) -> None:
    ref = new_request(web_app, received_at=at(2)).ref
    decide(web_app, ref, day=2, facts=WARRANT_FACTS, approve=["serve_criminal_warrant"])
    browser_sign_in(page, live_server, "ig.rowe")
    expect(page.get_by_role("heading", name="Every request")).to_be_visible()
    page.get_by_label("Decision").select_option("dispatch")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=ref).click()
    expect(page.get_by_role("heading", name="What the policy said")).to_be_visible()
    expect(page.get_by_text("lmpd.ground-criminal-warrant").first).to_be_visible()
    buttons = [b.strip() for b in page.get_by_role("button").all_inner_texts()]
    assert buttons == ["Sign out"], buttons
