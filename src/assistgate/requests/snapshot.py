"""Rows as plain JSON values: what the ledger records, and what verification compares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from assistgate.requests.models import Decision, Request

# Columns left out: surrogate keys and bookkeeping that no entry describes.
REQUEST_FIELDS = (
    "ref", "cad_incident_id", "received_at", "state", "agency", "official_name",
    "official_badge", "callback_number", "identity_check", "identity_note", "location",
    "district", "caller_words", "requested_actions", "call_taker", "commander",
    "escalation_level", "dispatched_at", "units", "arrived_at", "cleared_at",
    "recording_sha256", "exceptions", "flagged_for_review", "outcome", "closed_at",
    "cancel_reason",
)  # fmt: skip
# Columns added after the first schema, with the value every older row holds until an entry
# sets it: the ledger's first entries of such a row could not mention them.
LATER_FIELDS: dict[str, Any] = {"escalation_level": 0}

DECISION_FIELDS = (
    "decided_at", "decided_by", "assessment", "answer", "outcome", "approved_actions", "note",
    "engine_version",
)  # fmt: skip


def json_value(value: Any) -> Any:
    """Return a column value as a JSON value (datetimes as UTC ISO text with microseconds)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def snapshot_values(fields: tuple[str, ...], values: Sequence[Any]) -> dict[str, Any]:
    """Return column values read in `fields` order as a snapshot (fast path for verification)."""
    snapshot = dict(zip(fields, values, strict=True))
    for name, value in snapshot.items():
        if type(value) is dt.datetime:
            snapshot[name] = json_value(value)
    return snapshot


def request_snapshot(request: Request | Any) -> dict[str, Any]:
    """Return every described column of a request (a model or a row) as JSON values."""
    return {f: json_value(getattr(request, f)) for f in REQUEST_FIELDS}


def decision_snapshot(decision: Decision | Any) -> dict[str, Any]:
    """Return every described column of a decision (a model or a row) as JSON values."""
    return {f: json_value(getattr(decision, f)) for f in DECISION_FIELDS}


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Return the fields whose values differ, with their new values."""
    return {k: v for k, v in after.items() if before.get(k, _MISSING) != v}


_MISSING = object()
