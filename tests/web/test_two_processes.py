"""Two `assistgate serve` processes on one PostgreSQL database, as behind a load balancer.

Each process is a real operating-system process started from the command line, with its own
event broker, webhook worker and escalation loop; they share only the database and the data
directory's signing key. An intake on one process reaches a queue open on the other (LISTEN/
NOTIFY), two commanders claiming the same request on different processes get one claim between
them, and every notification to the dispatch system is sent once, whichever process sends it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from assistgate.app import App, open_app
from assistgate.auth.models import User
from assistgate.auth.service import add_user
from assistgate.db.base import utcnow
from assistgate.ledger.models import LedgerEntryRow
from assistgate.requests.models import Request
from assistgate.settings import Settings
from tests.factories import PEOPLE, new_request
from tests.integrations.helpers import add_endpoint, decide
from tests.integrations.receiver import Receiver, serving
from tests.web.conftest import TOTP, free_port, sign_in
from tests.web.test_floor import password_hash
from tests.web.test_journeys import open_queue, person, take_the_call


@dataclass(frozen=True)
class Deployment:
    data_dir: Path
    database_url: str

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTGATE_")}
        env.update({"ASSISTGATE_DATA_DIR": str(self.data_dir),
                    "ASSISTGATE_DATABASE_URL": self.database_url,
                    "ASSISTGATE_ENVIRONMENT": "demo"})  # fmt: skip
        return env


@pytest.fixture
def deployment(database_url: str, tmp_path: Path) -> Iterator[App]:
    """A deployment on PostgreSQL with a signing key on disk and people who can sign in."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several server processes share one database only on PostgreSQL")
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url,
                        environment="demo")  # fmt: skip
    app = open_app(settings)
    app.keys.init()  # type: ignore[attr-defined]
    with app.transaction() as session:
        for username, (name, role, extension) in PEOPLE.items():
            add_user(session, username=username, display_name=name, roles=[role],
                     extension=extension)  # fmt: skip
        for user in session.scalars(select(User)):
            user.password_hash = password_hash()
            user.totp_secret = TOTP[user.username]
            user.totp_enrolled_at = utcnow()
    yield app
    app.close()


@contextmanager
def serve_process(app: App) -> Iterator[str]:
    """Start `assistgate serve` as a process of its own; yield its address; stop it with Ctrl-C."""
    deployment = Deployment(app.settings.data_dir, app.settings.database_url)
    port = free_port()
    exe = Path(sys.executable).with_name("assistgate")
    process = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=deployment.env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1].decode()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "assistgate serve did not start in 30 s"
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, errors = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, errors = process.communicate()
        assert b"Traceback" not in errors, errors.decode()


def test_an_intake_on_one_process_reaches_a_queue_open_on_another(
    deployment: App, browser: Browser
) -> None:
    with (
        serve_process(deployment) as first,
        serve_process(deployment) as second,
        person(browser, second, "lt.brandt") as queue,
        person(browser, first, "ct.alvarez") as taker,
    ):
        open_queue(queue, second)
        sent = time.monotonic()
        ref = take_the_call(taker, first)
        expect(queue.locator(f'li[data-ref="{ref}"]')).to_be_visible(timeout=3000)
        arrived = time.monotonic() - sent
        assert arrived < 1.5, f"the other process's queue showed it after {arrived:.2f} s"


def signed_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    response = sign_in(client, username)  # type: ignore[arg-type]
    assert response.status_code == 303, response.text
    return client


def csrf_of(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def race_to_claim(ref: str, *clients: httpx.Client) -> list[int]:
    """Have every client claim `ref` at the same moment; return the status codes, sorted."""
    forms = [{"csrf_token": csrf_of(c.get(f"/requests/{ref}").text)} for c in clients]
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []

    def claim(client: httpx.Client, form: dict[str, str]) -> None:
        barrier.wait()
        codes.append(client.post(f"/requests/{ref}/claim", data=form).status_code)

    threads = [
        threading.Thread(target=claim, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(codes)


def test_two_commanders_on_two_processes_claiming_one_request_get_one_claim(
    deployment: App,
) -> None:
    refs = [new_request(deployment, cad_incident_id=f"LMPD-2026-{n:06d}").ref for n in range(5)]
    with serve_process(deployment) as first, serve_process(deployment) as second, ExitStack() as s:
        okafor, brandt = signed_in(first, "lt.okafor"), signed_in(second, "lt.brandt")
        s.callback(okafor.close)
        s.callback(brandt.close)
        for ref in refs:
            answers = race_to_claim(ref, okafor, brandt)
            # One claim goes through (back to the screen); the other is refused on the screen.
            assert answers == [303, 409], answers
    with deployment.sessions() as session:
        holders = {r.ref: r.commander for r in session.scalars(select(Request))}
        # Each claim is one ledger entry: the losing claim was refused, nothing written.
        claimed = session.scalars(
            select(LedgerEntryRow.subject).where(LedgerEntryRow.event == "request:claimed")
        ).all()
    assert all(holders[ref] in {"lt.okafor", "lt.brandt"} for ref in refs), holders
    assert sorted(claimed) == sorted(refs)


def test_every_notification_is_sent_once_whichever_process_sends_it(deployment: App) -> None:
    with serving(Receiver()) as receiver:
        receiver.secret = add_endpoint(deployment, name="cad-main", url=receiver.url)
        refs = [new_request(deployment, cad_incident_id=f"LMPD-2026-{n:06d}").ref
                for n in range(30)]  # fmt: skip
        with serve_process(deployment), serve_process(deployment):
            for ref in refs:
                decide(deployment, ref)
            deadline = time.monotonic() + 60
            while len(receiver.received) < len(refs) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # a duplicate, if any, would come now
        got = [(r.json["ref"], r.json["event"]) for r in receiver.received]
    assert sorted(got) == sorted((ref, "request:decided") for ref in refs)
    assert all(r.signature_ok for r in receiver.received)
