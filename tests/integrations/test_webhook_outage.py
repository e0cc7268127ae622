"""A dispatch system's endpoint down for an hour, and a process killed between a change and its
webhook: everything is delivered afterwards, once, in the order it was written.

The hour passes on the outbox's own clock (`deliver_due(now=...)`), waking the worker when the
next attempt is due, as the real worker's one-second poll would find it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from assistgate.app import App, open_app
from assistgate.db.base import utcnow
from assistgate.integrations.models import WebhookEndpoint
from assistgate.integrations.webhooks import (
    LONGEST_RETRY,
    FakeWebhookSender,
    HttpxSender,
    deliver_due,
)
from assistgate.ledger.keys import FileKeyStore
from assistgate.settings import Settings
from tests.factories import new_request
from tests.integrations.helpers import add_endpoint, cancel, decide, dispatch
from tests.integrations.receiver import Receiver, serving
from tests.integrations.test_webhooks import CRASHING_WORKER, ROOT, pending

CAD = "http://cad.example/hooks"
HOUR = dt.timedelta(hours=1)


def next_due(app: App) -> dt.datetime | None:
    """Return when the endpoint's head message (the oldest undelivered) is next tried."""
    head = pending(app)
    return head[0].next_attempt_at if head else None


def test_an_endpoint_down_for_an_hour_gets_everything_after_in_the_order_written(
    app: App,
) -> None:
    sender = FakeWebhookSender(answer={CAD: None})
    add_endpoint(app, name="cad-main", url=CAD)
    refs = [new_request(app).ref for _ in range(4)]
    written: list[tuple[str, str]] = []
    start = utcnow()
    clock, attempts = start, []
    for n, ref in enumerate(refs):  # changes keep coming while the endpoint is down
        if n % 2 == 0:
            decide(app, ref)
            dispatch(app, ref)
            written += [(ref, "request:decided"), (ref, "request:dispatched")]
        else:
            cancel(app, ref)
            written.append((ref, "request:cancelled"))
        for _ in range(4):
            report = deliver_due(app, sender=sender, now=clock)
            attempts += [clock] * report.attempted
            assert report.delivered == []
            clock = max(clock, next_due(app) or clock)
    while clock < start + HOUR:
        report = deliver_due(app, sender=sender, now=clock)
        assert report.delivered == []
        assert report.attempted == 1, "only the head is tried"
        attempts.append(clock)
        clock = next_due(app) or clock

    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert max(gaps) <= LONGEST_RETRY, "never more than ten minutes between attempts"
    assert len(attempts) < 40, "backing off, not hammering the endpoint"
    behind = pending(app)
    assert [m.attempts for m in behind[1:]] == [0] * (len(written) - 1), "the head blocks the rest"

    sender.answer[CAD] = 204  # the dispatch system is back
    report = deliver_due(app, sender=sender, now=clock + LONGEST_RETRY)
    assert len(report.delivered) == len(written)
    assert pending(app) == []
    got = [(json.loads(s.body)["ref"], json.loads(s.body)["event"]) for s in sender.sent]
    assert got == written, "in the order written, so per request in order too"
    ids = [json.loads(s.body)["id"] for s in sender.sent]
    assert len(set(ids)) == len(ids), "each once"
    assert deliver_due(app, sender=sender, now=clock + 2 * HOUR).attempted == 0


def test_a_process_killed_after_its_commit_and_before_sending_still_gets_the_webhook_out_once(
    database_url: str, tmp_path: Path
) -> None:
    """The decision commits with its outbox row; the process dies before sending anything;
    the next worker (another process) sends it, and only once."""
    FileKeyStore(tmp_path / "keys").init()
    with serving(Receiver()) as receiver:
        child = subprocess.Popen(
            [sys.executable, str(CRASHING_WORKER), str(tmp_path), database_url, receiver.url,
             "before-send"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line.startswith("DECIDED "), child.stderr.read() if child.stderr else ""
        ref = line.split()[1]
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
        assert receiver.received == [], "nothing was sent before the process died"

        app = open_app(Settings(data_dir=tmp_path, database_url=database_url))
        try:
            [left] = pending(app)
            assert left.attempts == 0, "never claimed: no lease to wait for"
            with app.sessions() as session:
                receiver.secret = session.scalars(select(WebhookEndpoint.secret)).one()
            sender = HttpxSender()
            try:
                first = deliver_due(app, sender=sender)
                again = deliver_due(app, sender=sender, now=utcnow() + HOUR)
            finally:
                sender.close()
        finally:
            app.close()

    assert len(first.delivered) == 1
    assert again.attempted == 0
    [got] = receiver.received
    assert got.signature_ok
    assert (got.json["ref"], got.json["event"]) == (ref, "request:decided")
