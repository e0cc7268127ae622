"""Delivering the outbox to dispatch systems: signed POSTs, retried with backoff, in order.

The contract a dispatch system relies on (docs/API.md):

- each notification is POSTed as JSON to the endpoint's URL with the headers
  `X-Assistgate-Timestamp: <unix seconds>` and
  `X-Assistgate-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the
  endpoint's secret>`, plus `X-Assistgate-Event` and `X-Assistgate-Delivery`;
- any 2xx answer means delivered; anything else (or no answer) is retried after 1 s, 2 s,
  4 s, ... up to 10 minutes between attempts, for as long as it takes;
- an endpoint receives its notifications in the order they were written: the next is not
  sent before the previous one is delivered;
- delivery is at least once: a worker that dies after sending but before recording the
  delivery sends it again, so receivers ignore a notification `id` they already have.

Claiming a message is a short transaction (on PostgreSQL `SELECT ... FOR UPDATE SKIP
LOCKED`) that leases it: its next attempt is pushed past the send timeout, so no other worker
picks it while it is being sent, and no database lock is held during the HTTP call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased

from assistgate import __version__
from assistgate.app import App
from assistgate.db.base import utcnow
from assistgate.integrations.models import OutboxMessage, WebhookEndpoint

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Assistgate-Signature"
TIMESTAMP_HEADER = "X-Assistgate-Timestamp"
EVENT_HEADER = "X-Assistgate-Event"
DELIVERY_HEADER = "X-Assistgate-Delivery"
# How old a signed timestamp a receiver should accept; older ones may be replays.
SIGNATURE_TOLERANCE = dt.timedelta(minutes=5)

SEND_TIMEOUT = 10.0  # seconds, for connecting and for the answer
# A claimed message is not offered to another worker for this long: longer than a send.
LEASE = dt.timedelta(seconds=60)
FIRST_RETRY = dt.timedelta(seconds=1)
LONGEST_RETRY = dt.timedelta(minutes=10)


# --- Signatures: what the sender computes and what a receiver checks --------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header value: `sha256=` and the HMAC of "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature_header: str,
    now: dt.datetime,
    tolerance: dt.timedelta = SIGNATURE_TOLERANCE,
) -> bool:
    """Say whether a received notification is authentic and fresh (a receiver's check)."""
    if not timestamp.isdigit():
        return False
    sent = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), signature_header)


def backoff(attempts: int) -> dt.timedelta:
    """Return the wait before the next attempt after `attempts` failed ones (1 s doubling)."""
    if attempts < 1:
        return dt.timedelta(0)
    wait: dt.timedelta = FIRST_RETRY * 2 ** min(attempts - 1, 30)
    return min(wait, LONGEST_RETRY)


# --- Senders: the real one over HTTP and the fake the tests script ----------------------------


@dataclass(frozen=True)
class SendResult:
    """What became of one POST: delivered (a 2xx), or why not."""

    delivered: bool
    status: int | None
    error: str = ""


def result_for_status(status: int) -> SendResult:
    """Return the result of an HTTP answer: 2xx is delivered, anything else is retried."""
    if 200 <= status < 300:
        return SendResult(True, status)
    return SendResult(False, status, f"HTTP {status}")


class WebhookSender(Protocol):
    """Sends one signed notification to one URL; never raises for a failed delivery."""

    def send(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> SendResult: ...


class HttpxSender:
    """The real sender: an HTTP POST with httpx, redirects not followed."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=SEND_TIMEOUT, follow_redirects=False)

    def send(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> SendResult:
        try:
            response = self.client.post(url, content=body, headers=dict(headers))
        except httpx.TimeoutException:
            return SendResult(False, None, "timed out")
        except httpx.HTTPError as exc:
            return SendResult(False, None, f"connection failed: {type(exc).__name__}")
        return result_for_status(response.status_code)

    def close(self) -> None:
        self.client.close()


@dataclass(frozen=True)
class SentWebhook:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class FakeWebhookSender:
    """An in-memory dispatch system for tests: records every POST and answers as scripted.

    `answer` maps a URL to the status it answers (default 204), or to None for a system that
    cannot be reached.
    """

    answer: dict[str, int | None] = field(default_factory=dict)
    sent: list[SentWebhook] = field(default_factory=list)

    def send(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> SendResult:
        status = self.answer.get(url, 204)
        if status is None:
            return SendResult(False, None, "connection failed: ConnectError")
        self.sent.append(SentWebhook(url, body, dict(headers)))
        return result_for_status(status)


# --- The worker --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A leased message, with what is needed to send it outside any transaction."""

    id: int
    event: str
    url: str
    secret: str
    body: bytes
    attempts: int


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.delivered) + len(self.failed)


def _claim(app: App, *, now: dt.datetime, limit: int) -> list[Claimed]:
    """Lease the due head message of each active endpoint (oldest undelivered first)."""
    earlier = aliased(OutboxMessage)
    head = (
        select(earlier.id)
        .where(earlier.endpoint_id == OutboxMessage.endpoint_id, earlier.delivered_at.is_(None))
        .order_by(earlier.id)
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(OutboxMessage, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == OutboxMessage.endpoint_id)
        .where(
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.id == head,
            WebhookEndpoint.active,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        # PostgreSQL: rows another worker is claiming are skipped, not waited for. SQLite has
        # no row locks; its transactions take the write lock at BEGIN and so run one at a time.
        .with_for_update(of=OutboxMessage, skip_locked=True)
    )
    with app.transaction() as session:
        claimed = []
        for message, endpoint in session.execute(query):
            message.attempts += 1
            message.next_attempt_at = now + LEASE
            claimed.append(Claimed(message.id, message.event, endpoint.url, endpoint.secret,
                                   message.body, message.attempts))  # fmt: skip
        return claimed


def _headers(message: Claimed, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"assistgate/{__version__}",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(message.secret, timestamp, message.body),
        EVENT_HEADER: message.event,
        DELIVERY_HEADER: str(message.id),
    }


def _record(session: Session, message: Claimed, result: SendResult, now: dt.datetime) -> None:
    if result.delivered:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.delivered_at.is_(None))
            .values(delivered_at=now, last_error="")
        )
        return
    # Only while still this worker's claim: if the lease ran out and another worker took the
    # message meanwhile, its own attempt decides the next one.
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.attempts == message.attempts,
        )
        .values(last_error=result.error[:500], next_attempt_at=now + backoff(message.attempts))
    )


def deliver_due(
    app: App,
    *,
    sender: WebhookSender,
    now: dt.datetime | None = None,
    limit: int = 100,
    clock: Callable[[], dt.datetime] = utcnow,
) -> DeliveryReport:
    """Send every message that is due, in order per endpoint, until none is due.

    `now` fixes the time of the whole pass (tests); without it the clock is read at each step.
    """
    report = DeliveryReport()
    while True:
        claimed = _claim(app, now=now or clock(), limit=limit)
        if not claimed:
            return report
        progress = False
        for message in claimed:
            sent_at = now or clock()
            result = sender.send(
                message.url, body=message.body, headers=_headers(message, int(sent_at.timestamp()))
            )
            with app.transaction() as session:
                _record(session, message, result, now or clock())
            if result.delivered:
                report.delivered.append(message.id)
                progress = True
            else:
                report.failed.append((message.id, result.error))
                log.warning("webhook %s to %s failed (attempt %d): %s", message.id,
                            message.url, message.attempts, result.error)  # fmt: skip
        if not progress:
            # Everything claimed failed: the next attempts are scheduled in the future.
            return report


def run_worker(
    app: App,
    *,
    sender: WebhookSender,
    stop: threading.Event,
    interval: float = 1.0,
) -> None:
    """Deliver the outbox until `stop` is set, polling every `interval` seconds."""
    while not stop.is_set():
        try:
            deliver_due(app, sender=sender)
        except OperationalError as exc:  # the database restarting: one line, no traceback
            log.warning("outbox delivery pass failed: the database cannot be reached (%s)",
                        type(exc.orig).__name__)  # fmt: skip
        except Exception:  # a database hiccup must not end the worker; the next pass retries
            log.exception("outbox delivery pass failed")
        stop.wait(interval)


def start_worker_thread(
    app: App, *, sender: WebhookSender | None = None, interval: float = 1.0
) -> tuple[threading.Thread, threading.Event]:
    """Start `run_worker` in a daemon thread; return it and the event that stops it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        kwargs={"app": app, "sender": sender or HttpxSender(), "stop": stop, "interval": interval},
        name="assistgate-outbox",
        daemon=True,
    )
    thread.start()
    return thread, stop
