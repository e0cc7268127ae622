"""The dispatch-system API from JSON: intake held for review, idempotent on the CAD incident,
the decision to act on, tokens and scopes, and 422s that name the field."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistgate.app import App
from assistgate.db.base import utcnow
from assistgate.ledger.models import LedgerEntryRow
from assistgate.requests.models import Request
from assistgate.web.app import create_web_app
from assistgate.web.routes.api import HOLD_MESSAGE
from tests.factories import make_app
from tests.integrations.helpers import (
    NEW_REQUEST,
    bearer,
    cancel,
    decide,
    make_token,
    serving_api,
)


@pytest.fixture
def web_app(database_url: str, tmp_path: Path) -> Iterator[App]:
    """The app without passwords: the API signs nobody in (see tests.integrations.helpers)."""
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


def requests_stored(app: App) -> list[Request]:
    with app.sessions() as session:
        return list(session.scalars(select(Request).order_by(Request.id)))


def ledger(app: App) -> list[tuple[str, str, str]]:
    with app.sessions() as session:
        rows = session.scalars(select(LedgerEntryRow).order_by(LedgerEntryRow.seq))
        return [(r.actor, r.event, r.subject) for r in rows]


def post(client: TestClient, token: str, **changes: Any) -> httpx.Response:
    body = {k: v for k, v in {**NEW_REQUEST, **changes}.items() if v is not ...}
    response: httpx.Response = client.post("/api/v1/requests", json=body, headers=bearer(token))
    return response


# --- Intake --------------------------------------------------------------------------------------


def test_a_dispatch_system_registers_a_call_and_is_told_to_hold_it(
    client: TestClient, web_app: App, token: str
) -> None:
    response = post(client, token)
    assert response.status_code == 201
    assert response.json() == {
        "ref": "AG-2026-0001",
        "cad_incident_id": "LMPD-2026-000123",
        "state": "awaiting_review",
        "held": True,
        "message": HOLD_MESSAGE,
        "url": "/requests/AG-2026-0001",
        "api_url": "/api/v1/requests/AG-2026-0001",
    }
    assert HOLD_MESSAGE.startswith("Hold the call: a commanding officer has been alerted")
    [stored] = requests_stored(web_app)
    assert stored.call_taker == "cad", "the actor is the token's account"
    assert stored.location == "1200 block of S 4th St"
    assert stored.received_at == dt.datetime(2026, 3, 6, 14, 41, tzinfo=dt.UTC)
    assert ("cad", "request:created", "AG-2026-0001") in ledger(web_app)
    assert ("cad", "request:alerted", "AG-2026-0001") in ledger(web_app)


def test_the_same_incident_sent_again_returns_the_same_request_with_200(
    client: TestClient, web_app: App, token: str
) -> None:
    first = post(client, token)
    entries = len(ledger(web_app))
    again = post(client, token, caller_words="Resent by the CAD after a timeout.")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(requests_stored(web_app)) == 1
    assert len(ledger(web_app)) == entries, "nothing new is written"


def test_a_request_without_a_cad_incident_is_registered_each_time(
    client: TestClient, web_app: App, token: str
) -> None:
    assert post(client, token, cad_incident_id=...).status_code == 201
    assert post(client, token, cad_incident_id=...).status_code == 201
    assert len(requests_stored(web_app)) == 2


def test_received_at_defaults_to_now(client: TestClient, web_app: App, token: str) -> None:
    before = utcnow()
    assert post(client, token, received_at=...).status_code == 201
    [stored] = requests_stored(web_app)
    assert before <= stored.received_at <= utcnow()


def test_the_same_incident_posted_at_once_by_many_connections_makes_one_request(
    web_app: App, token: str
) -> None:
    with serving_api(web_app) as base:

        def send(_: int) -> httpx.Response:
            return httpx.post(f"{base}/api/v1/requests", json=NEW_REQUEST,
                              headers=bearer(token), timeout=30)  # fmt: skip

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert {a.json()["ref"] for a in answers} == {"AG-2026-0001"}
    assert len(requests_stored(web_app)) == 1


# --- Invalid bodies ------------------------------------------------------------------------------


# (what is changed in a valid body, where the 422 points, what its message says)
INVALID: list[tuple[dict[str, Any], list[Any], str]] = [
    ({"agency": ...}, ["body", "agency"], "Field required"),
    ({"agency": "fbi"}, ["body", "agency"], "'ice-ero'"),
    ({"requested_actions": []}, ["body", "requested_actions"], "at least 1"),
    ({"requested_actions": ["arrest_everyone"]}, ["body", "requested_actions", 0], "'backup'"),
    ({"requested_actions": ["backup", "backup"]}, ["body", "requested_actions", 1],
     "backup is listed twice"),
    ({"received_at": "2026-03-06T09:41:00"}, ["body", "received_at"], "timezone"),
    ({"received_at": "2999-01-01T00:00:00Z"}, ["body", "received_at"], "in the future"),
    ({"received_at": "1969-12-31T23:59:59Z"}, ["body", "received_at"], "before 1970"),
    ({"official_name": "   "}, ["body", "official_name"], "must not be empty"),
    ({"caller_words": "bad\u0000byte"}, ["body", "caller_words"], "NUL"),
    ({"location": "x" * 191}, ["body", "location"], "at most 190"),
    ({"callback_number": "5" * 41}, ["body", "callback_number"], "at most 40"),
    ({"cad_incident_id": ""}, ["body", "cad_incident_id"], "at least 1"),
    ({"identity_check": "trust_me"}, ["body", "identity_check"], "'cad_interface'"),
    ({"units": ["4A21"]}, ["body", "units"], "Extra inputs"),
]  # fmt: skip


def test_an_invalid_body_is_refused_with_422_naming_the_field(
    client: TestClient, web_app: App, token: str
) -> None:
    # One app for every case: each is refused before anything is written.
    for changes, loc, says in INVALID:
        response = post(client, token, **changes)
        assert response.status_code == 422, (changes, response.text)
        problems = response.json()["detail"]
        assert [p["loc"] for p in problems] == [loc], (changes, problems)
        assert says in problems[0]["msg"], (changes, problems)
    assert requests_stored(web_app) == []


def test_a_body_that_is_not_json_is_refused_with_422(client: TestClient, token: str) -> None:
    headers = {**bearer(token), "Content-Type": "application/json"}
    response = client.post("/api/v1/requests", content=b"{not json", headers=headers)
    assert response.status_code == 422


# --- Tokens and scopes ---------------------------------------------------------------------------


def test_a_missing_or_unknown_token_is_401(client: TestClient, web_app: App) -> None:
    missing = client.post("/api/v1/requests", json=NEW_REQUEST)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "API token is required" in missing.json()["detail"]
    wrong = client.post("/api/v1/requests", json=NEW_REQUEST, headers=bearer("agt_forged"))
    assert wrong.status_code == 401
    assert client.get("/api/v1/requests/AG-2026-0001", headers={"Authorization": "Basic x"}
                      ).status_code == 401  # fmt: skip
    assert requests_stored(web_app) == []


def test_a_revoked_token_is_401(client: TestClient, web_app: App, token: str) -> None:
    with web_app.transaction() as session:
        from assistgate.auth.models import ApiToken

        session.scalars(select(ApiToken)).one().revoked_at = utcnow()
    assert post(client, token).status_code == 401


def test_a_token_without_the_scope_is_403(client: TestClient, web_app: App) -> None:
    reader = make_token(web_app, scopes=["requests:read"], name="reader")
    writer = make_token(web_app, scopes=["requests:write"], name="writer")
    refused = post(client, reader)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "this token lacks the scope requests:write"}
    assert post(client, writer).status_code == 201
    assert client.get("/api/v1/requests/AG-2026-0001", headers=bearer(writer)).status_code == 403
    assert client.get("/api/v1/requests/AG-2026-0001", headers=bearer(reader)).status_code == 200


def test_a_token_of_an_account_that_may_not_register_requests_is_403(
    client: TestClient, web_app: App
) -> None:
    auditor = make_token(web_app, username="ig.rowe", name="auditor-script")
    response = post(client, auditor)
    assert response.status_code == 403
    assert "may not register a request" in response.json()["detail"]


# --- Reading the decision ------------------------------------------------------------------------


def test_the_dispatch_system_reads_hold_then_the_decision_to_act_on(
    client: TestClient, web_app: App, token: str
) -> None:
    ref = post(client, token).json()["ref"]
    waiting = client.get(f"/api/v1/requests/{ref}", headers=bearer(token)).json()
    assert waiting["held"] is True
    assert waiting["dispatch_allowed"] is False
    assert waiting["decision"] is None

    decide(web_app, ref)
    decided = client.get(f"/api/v1/requests/{ref}", headers=bearer(token))
    assert decided.status_code == 200
    body = decided.json()
    assert (body["state"], body["held"], body["dispatch_allowed"]) == (
        "dispatch_approved", False, True)  # fmt: skip
    decision = body["decision"]
    assert decision["outcome"] == "dispatch"
    assert decision["approved_actions"] == ["serve_criminal_warrant"]
    assert "knock_and_talk" in decision["prohibited_actions"]
    assert "commanding_officer_to_scene" in decision["required_actions"]
    assert "criminal_warrant" in decision["grounds"]
    assert decision["decided_by"] == "lt.okafor"
    assert "lmpd.ground-criminal-warrant" in decision["clauses"]
    assert decision["profiles"] == ["louisville-lmpd-2017", "louisville-ordinance-2017"]

    replay = post(client, token)
    assert replay.status_code == 200
    assert replay.json()["held"] is False, "a decided request is no longer held"
    assert "read the decision" in replay.json()["message"]


def test_a_cancelled_request_allows_no_dispatch(
    client: TestClient, web_app: App, token: str
) -> None:
    ref = post(client, token).json()["ref"]
    cancel(web_app, ref)
    body = client.get(f"/api/v1/requests/{ref}", headers=bearer(token)).json()
    assert (body["state"], body["held"], body["dispatch_allowed"]) == ("cancelled", False, False)


def test_an_unknown_reference_is_404(client: TestClient, token: str) -> None:
    response = client.get("/api/v1/requests/AG-1999-9999", headers=bearer(token))
    assert response.status_code == 404
    assert response.json() == {"detail": "no request with reference 'AG-1999-9999'"}


# --- The description -----------------------------------------------------------------------------


def test_the_openapi_description_documents_every_body_and_answer(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    intake = paths["/api/v1/requests"]["post"]
    assert intake["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewRequest"}  # fmt: skip
    assert set(intake["responses"]) == {"200", "201", "400", "401", "403", "422"}
    assert intake["security"] == [{"ApiToken": []}]
    eido = paths["/api/v1/eido"]["post"]
    assert eido["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EidoDocument"}  # fmt: skip
    assert set(paths["/api/v1/requests/{ref}"]["get"]["responses"]) == {
        "200", "401", "403", "404", "422"}  # fmt: skip
    schemas = spec["components"]["schemas"]
    assert "agencyComponent" in schemas["EidoDocument"]["required"]
    assert set(schemas["NewRequest"]["required"]) == {
        "agency", "official_name", "location", "caller_words", "requested_actions"}  # fmt: skip
    assert spec["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"


def test_the_api_lists_exactly_the_register_s_agencies_actions_and_states() -> None:
    from typing import get_args

    from assistgate.policy.facts import ACTIONS, AGENCIES
    from assistgate.requests.enums import IdentityCheck, State
    from assistgate.web.routes import api

    assert get_args(api.AgencyCode) == AGENCIES
    assert get_args(api.ActionName) == ACTIONS
    assert get_args(api.IdentityCheckName) == tuple(IdentityCheck)
    assert get_args(api.StateName) == tuple(State)


def test_api_answers_are_never_cached(client: TestClient, token: str) -> None:
    response = client.get("/api/v1/requests/AG-2026-0001", headers=bearer(token))
    assert response.headers["cache-control"] == "no-store"
