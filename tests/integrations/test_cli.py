"""`assistgate token|endpoint|outbox`, as an administrator runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from assistgate.app import App, open_app
from assistgate.settings import Settings
from assistgate.web.app import create_web_app
from tests.cli.conftest import Cli
from tests.integrations.helpers import NEW_REQUEST, bearer
from tests.integrations.receiver import Receiver, serving
from tests.web.conftest import free_port


@contextmanager
def deployment(cli: Cli) -> Iterator[App]:
    app = open_app(Settings(data_dir=cli.data_dir, database_url=cli.database_url))
    try:
        yield app
    finally:
        app.close()


def test_a_token_is_printed_once_works_and_stops_working_once_revoked(staffed: Cli) -> None:
    result = staffed.run("token", "create", "--name", "cad-main", "--scope", "requests:write",
                         "--scope", "requests:read", "--as", "cad")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith("agt_")
    assert result.stdout == token + "\n", "the token alone on standard output"
    assert "shown this once" in result.stderr

    listing = staffed.ok("token", "list")
    assert listing.splitlines()[0].split()[:3] == ["NAME", "ACCOUNT", "SCOPES"]
    assert "cad-main" in listing
    assert token not in listing
    assert token not in str(staffed.sql("SELECT * FROM api_tokens"))
    assert token not in str(staffed.sql("SELECT body FROM ledger_entries"))

    with deployment(staffed) as app, TestClient(create_web_app(app)) as client:
        assert client.post("/api/v1/requests", json=NEW_REQUEST,
                           headers=bearer(token)).status_code == 201  # fmt: skip
        assert staffed.ok("token", "revoke", "cad-main") == "revoked token cad-main\n"
        assert client.get("/api/v1/requests/AG-2026-0001",
                          headers=bearer(token)).status_code == 401  # fmt: skip

    assert "already revoked" in staffed.refused(1, "token", "revoke", "cad-main")
    assert "no token named ghost" in staffed.refused(2, "token", "revoke", "ghost")
    events = [row[0] for row in staffed.sql("SELECT event FROM ledger_entries ORDER BY seq")]
    assert events[-1] == "admin:token_revoked"
    assert "admin:token_created" in events


def test_a_token_acts_only_as_a_dispatch_system_account(staffed: Cli) -> None:
    line = staffed.refused(1, "token", "create", "--name", "x", "--scope", "requests:write",
                           "--as", "ct.alvarez")  # fmt: skip
    assert "does not hold the role dispatch_system" in line
    assert "no user named 'nobody'" in staffed.refused(
        2, "token", "create", "--name", "x", "--scope", "requests:read", "--as", "nobody"
    )
    unknown_scope = staffed.run("token", "create", "--name", "x", "--scope", "admin:all",
                                "--as", "cad")  # fmt: skip
    assert unknown_scope.exit_code == 2
    staffed.ok("token", "create", "--name", "x", "--scope", "requests:read", "--as", "cad")
    assert "already exists" in staffed.refused(
        2, "token", "create", "--name", "x", "--scope", "requests:read", "--as", "cad"
    )
    assert staffed.sql("SELECT count(*) FROM api_tokens")[0][0] == 1


def test_endpoints_are_added_listed_and_disabled(staffed: Cli) -> None:
    result = staffed.run("endpoint", "add", "cad-main", "--url", "https://cad.example/hooks")
    assert result.exit_code == 0, result.stderr
    secret = result.stdout.strip()
    assert secret.startswith("whsec_")
    assert result.stdout == secret + "\n"
    listing = staffed.ok("endpoint", "list")
    assert "cad-main" in listing
    assert "https://cad.example/hooks" in listing
    assert secret not in listing
    assert "expected an http:// or https:// URL" in staffed.refused(
        2, "endpoint", "add", "bad", "--url", "ftp://cad.example/"
    )
    assert "already exists" in staffed.refused(
        2, "endpoint", "add", "cad-main", "--url", "https://cad.example/other"
    )
    assert staffed.ok("endpoint", "disable", "cad-main") == "disabled endpoint cad-main\n"
    assert "already disabled" in staffed.refused(1, "endpoint", "disable", "cad-main")
    assert '"active": false' in staffed.ok("endpoint", "list", "--json")
    staffed.ok("endpoint", "enable", "cad-main")
    assert secret not in str(staffed.sql("SELECT body FROM ledger_entries"))


def test_outbox_deliver_once_sends_a_decision_the_receiver_can_verify(staffed: Cli) -> None:
    with serving(Receiver()) as receiver:
        receiver.secret = staffed.ok("endpoint", "add", "cad-main", "--url",
                                     receiver.url).strip()  # fmt: skip
        ref = staffed.dispatched()
        pending = staffed.ok("outbox", "list")
        assert "request:decided" in pending
        assert "request:dispatched" in pending

        assert staffed.ok("outbox", "deliver", "--once") == "delivered 2, failed 0\n"

    assert [(r.json["ref"], r.json["event"]) for r in receiver.received] == [
        (ref, "request:decided"), (ref, "request:dispatched")]  # fmt: skip
    assert all(r.signature_ok for r in receiver.received)
    assert staffed.ok("outbox", "list").splitlines()[1:] == []
    assert len(staffed.ok("outbox", "list", "--all").splitlines()) == 3


def test_outbox_deliver_once_reports_an_unreachable_endpoint(staffed: Cli) -> None:
    with serving(Receiver()) as receiver:
        url = receiver.url
    staffed.ok("endpoint", "add", "cad-main", "--url", url)
    staffed.dispatched()
    result = staffed.run("outbox", "deliver", "--once")
    assert result.exit_code == 0
    assert result.stdout == "delivered 0, failed 1\n"
    assert "connection failed" in result.stderr
    assert "connection failed" in staffed.ok("outbox", "list")


def test_serve_delivers_the_outbox_in_the_background(staffed: Cli) -> None:
    with serving(Receiver()) as receiver:
        receiver.secret = staffed.ok("endpoint", "add", "cad-main", "--url",
                                     receiver.url).strip()  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTGATE_")}
        env.update({k: v for k, v in staffed.env.items() if v is not None})
        exe = Path(sys.executable).with_name("assistgate")
        port = free_port()
        server = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        try:
            ref = staffed.dispatched()
            deadline = time.monotonic() + 20
            while len(receiver.received) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            server.send_signal(signal.SIGINT)
            _, errors = server.communicate(timeout=30)
    assert [(r.json["ref"], r.json["event"]) for r in receiver.received] == [
        (ref, "request:decided"), (ref, "request:dispatched")], errors  # fmt: skip
    assert all(r.signature_ok for r in receiver.received)
