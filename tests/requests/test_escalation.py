"""Escalation and the duty list: a request nobody claims is alerted further up (both databases)."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assistgate.app import App
from assistgate.auth.models import User
from assistgate.integrations.notifier import FakeNotifier, SentAlert, WebhookNotifier
from assistgate.ledger.entry import Entry
from assistgate.ledger.models import LedgerEntryRow
from assistgate.ledger.verify import verify_database
from assistgate.requests import service
from assistgate.requests.escalation import (
    alert_new,
    duty_list,
    escalate_due,
    first_recipient,
)
from assistgate.settings import Settings, SettingsError
from tests.cli.conftest import PEOPLE, Cli
from tests.factories import LOUISVILLE, make_app, new_request

RECEIVED = dt.datetime(2018, 3, 6, 9, 41, tzinfo=LOUISVILLE)
LIMIT = dt.timedelta(seconds=120)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(database_url, tmp_path)
    on_duty(app, {"lt.okafor": 1, "lt.brandt": 2})
    yield app
    app.close()


def on_duty(app: App, ranks: dict[str, int]) -> None:
    """Put the named commanders on duty at the given ranks, everyone else off."""
    with app.transaction() as session:
        for user in session.scalars(select(User)):
            user.on_duty = user.username in ranks
            user.duty_rank = ranks.get(user.username, 100)


def escalate(app: App, fake: FakeNotifier, at: dt.datetime) -> list[SentAlert]:
    """Run one round of escalation at `at`; return what the notifier received in it."""
    before = len(fake.sent)
    with app.transaction() as session:
        escalate_due(session, app.deployment, now=at, notifier=fake, after=LIMIT,
                     command_staff="command-staff pager")  # fmt: skip
    return fake.sent[before:]


def entries(app: App, ref: str, event: str) -> list[dict[str, Any]]:
    with app.sessions() as session:
        rows = session.scalars(
            select(LedgerEntryRow)
            .where(LedgerEntryRow.subject == ref, LedgerEntryRow.event == event)
            .order_by(LedgerEntryRow.seq)
        )
        return [Entry.from_bytes(r.body).data for r in rows]


def level(app: App, ref: str) -> int:
    with app.sessions() as session:
        return service.get_request(session, ref).escalation_level


def test_the_duty_list_is_the_commanders_on_duty_by_rank(app: App) -> None:
    on_duty(app, {"maj.chen": 1, "lt.brandt": 2, "ct.alvarez": 0})
    with app.sessions() as session:
        assert [u.username for u in duty_list(session)] == ["maj.chen", "lt.brandt"]
        assert first_recipient(session).username == "maj.chen"  # type: ignore[union-attr]


def test_with_nobody_on_duty_the_first_alert_goes_to_command_staff(app: App) -> None:
    on_duty(app, {})
    req = new_request(app, received_at=RECEIVED)
    fake = FakeNotifier()
    with app.sessions() as session:
        alert_new(session, [req.ref], notifier=fake, command_staff="command-staff pager")
    assert fake.sent == [SentAlert("command-staff pager", req.ref, 0)]


def test_an_unclaimed_request_goes_to_the_next_commander_then_to_command_staff(app: App) -> None:
    req = new_request(app, received_at=RECEIVED)
    fake = FakeNotifier()
    assert escalate(app, fake, RECEIVED + LIMIT - dt.timedelta(seconds=1)) == []
    assert escalate(app, fake, RECEIVED + LIMIT) == [SentAlert("lt.brandt", req.ref, 1)]
    # The clock restarts at each escalation.
    assert escalate(app, fake, RECEIVED + LIMIT + dt.timedelta(seconds=60)) == []
    assert escalate(app, fake, RECEIVED + 2 * LIMIT) == [
        SentAlert("command-staff pager", req.ref, 2)
    ]
    assert escalate(app, fake, RECEIVED + 3 * LIMIT) == [
        SentAlert("command-staff pager", req.ref, 3)
    ]
    assert level(app, req.ref) == 3
    recorded = entries(app, req.ref, "request:escalated")
    assert [e["escalation"]["alerted"] for e in recorded] == [
        "lt.brandt", "command-staff pager", "command-staff pager"]  # fmt: skip
    assert recorded[0]["request"] == {"escalation_level": 1}
    assert recorded[0]["escalation"]["unclaimed_seconds"] == 120
    assert recorded[1]["escalation"]["to_command_staff"] is True


def test_a_claimed_request_does_not_escalate_and_a_released_one_waits_from_its_release(
    app: App,
) -> None:
    req = new_request(app, received_at=RECEIVED)
    fake = FakeNotifier()
    claimed_at = RECEIVED + dt.timedelta(seconds=30)
    with app.transaction() as session:
        service.claim(session, app.deployment, actor=app.user(session, "lt.okafor"),
                      ref=req.ref, now=claimed_at)  # fmt: skip
    assert escalate(app, fake, RECEIVED + 10 * LIMIT) == []
    released_at = RECEIVED + 11 * LIMIT
    with app.transaction() as session:
        service.release(session, app.deployment, actor=app.user(session, "lt.okafor"),
                        ref=req.ref, now=released_at)  # fmt: skip
    assert escalate(app, fake, released_at + LIMIT - dt.timedelta(seconds=1)) == []
    assert escalate(app, fake, released_at + LIMIT) == [SentAlert("lt.brandt", req.ref, 1)]


def test_no_alert_goes_out_for_an_escalation_that_is_rolled_back(app: App) -> None:
    req = new_request(app, received_at=RECEIVED)
    fake = FakeNotifier()
    session = app.sessions()
    with session.begin():
        escalate_due(session, app.deployment, now=RECEIVED + LIMIT, notifier=fake, after=LIMIT)
        session.rollback()  # the commit never happens (the database went away, say)
    session.close()
    assert fake.sent == []
    assert level(app, req.ref) == 0
    assert escalate(app, fake, RECEIVED + LIMIT) == [SentAlert("lt.brandt", req.ref, 1)]


def test_alerts_wait_for_the_outer_commit_when_escalating_inside_a_savepoint(app: App) -> None:
    req = new_request(app, received_at=RECEIVED)
    fake = FakeNotifier()
    with app.transaction() as session:
        with session.begin_nested():
            escalate_due(session, app.deployment, now=RECEIVED + LIMIT, notifier=fake,
                         after=LIMIT)  # fmt: skip
        assert fake.sent == []
    assert fake.sent == [SentAlert("lt.brandt", req.ref, 1)]


def test_escalations_keep_the_ledger_verifiable(app: App) -> None:
    first = new_request(app, received_at=RECEIVED)
    second = new_request(app, received_at=RECEIVED + dt.timedelta(seconds=5))
    fake = FakeNotifier()
    escalate(app, fake, RECEIVED + LIMIT + dt.timedelta(seconds=5))
    escalate(app, fake, RECEIVED + 3 * LIMIT)
    assert {(a.ref, a.level) for a in fake.sent} == {
        (first.ref, 1), (second.ref, 1), (first.ref, 2), (second.ref, 2)}  # fmt: skip
    with app.sessions() as session:
        report = verify_database(session, app.keys.ledger_public_key())
    assert report.ok, [str(f) for f in report.findings]


def test_the_pager_webhook_posts_the_alert_as_json_without_personal_details(app: App) -> None:
    received: list[dict[str, Any]] = []

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        req = new_request(app, received_at=RECEIVED)
        with app.sessions() as session:
            okafor = app.user(session, "lt.okafor")
        WebhookNotifier(f"http://127.0.0.1:{server.server_address[1]}/page").alert(okafor, req, 1)
        # An unreachable gateway is logged, not raised: the escalation timer goes on.
        WebhookNotifier("http://127.0.0.1:9/nothing", timeout=0.5).alert("staff", req, 2)
    finally:
        server.shutdown()
    [body] = received
    assert body["to"]["username"] == "lt.okafor"
    assert body["level"] == 1
    assert body["request"]["ref"] == req.ref
    assert body["request"]["path"] == f"/requests/{req.ref}"
    text = json.dumps(body)
    assert req.location not in text
    assert req.official_name not in text
    assert req.caller_words not in text


def test_the_escalation_limit_is_a_setting_with_a_checked_value() -> None:
    assert Settings.from_env({}).escalate_after_seconds == 120
    assert (
        Settings.from_env({"ASSISTGATE_ESCALATE_AFTER_SECONDS": "30"}).escalate_after_seconds == 30
    )
    for bad in ("0", "-5", "2m", ""):
        with pytest.raises(SettingsError, match="ASSISTGATE_ESCALATE_AFTER_SECONDS"):
            Settings.from_env({"ASSISTGATE_ESCALATE_AFTER_SECONDS": bad})
    with pytest.raises(SettingsError, match="ASSISTGATE_PAGER_URL"):
        Settings.from_env({"ASSISTGATE_PAGER_URL": "pager.example"})


@pytest.fixture
def staffed(database_url: str, tmp_path: Path) -> Cli:
    work = tmp_path / "work"
    work.mkdir()
    cli = Cli(data_dir=tmp_path / "data", database_url=database_url, work=work)
    cli.ok("keys", "init")
    for username, role, name in PEOPLE:
        cli.ok("user", "add", username, "--role", role, "--name", name)
    return cli


def test_a_roster_import_sets_who_is_on_duty_and_in_which_order(staffed: Cli) -> None:
    roster = "username,on_duty,rank,contact\nlt.brandt,yes,2,pager 4102\nmaj.chen,true,1\n"
    out = staffed.ok("duty", "import", staffed.file("roster.csv", roster + "lt.okafor,no,3\n"))
    assert "3 changed" in out
    assert "on duty, in alert order: maj.chen, lt.brandt" in out
    listed = json.loads(staffed.ok("duty", "list", "--json"))
    assert [p["username"] for p in listed["on_duty"]] == ["maj.chen", "lt.brandt"]
    assert listed["on_duty"][1]["contact"] == "pager 4102"
    events = staffed.sql("SELECT subject FROM ledger_entries WHERE event = 'user:duty_changed' "
                         "ORDER BY seq")  # fmt: skip
    assert [e[0] for e in events] == ["user:lt.brandt", "user:maj.chen", "user:lt.okafor"]
    # --replace takes off duty every commander the roster leaves out.
    staffed.ok("duty", "import", staffed.file("short.csv", "lt.okafor,on,1\n"), "--replace")
    listed = json.loads(staffed.ok("duty", "list", "--json"))
    assert [p["username"] for p in listed["on_duty"]] == ["lt.okafor"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("lt.okafor,maybe,1\n", "line 1, on_duty: expected true or false"),
        ("lt.okafor,yes,first\n", "line 1, rank: expected a whole number"),
        ("lt.okafor,yes\n", "line 1: expected username, on_duty, rank"),
        ("lt.okafor,yes,1\nlt.okafor,no,2\n", "line 2, username: lt.okafor is listed twice"),
        ("lt.okafor,yes,1\nlt.nobody,yes,2\n", "line 2, username: no user named lt.nobody"),
        ("ct.alvarez,yes,1\n", "ct.alvarez is not a commanding officer"),
    ],
)
def test_a_bad_roster_changes_nothing_and_names_the_line(
    staffed: Cli, content: str, message: str
) -> None:
    line = staffed.refused(2, "duty", "import", staffed.file("bad.csv", content))
    assert message in line
    assert staffed.sql("SELECT count(*) FROM users WHERE on_duty")[0][0] == 0
