"""The outbox: notifications owed to dispatch systems, written in the transaction of the change.

A step that decides, dispatches, closes or cancels a request writes one outbox row per active
endpoint before it commits; the worker in `webhooks.py` delivers them later. The change and
its notifications are committed together or not at all, so a crash between the two cannot
lose a notification (it can only delay one).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.db.base import utcnow
from assistgate.integrations.models import OutboxMessage, WebhookEndpoint
from assistgate.requests.enums import Event
from assistgate.requests.models import Decision, Request
from assistgate.requests.service import current_decision
from assistgate.requests.snapshot import json_value

# What a dispatch system acts on: the decision, the units sent, the end of the request.
NOTIFIED_EVENTS = frozenset({Event.DECIDED, Event.DISPATCHED, Event.CLOSED, Event.CANCELLED})


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def decision_view(decision: Decision) -> dict[str, Any]:
    """Return what a dispatch system needs of a decision, as JSON values."""
    answer = decision.answer
    return {
        "outcome": decision.outcome,
        "decided_at": json_value(decision.decided_at),
        "decided_by": decision.decided_by,
        "grounds": list(answer.get("grounds", [])),
        "permitted_actions": list(answer.get("permitted_actions", [])),
        "prohibited_actions": list(answer.get("prohibited_actions", [])),
        "required_actions": list(answer.get("required_actions", [])),
        "approved_actions": list(decision.approved_actions),
        "clauses": sorted({str(r["clause"]) for r in answer.get("reasons", [])}),
        "profiles": _as_list(answer.get("profile", [])),
        "profile_versions": _as_list(answer.get("profile_version", [])),
    }


def notification(
    session: Session, request: Request, *, event: str, at: dt.datetime
) -> dict[str, Any]:
    """Return the notification of `event` on `request` (the body every endpoint receives)."""
    decision = current_decision(session, request)
    return {
        # One id per notification, the same for every endpoint and every retry: a receiver
        # that sees it twice (delivery is at least once) ignores the second.
        "id": str(uuid.uuid4()),
        "event": str(event),
        "ref": request.ref,
        "cad_incident_id": request.cad_incident_id,
        "state": request.state,
        "decision": decision_view(decision) if decision is not None else None,
        "units": list(request.units or []),
        "at": json_value(at),
    }


def encode(body: dict[str, Any]) -> bytes:
    """Encode a notification as the exact bytes that are signed and sent (sorted, compact)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def enqueue(session: Session, *, event: str, request: Request, at: dt.datetime) -> int:
    """Write the notification of `event` for every active endpoint; return how many rows."""
    endpoints = session.scalars(
        select(WebhookEndpoint.id).where(WebhookEndpoint.active).order_by(WebhookEndpoint.id)
    ).all()
    if not endpoints:
        return 0
    body = encode(notification(session, request, event=event, at=at))
    # The row's own times are the real clock's: `at` may be a dispatch system's timestamp.
    written = utcnow()
    for endpoint_id in endpoints:
        session.add(OutboxMessage(endpoint_id=endpoint_id, event=str(event),
                                  request_ref=request.ref, body=body, created_at=written,
                                  attempts=0, next_attempt_at=written, last_error=""))  # fmt: skip
    session.flush()
    return len(endpoints)


def after_step(session: Session, request: Request, event: str, now: dt.datetime) -> None:
    """The deployment's step hook: enqueue the notifications a dispatch system acts on."""
    if event in NOTIFIED_EVENTS:
        enqueue(session, event=event, request=request, at=now)
