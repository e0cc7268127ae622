"""What the people running the service see: /readyz, /metrics and the JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistgate.app import App
from assistgate.db.base import utcnow
from assistgate.integrations.models import OutboxMessage
from assistgate.ledger.keys import FileKeyStore
from assistgate.operations.logs import JsonFormatter, RequestIdFilter
from assistgate.recordings.models import Recording, RecordingReview
from assistgate.web.app import create_web_app
from tests.integrations.helpers import NEW_REQUEST, add_endpoint, bearer, decide, make_token
from tests.web.conftest import sign_in
from tests.web.test_floor import WARRANT, alerts_on_page, open_floor_app, token

SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")


@pytest.fixture
def web_app(database_url: str, tmp_path: Path) -> Iterator[App]:
    yield from open_floor_app(database_url, tmp_path)


@pytest.fixture
def web(web_app: App) -> FastAPI:
    return create_web_app(web_app)


@pytest.fixture
def client(web: FastAPI) -> Iterator[TestClient]:
    with TestClient(web, base_url="http://127.0.0.1") as c:
        yield c


def samples(text: str) -> dict[str, float]:
    """Parse an exposition page into {name{labels}: value}, checking every line's form."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        value = match.group(3)
        found[match.group(1) + (match.group(2) or "")] = float("inf" if value == "+Inf" else value)
    return found


# --- /readyz ----------------------------------------------------------------------------------


def test_readyz_answers_200_with_each_check_when_all_is_well(
    client: TestClient, web_app: App
) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "failing": [], "checks": {
        "database": "ok", "key_store": "ok", "recording_store": "ok", "outbox": "ok"}}  # fmt: skip


def test_readyz_names_a_missing_signing_key(web_app: App, tmp_path: Path) -> None:
    web_app.keys = FileKeyStore(tmp_path / "no-keys-here")
    with TestClient(create_web_app(web_app), base_url="http://127.0.0.1") as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["key_store"]
    assert response.json()["checks"]["key_store"] == "the ledger's signing key is missing"
    assert str(tmp_path) not in response.text  # no path is shown to whoever asks


def test_readyz_names_a_recordings_folder_it_cannot_write(web_app: App) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into any folder whatever its mode")
    folder = web_app.settings.data_dir / "recordings"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with TestClient(create_web_app(web_app), base_url="http://127.0.0.1") as client:
            response = client.get("/readyz")
    finally:
        folder.chmod(0o700)
    assert response.status_code == 503
    assert response.json()["failing"] == ["recording_store"]


def test_readyz_names_an_exposed_recordings_key(web_app: App) -> None:
    keys = web_app.settings.data_dir / "keys"
    keys.mkdir()
    (keys / "recordings-aes256.key").write_text("ab" * 32 + "\n")
    (keys / "recordings-aes256.key").chmod(0o644)
    with TestClient(create_web_app(web_app), base_url="http://127.0.0.1") as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["recording_store"] == "the recordings' key is unusable"


def test_readyz_names_a_stopped_outbox_worker_and_an_unreachable_database(
    web: FastAPI, web_app: App
) -> None:
    stopped = threading.Thread(target=lambda: None)
    stopped.start()
    stopped.join()
    web.state.outbox_worker = stopped
    with TestClient(web, base_url="http://127.0.0.1") as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["failing"] == ["outbox"]
        # The database goes away: an engine pointed at nothing that answers.
        from assistgate.db.session import make_engine

        web_app.engine = make_engine("postgresql+psycopg://nobody:pw@127.0.0.1:9/none")
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"
    assert "pw" not in response.text


# --- /metrics ---------------------------------------------------------------------------------


def test_metrics_need_a_token_with_the_metrics_scope(client: TestClient, web_app: App) -> None:
    assert client.get("/metrics").status_code == 401
    cad = make_token(web_app, name="cad-rw")  # a dispatch system's token may not read them
    assert client.get("/metrics", headers=bearer(cad)).status_code == 403
    sign_in(client, "ig.rowe")  # nor may a person's session
    assert client.get("/metrics").status_code == 401


def test_metrics_count_the_register_the_outbox_the_review_queue_and_http_latency(
    client: TestClient, web_app: App
) -> None:
    monitor = make_token(web_app, scopes=["metrics:read"], name="prometheus")
    cad = make_token(web_app, name="cad-rw")
    add_endpoint(web_app, name="cad-main", url="http://127.0.0.1:9/hook")
    refs = []
    for n in range(3):
        body = {**NEW_REQUEST, "cad_incident_id": f"LMPD-2026-{n:06d}"}
        answer = client.post("/api/v1/requests", headers=bearer(cad), json=body)
        assert answer.status_code == 201, answer.text
        refs.append(answer.json()["ref"])
    decide(web_app, refs[0])
    with web_app.transaction() as session:
        recording = Recording(sha256="a" * 64, size=1, duration_seconds=1.0, format="wav",
                              codec="pcm_s16le", sample_rate=8000, channels=1,
                              original_name="x.wav", source="folder", received_at=utcnow(),
                              received_by="cad", retain_until=utcnow())  # fmt: skip
        session.add(recording)
        session.flush()
        session.add(RecordingReview(recording_id=recording.id, reason="no sidecar",
                                    created_at=utcnow()))  # fmt: skip
        backlog = session.query(OutboxMessage).count()
    response = client.get("/metrics", headers=bearer(monitor))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    got = samples(response.text)
    assert got['assistgate_requests{state="awaiting_review"}'] == 2
    assert got['assistgate_requests{state="dispatch_approved"}'] == 1
    assert got['assistgate_requests{state="closed"}'] == 0
    assert got["assistgate_time_to_decision_seconds_count"] == 1
    assert got['assistgate_time_to_decision_seconds_bucket{le="+Inf"}'] == 1
    assert backlog >= 1
    assert got["assistgate_outbox_backlog"] == backlog
    assert got["assistgate_outbox_oldest_undelivered_age_seconds"] >= 0
    assert got["assistgate_recordings_awaiting_match"] == 1
    with web_app.sessions() as session:
        from assistgate.ledger.models import LedgerEntryRow

        assert got["assistgate_ledger_entries"] == session.query(LedgerEntryRow).count()
    # The three intakes, by their route's template and status, never by their reference.
    intake = 'method="POST",route="/api/v1/requests",status="201"'
    assert got[f"assistgate_http_request_duration_seconds_count{{{intake}}}"] == 3
    assert got[f'assistgate_http_request_duration_seconds_bucket{{{intake},le="+Inf"}}'] == 3
    assert not any(ref in response.text for ref in refs)
    # Buckets are cumulative.
    buckets = [v for k, v in got.items() if k.startswith(
        f"assistgate_http_request_duration_seconds_bucket{{{intake}")]  # fmt: skip
    assert buckets == sorted(buckets)


# --- Request ids and the JSON log -------------------------------------------------------------


def test_each_response_carries_a_request_id_and_a_given_one_is_kept(client: TestClient) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    given = client.get("/healthz", headers={"X-Request-ID": "nginx-4f2a9c"})
    assert given.headers["x-request-id"] == "nginx-4f2a9c"
    # Anything but a plain token is replaced, so nobody can write into the log through it.
    odd = client.get("/healthz", headers={"X-Request-ID": 'x" injected {'})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["x-request-id"])


def test_a_full_intake_and_decision_leave_log_lines_without_personal_data(
    web: FastAPI, web_app: App
) -> None:
    personal = {"official_name": "Deportation Officer Quillon Zabrowski",
                "official_badge": "Badge ZQ-77123", "callback_number": "502-555-0199",
                "location": "8812 Wexmoor Lane", "identity_note": "Known voice of Zabrowski",
                "caller_words": "Looking for Ysolde Varga-Pim born 1987"}  # fmt: skip
    note = "Verified with clerk Henrietta Oakridge-Mull"
    cad = make_token(web_app, name="cad-rw")
    with TestClient(web, base_url="http://127.0.0.1") as client, Captured() as lines:
        answer = client.post("/api/v1/requests?caller=Ysolde%20Varga-Pim",
                             json={**NEW_REQUEST, **personal}, headers=bearer(cad))  # fmt: skip
        assert answer.status_code == 201, answer.text
        ref = answer.json()["ref"]
        sign_in(client, "lt.okafor")
        csrf = token(client, "/queue")
        client.get(f"/requests/{ref}")
        assert client.post(f"/requests/{ref}/claim", data={"csrf_token": csrf},
                           follow_redirects=False).status_code == 303  # fmt: skip
        decided = client.post(f"/requests/{ref}/decide", follow_redirects=False,
                              data={"intent": "decide", "approve": ["serve_criminal_warrant"],
                                    "note": note, "csrf_token": csrf, **WARRANT})  # fmt: skip
        assert decided.status_code == 303, alerts_on_page(decided.text)
        client.get(f"/api/v1/requests/{ref}", headers=bearer(cad))
    assert len(lines) >= 6
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    for value in [*personal.values(), note, "Ysolde", "Varga", "caller=", cad]:
        assert value not in text, f"the log holds {value!r}"
    assert "ag_session" not in text
    assert "csrf" not in text.lower()
    requests = [line for line in lines if line["logger"] == "assistgate.http"]
    assert {(r["method"], r["route"], r["status"]) for r in requests} >= {
        ("POST", "/api/v1/requests", 201), ("POST", "/requests/{ref}/decide", 303),
        ("GET", "/requests/{ref}", 200), ("GET", "/api/v1/requests/{ref}", 200)}  # fmt: skip
    for line in requests:
        assert set(line) == {"time", "level", "logger", "message", "request_id", "method",
                             "route", "status", "duration_ms"}  # fmt: skip
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
        assert line["duration_ms"] >= 0


class Captured:
    """Capture the log's JSON lines while the block runs (a context manager for the test)."""

    def __enter__(self) -> list[dict[str, Any]]:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter())
        self.handler.addFilter(RequestIdFilter())
        self.root = logging.getLogger()
        self.level = self.root.level
        self.root.addHandler(self.handler)
        self.root.setLevel(logging.DEBUG)
        self.lines: list[dict[str, Any]] = []
        return self.lines

    def __exit__(self, *exc: object) -> None:
        self.root.removeHandler(self.handler)
        self.root.setLevel(self.level)
        lines = [json.loads(line) for line in self.stream.getvalue().splitlines()]
        # httpx's own lines come from the test's client, not from the service.
        self.lines.extend(line for line in lines if line["logger"] != "httpx")
