"""Signed webhooks to dispatch systems: verified by a real receiver, retried, in order, never
lost, never sent twice by two workers."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from assistgate.app import App, open_app
from assistgate.db.base import utcnow
from assistgate.integrations.models import OutboxMessage, WebhookEndpoint
from assistgate.integrations.webhooks import (
    LEASE,
    FakeWebhookSender,
    HttpxSender,
    backoff,
    deliver_due,
    signature,
    verify_signature,
)
from assistgate.ledger.keys import FileKeyStore
from assistgate.settings import Settings
from tests.factories import new_request
from tests.integrations.helpers import add_endpoint, cancel, decide
from tests.integrations.receiver import Receiver, serving

ROOT = Path(__file__).resolve().parents[2]
CRASHING_WORKER = Path(__file__).with_name("outbox_crash_worker.py")

# `printf '1700000000.{"event":"request:decided"}' | openssl dgst -sha256 -hmac whsec_known_answer`
KNOWN_SECRET = "whsec_known_answer"
KNOWN_BODY = b'{"event":"request:decided"}'
KNOWN_SIGNATURE = "sha256=42d3883f785f14fd6da706b7656ba9a5cc67792c8a5d1a992ac62977d76c7380"
KNOWN_TIME = dt.datetime.fromtimestamp(1700000000, dt.UTC)


def pending(app: App) -> list[OutboxMessage]:
    with app.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.delivered_at.is_(None))
                .order_by(OutboxMessage.id)
            )
        )


# --- The signature -------------------------------------------------------------------------------


def test_the_signature_is_the_hmac_sha256_of_timestamp_dot_body() -> None:
    assert signature(KNOWN_SECRET, 1700000000, KNOWN_BODY) == KNOWN_SIGNATURE
    assert verify_signature(KNOWN_SECRET, timestamp="1700000000", body=KNOWN_BODY,
                            signature_header=KNOWN_SIGNATURE, now=KNOWN_TIME)  # fmt: skip


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "header", "now_offset"),
    [
        pytest.param("whsec_other", "1700000000", KNOWN_BODY, KNOWN_SIGNATURE, 0,
                     id="wrong-secret"),
        pytest.param(KNOWN_SECRET, "1700000000", KNOWN_BODY + b" ", KNOWN_SIGNATURE, 0,
                     id="body-with-a-trailing-byte"),
        pytest.param(KNOWN_SECRET, "1700000000", b'{"event":"request:closed"}', KNOWN_SIGNATURE,
                     0, id="body-changed"),
        pytest.param(KNOWN_SECRET, "1700000001", KNOWN_BODY, KNOWN_SIGNATURE, 0,
                     id="timestamp-changed"),
        pytest.param(KNOWN_SECRET, "1700000000", KNOWN_BODY, KNOWN_SIGNATURE, 301,
                     id="replayed-after-five-minutes"),
        pytest.param(KNOWN_SECRET, "1700000000", KNOWN_BODY, KNOWN_SIGNATURE.removeprefix(
            "sha256="), 0, id="without-the-sha256-prefix"),
        pytest.param(KNOWN_SECRET, "17e8", KNOWN_BODY, KNOWN_SIGNATURE, 0,
                     id="timestamp-not-digits"),
        pytest.param(KNOWN_SECRET, "", KNOWN_BODY, KNOWN_SIGNATURE, 0, id="no-timestamp"),
    ],
)  # fmt: skip
def test_a_receiver_refuses_what_was_not_signed_as_sent(
    secret: str, timestamp: str, body: bytes, header: str, now_offset: int
) -> None:
    now = KNOWN_TIME + dt.timedelta(seconds=now_offset)
    assert not verify_signature(secret, timestamp=timestamp, body=body, signature_header=header,
                                now=now)  # fmt: skip


def test_retries_wait_one_second_doubling_up_to_ten_minutes() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 13)]
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]
    assert backoff(10_000) == dt.timedelta(minutes=10)


# --- Delivery ------------------------------------------------------------------------------------


def test_a_decision_reaches_the_dispatch_system_as_a_signed_webhook(app: App) -> None:
    with serving(Receiver()) as receiver:
        receiver.secret = add_endpoint(app, name="cad-main", url=receiver.url)
        ref = new_request(app, cad_incident_id="LMPD-18-0042").ref
        decide(app, ref)

        sender = HttpxSender()
        try:
            report = deliver_due(app, sender=sender)
        finally:
            sender.close()

    assert len(report.delivered) == 1
    assert report.failed == []
    [got] = receiver.received
    assert got.signature_ok
    assert got.path == "/hooks/assistgate"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-assistgate-event"] == "request:decided"
    assert got.json["ref"] == ref
    assert got.json["cad_incident_id"] == "LMPD-18-0042"
    assert got.json["decision"]["approved_actions"] == ["serve_criminal_warrant"]
    assert pending(app) == []


def test_an_endpoint_down_is_retried_with_backoff_and_gets_everything_in_order(app: App) -> None:
    with serving(Receiver(status=503)) as receiver:
        receiver.secret = add_endpoint(app, name="cad-main", url=receiver.url)
        first, second = new_request(app).ref, new_request(app).ref
        decide(app, first)
        cancel(app, second)
        sender = HttpxSender()
        t0 = utcnow()
        try:
            for n, at in enumerate(
                [t0, t0 + dt.timedelta(seconds=1), t0 + dt.timedelta(seconds=3)]
            ):
                report = deliver_due(app, sender=sender, now=at)
                assert report.delivered == []
                assert len(report.failed) == 1, "only the first is sent; the second waits"
                head, behind = pending(app)
                assert head.attempts == n + 1
                assert head.last_error == "HTTP 503"
                assert head.next_attempt_at == at + backoff(n + 1)
                assert behind.attempts == 0, "the second is never sent before the first"
                # Not due yet: nothing is sent before the backoff has passed.
                early = deliver_due(app, sender=sender, now=head.next_attempt_at
                                    - dt.timedelta(milliseconds=1))  # fmt: skip
                assert early.attempted == 0

            receiver.status = 204  # the dispatch system is back
            report = deliver_due(app, sender=sender, now=t0 + dt.timedelta(seconds=7))
        finally:
            sender.close()

    assert len(report.delivered) == 2
    assert pending(app) == []
    events = [(r.json["ref"], r.json["event"]) for r in receiver.accepted()]
    assert events == [(first, "request:decided"), (second, "request:cancelled")]
    assert all(r.signature_ok for r in receiver.received)
    assert len(receiver.received) == 5  # three refusals, then both


def test_a_disabled_endpoint_keeps_its_pending_notifications_until_enabled(app: App) -> None:
    sender = FakeWebhookSender()
    add_endpoint(app, name="cad-main", url="http://cad.example/hooks")
    decide(app, new_request(app).ref)
    with app.transaction() as session:
        session.scalars(select(WebhookEndpoint)).one().active = False
    assert deliver_due(app, sender=sender).attempted == 0
    assert len(pending(app)) == 1
    with app.transaction() as session:
        session.scalars(select(WebhookEndpoint)).one().active = True
    assert len(deliver_due(app, sender=sender).delivered) == 1
    assert [s.url for s in sender.sent] == ["http://cad.example/hooks"]


def test_one_endpoint_down_does_not_hold_back_another(app: App) -> None:
    sender = FakeWebhookSender(answer={"http://down.example/": None})
    add_endpoint(app, name="down", url="http://down.example/")
    add_endpoint(app, name="up", url="http://up.example/")
    decide(app, new_request(app).ref)
    report = deliver_due(app, sender=sender)
    assert len(report.delivered) == 1
    assert [error for _, error in report.failed] == ["connection failed: ConnectError"]
    assert [s.url for s in sender.sent] == ["http://up.example/"]


def test_nothing_is_lost_when_the_worker_process_dies(database_url: str, tmp_path: Path) -> None:
    """A process decides (the outbox row commits with the decision), starts sending and is
    killed mid-send; the next worker, in another process, delivers the notification."""
    FileKeyStore(tmp_path / "keys").init()
    with serving(Receiver(delay=30)) as stuck, serving(Receiver()) as receiver:
        child = subprocess.Popen(
            [sys.executable, str(CRASHING_WORKER), str(tmp_path), database_url, stuck.url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line.startswith("DECIDED "), child.stderr.read() if child.stderr else ""
        ref = line.split()[1]
        deadline = time.monotonic() + 20
        while not stuck.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert stuck.received, "the child never started sending"
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)

        app = open_app(Settings(data_dir=tmp_path, database_url=database_url))
        try:
            [left] = pending(app)
            assert left.attempts == 1, "the dead worker had claimed it"
            with app.transaction() as session:  # the dispatch system moved to another URL
                session.scalars(select(WebhookEndpoint)).one().url = receiver.url
            with app.sessions() as session:
                receiver.secret = session.scalars(select(WebhookEndpoint.secret)).one()
            assert deliver_due(app, sender=FakeWebhookSender()).attempted == 0, "still leased"
            sender = HttpxSender()
            try:
                report = deliver_due(app, sender=sender, now=utcnow() + LEASE)
            finally:
                sender.close()
            assert len(report.delivered) == 1
            assert pending(app) == []
        finally:
            app.close()

    [got] = receiver.received
    assert got.json["ref"] == ref
    assert got.json["id"] == stuck.received[0].json["id"], "same notification id: deduplicable"


def test_two_workers_never_deliver_one_message_twice(app: App) -> None:
    with serving(Receiver(delay=0.01)) as one, serving(Receiver(delay=0.01)) as two:
        one.secret = add_endpoint(app, name="cad-one", url=one.url)
        two.secret = add_endpoint(app, name="cad-two", url=two.url)
        refs = [new_request(app).ref for _ in range(12)]
        for ref in refs:
            cancel(app, ref)
        errors: list[BaseException] = []

        def work() -> None:
            sender = HttpxSender()
            try:
                while pending(app):
                    deliver_due(app, sender=sender)
                    time.sleep(0.005)
            except BaseException as exc:  # reported to the test below
                errors.append(exc)
            finally:
                sender.close()

        workers = [threading.Thread(target=work) for _ in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
        assert errors == []

    for receiver in (one, two):
        got = [r.json["ref"] for r in receiver.received]
        assert got == refs, "each message exactly once, in the order written"
        assert all(r.signature_ok for r in receiver.received)
    with app.sessions() as session:
        attempts = session.scalars(select(OutboxMessage.attempts)).all()
    assert set(attempts) == {1}


# --- The fake behaves as the real sender does ----------------------------------------------------


@pytest.mark.parametrize("status", [200, 202, 204, 301, 400, 404, 500, 503])
def test_the_fake_sender_answers_as_the_real_one_does(status: int) -> None:
    body, headers = b'{"event":"request:decided","ref":"AG-2026-0001"}', {
        "Content-Type": "application/json", "X-Assistgate-Timestamp": "1700000000",
        "X-Assistgate-Signature": signature("s", 1700000000, b"{}")}  # fmt: skip
    real = HttpxSender()
    try:
        with serving(Receiver(status=status)) as receiver:
            real_result = real.send(receiver.url, body=body, headers=headers)
            fake = FakeWebhookSender(answer={receiver.url: status})
            fake_result = fake.send(receiver.url, body=body, headers=headers)
    finally:
        real.close()
    assert fake_result == real_result
    assert real_result.delivered == (200 <= status < 300)
    [got] = receiver.received
    [recorded] = fake.sent
    assert (recorded.url, recorded.body) == (receiver.url, got.body)
    assert {k.lower(): v for k, v in recorded.headers.items()}.items() <= got.headers.items()


def test_the_fake_sender_fails_as_the_real_one_does_when_nobody_listens() -> None:
    with serving(Receiver()) as receiver:
        url = receiver.url
    real = HttpxSender()
    try:
        real_result = real.send(url, body=b"{}", headers={})
    finally:
        real.close()
    fake_result = FakeWebhookSender(answer={url: None}).send(url, body=b"{}", headers={})
    assert fake_result == real_result
    assert not real_result.delivered
    assert real_result.status is None
