"""The floor screens through the HTTP interface: intake, the queue, the request screen, duty.

Each test runs on SQLite and on PostgreSQL, and checks what a person would see.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from assistgate.app import App
from assistgate.auth.models import User, WebSession
from assistgate.auth.security import hash_password
from assistgate.db.base import utcnow
from assistgate.demo.wav import tone_wav
from assistgate.integrations.notifier import FakeNotifier, SentAlert
from assistgate.ledger.models import LedgerEntryRow
from assistgate.policy.facts import ACTIONS, AGENCIES
from assistgate.requests import service
from assistgate.requests.enums import IdentityCheck
from assistgate.web.app import create_web_app
from assistgate.web.live import Change, SessionHooks
from assistgate.web.routes.intake import ACTION_LABELS, AGENCY_LABELS, IDENTITY_LABELS
from tests.factories import make_app
from tests.web.conftest import PASSWORD, TOTP, sign_in

CALL = {
    "agency": "ice-ero",
    "official_name": "Deportation Officer K. Marsh (fictional)",
    "official_badge": "ERO Louisville",
    "callback_number": "502-555-0142",
    "identity_check": "callback_known_number",
    "location": "1234 S 4th St",
    "district": "4",
    "caller_words": "They ask for a unit to serve a warrant and to knock on the door.",
    "requested_actions": ["serve_criminal_warrant", "knock_and_talk"],
}
WARRANT = {"warrant.kind": "judicial_criminal", "warrant.verified": "on",
           "requested_actions": ["serve_criminal_warrant", "knock_and_talk"]}  # fmt: skip


@functools.cache
def password_hash() -> str:
    """Hash the test password once: Argon2 is slow on purpose."""
    return hash_password(PASSWORD)


def open_floor_app(database_url: str, data_dir: Path, **settings: Any) -> Iterator[App]:
    """Open an app whose people sign in with the test password and second factor."""
    app = make_app(database_url, data_dir, environment="demo", **settings)
    with app.transaction() as session:
        for user in session.scalars(select(User)):
            user.password_hash = password_hash()
            user.totp_secret = TOTP[user.username]
            user.totp_enrolled_at = utcnow()
    yield app
    app.close()


@pytest.fixture
def web_app(database_url: str, tmp_path: Path) -> Iterator[App]:
    yield from open_floor_app(database_url, tmp_path)


@pytest.fixture
def fake() -> FakeNotifier:
    return FakeNotifier()


@pytest.fixture
def web(web_app: App, fake: FakeNotifier) -> FastAPI:
    web = create_web_app(web_app)
    web.state.notifier = fake
    return web


@pytest.fixture
def commander(web: FastAPI) -> Iterator[TestClient]:
    """Lt. Okafor, signed in, through a client that runs the service's start-up."""
    with TestClient(web, base_url="http://127.0.0.1") as client:
        sign_in(client, "lt.okafor")
        yield client


@pytest.fixture
def taker(web: FastAPI, commander: TestClient) -> TestClient:
    """The call taker, signed in, on the same running service."""
    client = TestClient(web, base_url="http://127.0.0.1")
    sign_in(client, "ct.alvarez")
    return client


def token(client: TestClient, path: str = "/intake") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no form token on {path}"
    return match.group(1)


def ledger_size(app: App) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(LedgerEntryRow)) or 0


def alerts_on_page(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'role="alert"[^>]*>(.*?)</',
                                                                 html, re.S)]  # fmt: skip


def intake(taker: TestClient, **changes: Any) -> str:
    response = taker.post("/intake", data={**CALL, **changes, "csrf_token": token(taker)},
                          follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, alerts_on_page(response.text)
    return str(response.headers["location"]).rsplit("/", 1)[1]


def claimed(commander: TestClient, taker: TestClient) -> str:
    ref = intake(taker)
    response = commander.post(f"/requests/{ref}/claim", data={"csrf_token": token(commander,
                              "/queue")}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    return ref


def set_duty(app: App, ranks: dict[str, int]) -> None:
    with app.transaction() as session:
        for user in session.scalars(select(User)):
            user.on_duty = user.username in ranks
            user.duty_rank = ranks.get(user.username, 100)


def test_every_agency_action_and_identity_check_has_words_on_the_screens() -> None:
    assert set(AGENCY_LABELS) == set(AGENCIES)
    assert set(ACTION_LABELS) == set(ACTIONS)
    assert set(IDENTITY_LABELS) == set(IdentityCheck)


def test_an_intake_says_hold_the_call_and_alerts_the_first_commander_on_duty(
    web_app: App, taker: TestClient, fake: FakeNotifier
) -> None:
    set_duty(web_app, {"lt.brandt": 1, "lt.okafor": 2})
    form = taker.get("/intake")
    assert form.status_code == 200
    assert '<select id="agency" name="agency" required aria-required="true" autofocus' in form.text
    response = taker.post("/intake", data={**CALL, "csrf_token": token(taker)})
    assert response.status_code == 200
    assert "Hold the call: the commanding officer has been alerted." in response.text
    ref = re.search(r'id="held-ref">([^<]+)<', response.text).group(1)  # type: ignore[union-attr]
    assert "Lt. S. Brandt" in response.text
    assert fake.wait_for(1) == [SentAlert("lt.brandt", ref, 0)]
    with web_app.sessions() as session:
        request = service.get_request(session, ref)
        assert request.state == "awaiting_review"
        assert request.location == "1200 block of S 4th St"
        assert request.call_taker == "ct.alvarez"


PROBLEMS: list[tuple[dict[str, Any], str, str]] = [
    ({"official_name": "  "}, "official_name", "Official&#39;s name"),
    ({"agency": ""}, "agency", "Agency calling"),
    ({"requested_actions": []}, "requested_actions", "What they ask officers to do"),
    ({"caller_words": ""}, "caller_words", "What they said, in their words"),
    ({"identity_check": "guessed"}, "identity_check", "How you confirmed who is calling"),
]


def test_an_intake_with_a_problem_comes_back_with_the_field_named_and_the_values_kept(
    web_app: App, taker: TestClient
) -> None:
    before = ledger_size(web_app)
    for changes, field, label in PROBLEMS:
        response = taker.post("/intake", data={**CALL, **changes, "csrf_token": token(taker)})
        assert response.status_code == 422, field
        assert f'<a href="#{field}">{label}</a>' in response.text
        assert f'id="{field}-error"' in response.text
        assert 'aria-invalid="true"' in response.text
        assert "502-555-0142" in response.text  # what was typed is still there
    assert ledger_size(web_app) == before


def test_a_form_without_its_security_token_is_refused(
    web_app: App, commander: TestClient, taker: TestClient
) -> None:
    before = ledger_size(web_app)
    assert taker.post("/intake", data=CALL).status_code == 403
    assert taker.post("/intake", data={**CALL, "csrf_token": "forged"}).status_code == 403
    ref = intake(taker)
    assert commander.post(f"/requests/{ref}/claim", data={}).status_code == 403
    assert commander.post("/duty", data={"on_duty": "1"}).status_code == 403
    assessed = commander.post(f"/requests/{ref}/assess", data={"csrf_token": "x"})
    assert assessed.status_code == 403
    with web_app.sessions() as session:
        assert service.get_request(session, ref).state == "awaiting_review"
    assert ledger_size(web_app) == before + 2  # the intake's two entries, nothing else


def test_the_queue_lists_open_requests_newest_first_for_commanders_only(
    commander: TestClient, taker: TestClient
) -> None:
    first, second = intake(taker), intake(taker, agency="cbp")
    page = commander.get("/queue")
    assert page.status_code == 200
    assert page.text.index(second) < page.text.index(first)
    assert "Customs and Border Protection" in page.text
    assert f"Claim {second}" in page.text
    rows = commander.get("/queue/rows")
    assert rows.status_code == 200
    assert rows.text.count('data-state="awaiting_review"') == 2
    # Not for a call taker, nor without a session; the event stream likewise.
    forbidden = taker.get("/queue")
    assert forbidden.status_code == 403
    assert "Not for your role" in forbidden.text
    assert taker.get("/queue/rows").status_code == 403
    assert taker.get("/queue/events").status_code == 403
    stranger = TestClient(commander.app, base_url="http://127.0.0.1")
    assert stranger.get("/queue/rows").status_code == 401
    assert stranger.get("/queue/events").status_code == 401


def test_assess_answers_with_the_policy_as_the_facts_change_and_writes_nothing(
    web_app: App, commander: TestClient, taker: TestClient
) -> None:
    ref = claimed(commander, taker)
    csrf = token(commander, f"/requests/{ref}")
    before = ledger_size(web_app)
    answer = commander.post(f"/requests/{ref}/assess", data={**WARRANT, "csrf_token": csrf})
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True
    assert body["answer"]["decision"] == "dispatch"
    assert body["answer"]["permitted_actions"] == ["serve_criminal_warrant"]
    assert body["answer"]["prohibited_actions"] == ["knock_and_talk"]
    assert "lmpd.no-immigration-enforcement" in body["html"]
    assert "May send officers" in body["html"]
    # No warrant, no crime, no danger: decline, with the clause that says so.
    nothing = commander.post(f"/requests/{ref}/assess", data={"csrf_token": csrf,
                             "requested_actions": ["knock_and_talk"]}).json()  # fmt: skip
    assert nothing["answer"]["decision"] == "decline"
    assert "Decline: no officers" in nothing["html"]
    # Facts that contradict each other name the fact.
    wrong = commander.post(f"/requests/{ref}/assess", data={
        "csrf_token": csrf, "warrant.kind": "administrative_immigration",
        "warrant.issued_by": "state_judge", "requested_actions": ["knock_and_talk"]})  # fmt: skip
    assert wrong.status_code == 422
    assert wrong.json()["problems"][0]["field"] == "warrant.issued_by"
    # The token may come as a header instead (for scripts).
    by_header = commander.post(f"/requests/{ref}/assess", data=WARRANT,
                               headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert by_header.json()["ok"] is True
    assert ledger_size(web_app) == before


def test_a_call_taker_gets_a_403_page_for_the_request_screen(
    commander: TestClient, taker: TestClient
) -> None:
    ref = intake(taker)
    page = taker.get(f"/requests/{ref}")
    assert page.status_code == 403
    assert "Not for your role" in page.text
    assert "commanding officers" in page.text
    assert ref not in page.text  # nothing of the request shows


def test_the_whole_lifecycle_through_the_request_screen_with_every_step_on_the_timeline(
    web_app: App, commander: TestClient, taker: TestClient
) -> None:
    ref = claimed(commander, taker)
    csrf = token(commander, f"/requests/{ref}")

    def post(step: str, **data: Any) -> None:
        response = commander.post(f"/requests/{ref}/{step}", data={**data, "csrf_token": csrf},
                                  follow_redirects=False)  # fmt: skip
        assert response.status_code == 303, (step, alerts_on_page(response.text))

    post("decide", intent="decide", approve=["serve_criminal_warrant"], note="Clerk confirmed.",
         **WARRANT)  # fmt: skip
    post("dispatch", units="4A21, 4A22")
    post("arrive")
    uploaded = commander.post(f"/requests/{ref}/recording", data={"csrf_token": csrf},
                              files={"file": ("call.wav", tone_wav(2.0, 440), "audio/wav")},
                              follow_redirects=False)  # fmt: skip
    assert uploaded.status_code == 303, alerts_on_page(uploaded.text)
    post("clear")
    post("close", officer_actions=["serve_criminal_warrant"], police_arrests="theft\n",
         agency_arrests="0", immigration_status_asked="no",
         summary="Served at the door.")  # fmt: skip
    page = commander.get(f"/requests/{ref}").text
    assert "Closed" in page
    timeline = page[page.index('id="timeline"') :]
    steps = ("Registered", "Commander alerted", "Claimed", "Decided", "Units dispatched",
             "Commander on scene", "Recording attached", "Scene cleared", "Closed")  # fmt: skip
    for label in steps:
        assert f'data-label="What happened">{label}</td>' in timeline, label
    step_rows = timeline[: timeline.index("</table>")]
    assert step_rows.count("✓ matches") == 9
    assert "✗" not in timeline
    assert re.search(r"\((\d+) of \1 match\)", timeline)  # the views are entries too
    assert ": valid" in timeline
    with web_app.sessions() as session:
        request = service.get_request(session, ref)
        assert request.units == ["4A21", "4A22"]
        assert request.outcome is not None
        assert request.outcome["police_arrests"] == [{"offense_category": "theft"}]
        assert request.outcome["immigration_status_asked"] is False


def test_refusals_are_shown_on_the_screen_not_as_errors(
    web: FastAPI, commander: TestClient, taker: TestClient
) -> None:
    ref = intake(taker)
    csrf = token(commander, "/queue")
    early = commander.post(f"/requests/{ref}/dispatch", data={"csrf_token": csrf, "units": "4A1"})
    assert early.status_code == 409
    assert "has no dispatch decision by a commanding officer" in early.text
    commander.post(f"/requests/{ref}/claim", data={"csrf_token": csrf})
    brandt = TestClient(web, base_url="http://127.0.0.1")
    sign_in(brandt, "lt.brandt")
    held = brandt.post(f"/requests/{ref}/claim", data={"csrf_token": token(brandt, "/queue")})
    assert held.status_code == 409
    assert "already held by lt.okafor" in held.text
    closing = commander.post(f"/requests/{ref}/close", data={"csrf_token": csrf})
    assert closing.status_code == 409
    assert "cannot close a request that is under_review" in closing.text
    missing = commander.get("/requests/AG-1999-9999")
    assert missing.status_code == 404
    # Deciding to send officers for a prohibited action names the field.
    decision = {**WARRANT, "csrf_token": csrf, "intent": "decide", "approve": ["knock_and_talk"]}
    wrong = commander.post(f"/requests/{ref}/decide", data=decision)
    assert wrong.status_code == 422
    assert "approve: knock_and_talk not permitted by the policy" in wrong.text


def test_a_decision_asks_for_the_password_again_after_fifteen_minutes(
    web_app: App, commander: TestClient, taker: TestClient
) -> None:
    ref = claimed(commander, taker)
    csrf = token(commander, f"/requests/{ref}")
    with web_app.transaction() as session:
        session.execute(update(WebSession).values(
            authenticated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)))  # fmt: skip
    page = commander.get(f"/requests/{ref}").text
    assert 'name="password"' in page
    decision = {**WARRANT, "csrf_token": csrf, "intent": "decide",
                "approve": ["serve_criminal_warrant"]}  # fmt: skip
    wrong = commander.post(f"/requests/{ref}/decide", data={**decision, "password": "guess"})
    assert wrong.status_code == 422
    assert "that is not your password" in wrong.text
    with web_app.sessions() as session:
        assert service.get_request(session, ref).state == "under_review"
    right = commander.post(f"/requests/{ref}/decide", data={**decision, "password": PASSWORD},
                           follow_redirects=False)  # fmt: skip
    assert right.status_code == 303
    with web_app.sessions() as session:
        events = list(session.scalars(select(LedgerEntryRow.event).order_by(LedgerEntryRow.seq)))
        assert service.get_request(session, ref).state == "dispatch_approved"
    assert events.count("auth:reauth_failed") == 1
    assert events.index("auth:reauthenticated") < events.index("request:decided")


def test_check_against_the_policy_shows_the_answer_without_deciding(
    web_app: App, commander: TestClient, taker: TestClient
) -> None:
    ref = claimed(commander, taker)
    csrf = token(commander, f"/requests/{ref}")
    page = commander.post(f"/requests/{ref}/decide", data={**WARRANT, "csrf_token": csrf,
                          "intent": "check"})  # fmt: skip
    assert page.status_code == 200
    assert "May send officers" in page.text
    assert 'value="serve_criminal_warrant">' in page.text  # approvable now
    with web_app.sessions() as session:
        assert service.get_request(session, ref).state == "under_review"


def test_the_timeline_shows_an_entry_altered_in_the_database(
    web_app: App, commander: TestClient, taker: TestClient
) -> None:
    ref = claimed(commander, taker)
    with web_app.transaction() as session:
        row = session.scalars(
            select(LedgerEntryRow).where(LedgerEntryRow.subject == ref,
                                         LedgerEntryRow.event == "request:claimed")
        ).one()  # fmt: skip
        row.body = row.body.replace(b"lt.okafor", b"lt.brandt")
    page = commander.get(f"/requests/{ref}").text
    assert page.count("✗ altered") == 1
    match = re.search(r"\((\d+) of (\d+) match\)", page)
    assert match is not None
    assert int(match.group(1)) == int(match.group(2)) - 1


def test_a_commander_goes_on_and_off_duty_and_each_change_is_recorded(
    web_app: App, commander: TestClient
) -> None:
    csrf = token(commander, "/queue")
    assert "You are off duty" in commander.get("/queue").text
    on = commander.post("/duty", data={"csrf_token": csrf, "on_duty": "1"}, follow_redirects=False)
    assert on.status_code == 303
    assert on.headers["location"] == "/queue"
    page = commander.get("/queue").text
    assert "You are on duty" in page
    assert "Lt. J. Okafor (fictional)" in page[page.index("in the order alerts go") :]
    commander.post("/duty", data={"csrf_token": csrf, "on_duty": "0", "next": "//evil.example"})
    with web_app.sessions() as session:
        user = web_app.user(session, "lt.okafor")
        assert user.on_duty is False
        changes = session.scalars(select(LedgerEntryRow).where(
            LedgerEntryRow.event == "user:duty_changed")).all()  # fmt: skip
    assert [c.subject for c in changes] == ["user:lt.okafor", "user:lt.okafor"]


def test_changes_are_handed_to_the_queue_only_once_the_whole_transaction_commits(
    web_app: App,
) -> None:
    handed: list[list[Change]] = []
    hooks = SessionHooks(web_app.sessions, on_commit=handed.append,
                         notify_postgres=False).install()  # fmt: skip
    try:
        with web_app.transaction() as session:
            with session.begin_nested():  # as the screens call the service
                service.create_request(
                    session, web_app.deployment, actor=web_app.user(session, "ct.alvarez"),
                    received_at=utcnow(), agency="cbp", official_name="Agent R. Diaz",
                    location="Main St", caller_words="Backup", requested_actions=["backup"],
                    identity_check="not_verified",
                )  # fmt: skip
            assert handed == [], "a released savepoint is not a commit"
        [changes] = handed
        assert [(c.state, c.new) for c in changes] == [("awaiting_review", True)]
        session = web_app.sessions()
        with session.begin():
            request = service.get_request(session, changes[0].ref)
            request.district = "5"
            session.flush()
            session.rollback()
        session.close()
        assert len(handed) == 1, "a rolled-back change reaches no queue"
    finally:
        hooks.remove()
