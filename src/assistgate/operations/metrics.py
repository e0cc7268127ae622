"""Prometheus metrics in the text exposition format (version 0.0.4), written by hand.

Two kinds, so that several `assistgate serve` processes report correctly side by side:

- HTTP latency is counted in each process (`HttpMetrics`, in memory) and describes that
  process only; Prometheus scrapes every process on its own port and sums across instances.
- Everything about the register (requests by state, time to decision, the outbox, the review
  queue of recordings, the ledger) is read from the database at each scrape, so every process
  answers the same figures and nothing is lost when a process restarts.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistgate import __version__
from assistgate.db.base import utcnow
from assistgate.integrations.models import OutboxMessage
from assistgate.ledger.models import LedgerHead
from assistgate.recordings.models import RecordingReview
from assistgate.requests.enums import State
from assistgate.requests.models import Decision, Request

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: a screen answers in milliseconds; a burst that waits its turn may take seconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds from the agency's call to the commanding officer's decision: minutes, rarely hours.
DECISION_BUCKETS = (60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 86400.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Sequence[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in pairs) + "}"


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


@dataclass
class Histogram:
    """Cumulative bucket counts, their sum and count, as Prometheus expects them."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * len(self.bounds)

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str, labels: Sequence[tuple[str, str]] = ()) -> list[str]:
        out = [f"{name}_bucket{_labels([*labels, ('le', _number(b))])} {c}"
               for b, c in zip(self.bounds, self.counts, strict=True)]  # fmt: skip
        out.append(f"{name}_bucket{_labels([*labels, ('le', '+Inf')])} {self.count}")
        out.append(f"{name}_sum{_labels(labels)} {_number(round(self.total, 6))}")
        out.append(f"{name}_count{_labels(labels)} {self.count}")
        return out


def _family(name: str, kind: str, help_text: str, lines: Iterable[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *lines]


class HttpMetrics:
    """This process's HTTP latency by method, route template and status (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str, str], Histogram] = {}
        self.started = time.time()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one response: the time from its arrival until its headers went out."""
        key = (method, route, str(status))
        with self._lock:
            histogram = self._by_key.setdefault(key, Histogram(HTTP_BUCKETS))
            histogram.observe(seconds)

    def render(self) -> list[str]:
        """Return this process's families in the exposition format."""
        with self._lock:
            items = sorted(self._by_key.items())
            series: list[str] = []
            for (method, route, status), histogram in items:
                labels = [("method", method), ("route", route), ("status", status)]
                series += histogram.lines("assistgate_http_request_duration_seconds", labels)
        return [
            *_family("assistgate_http_request_duration_seconds", "histogram",
                     "Time from a request's arrival until its response started, in this "
                     "process, by method, route template and status.", series),
            *_family("assistgate_process_start_time_seconds", "gauge",
                     "When this process started (Unix time).",
                     [f"assistgate_process_start_time_seconds {self.started:.3f}"]),
            *_family("assistgate_build_info", "gauge", "The running version (always 1).",
                     [f'assistgate_build_info{{version="{_label(__version__)}"}} 1']),
        ]  # fmt: skip


def register_metrics(session: Session, now: dt.datetime | None = None) -> list[str]:
    """Return the figures read from the database, in the exposition format."""
    now = now or utcnow()
    counted = session.execute(select(Request.state, func.count()).group_by(Request.state))
    by_state: dict[str, int] = {row[0]: row[1] for row in counted}
    states = [f'assistgate_requests{{state="{s.value}"}} {by_state.get(s.value, 0)}'
              for s in State]  # fmt: skip
    first = (
        select(Decision.request_id, func.min(Decision.decided_at).label("decided_at"))
        .group_by(Decision.request_id)
        .subquery()
    )
    decisions = Histogram(DECISION_BUCKETS)
    decided_rows = select(Request.received_at, first.c.decided_at).join(
        first, first.c.request_id == Request.id
    )
    for received, decided in session.execute(decided_rows):
        decisions.observe(max(0.0, (decided - received).total_seconds()))
    backlog, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.delivered_at.is_(None)
        )
    ).one()
    age = _number(round(max(0.0, (now - oldest).total_seconds()), 3)) if oldest else "0"
    awaiting = session.scalar(
        select(func.count())
        .select_from(RecordingReview)
        .where(RecordingReview.resolved_at.is_(None))
    )
    ledger_size = session.scalar(select(LedgerHead.size)) or 0
    return [
        *_family("assistgate_requests", "gauge", "Requests in the register by state.", states),
        *_family("assistgate_time_to_decision_seconds", "histogram",
                 "From a request's arrival to the commanding officer's first decision, over "
                 "every decided request.", decisions.lines("assistgate_time_to_decision_seconds")),
        *_family("assistgate_outbox_backlog", "gauge",
                 "Notifications to dispatch systems not yet delivered.",
                 [f"assistgate_outbox_backlog {backlog}"]),
        *_family("assistgate_outbox_oldest_undelivered_age_seconds", "gauge",
                 "Age of the oldest notification not yet delivered (0 when none waits).",
                 [f"assistgate_outbox_oldest_undelivered_age_seconds {age}"]),
        *_family("assistgate_recordings_awaiting_match", "gauge",
                 "Recorded calls in the review queue, waiting to be matched to a request.",
                 [f"assistgate_recordings_awaiting_match {awaiting or 0}"]),
        *_family("assistgate_ledger_entries", "gauge", "Entries in the ledger.",
                 [f"assistgate_ledger_entries {ledger_size}"]),
    ]  # fmt: skip


def exposition(http: HttpMetrics, session: Session) -> str:
    """Return the whole page a scrape receives."""
    return "\n".join([*register_metrics(session), *http.render()]) + "\n"
