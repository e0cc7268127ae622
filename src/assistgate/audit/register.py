"""Read what reconciliation needs from the request register (thin: one query, no decisions)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from assistgate.audit.reconcile import RegisterEntry
from assistgate.requests.models import Request


def register_entries(
    session: Session, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[RegisterEntry]:
    """Return every request received in [since, until] (each bound optional), oldest first.

    Requests whose CAD incident id is set are returned whatever their date, so that a call
    matched by id is never reported as a bypass because its request was logged late.
    """
    query = select(
        Request.ref, Request.cad_incident_id, Request.received_at, Request.location, Request.state
    ).order_by(Request.received_at, Request.ref)
    in_range = []
    if since is not None:
        in_range.append(Request.received_at >= since)
    if until is not None:
        in_range.append(Request.received_at <= until)
    if in_range:
        query = query.where(or_(and_(*in_range), Request.cad_incident_id.is_not(None)))
    return [
        RegisterEntry(
            ref=ref,
            cad_incident_id=cad,
            received_at=received.astimezone(dt.UTC),
            location=location,
            state=state,
        )
        for ref, cad, received, location, state in session.execute(query)
    ]
