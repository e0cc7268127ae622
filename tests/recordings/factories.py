"""An app with an archive, requests held by a commanding officer, and sidecars."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from assistgate.app import App
from assistgate.ledger.models import LedgerEntryRow
from assistgate.recordings.enums import Source
from assistgate.recordings.service import Archive, Ingested, ingest
from assistgate.recordings.sidecar import Sidecar, parse_sidecar
from assistgate.requests import service
from tests.factories import LOUISVILLE, new_request

CALL_START = dt.datetime(2018, 3, 6, 9, 47, tzinfo=LOUISVILLE)


def held_request(app: App, commander: str = "lt.okafor", **fields: Any) -> str:
    """Register a request and have `commander` claim it; return its reference."""
    ref = new_request(app, **fields).ref
    with app.transaction() as session:
        service.claim(session, app.deployment, actor=app.user(session, commander), ref=ref,
                      now=dt.datetime(2018, 3, 6, 9, 43, tzinfo=LOUISVILLE))  # fmt: skip
    return ref


def sidecar(**fields: Any) -> Sidecar:
    """A recorder's sidecar for a call from extension 4101 (Lt. Okafor) to the agency."""
    import json

    raw = {"recorder_call_id": "NX-77812", "call_started_at": CALL_START.isoformat(),
           "call_ended_at": (CALL_START + dt.timedelta(minutes=3)).isoformat(),
           "parties": ["4101", "+1 202 555 0147"], **fields}  # fmt: skip
    return parse_sidecar(json.dumps({k: v for k, v in raw.items() if v is not None}), "test")


def put(
    app: App, archive: Archive, data: bytes, *, by: str = "lt.okafor", name: str = "call.wav",
    source: Source = Source.UPLOAD, **kwargs: Any,
) -> Ingested:  # fmt: skip
    now = CALL_START + dt.timedelta(minutes=5)
    with app.transaction() as session:
        return ingest(session, archive, actor=app.user(session, by), data=data, name=name,
                      source=source, now=now, **kwargs)  # fmt: skip


def entries(app: App, subject: str, event: str | None = None) -> list[LedgerEntryRow]:
    with app.sessions() as session:
        query = select(LedgerEntryRow).where(LedgerEntryRow.subject == subject)
        if event is not None:
            query = query.where(LedgerEntryRow.event == event)
        return list(session.scalars(query.order_by(LedgerEntryRow.seq)))
