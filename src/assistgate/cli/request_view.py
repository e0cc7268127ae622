"""How `assistgate request show|list` present a request: as JSON, and as text for the screen.

JSON keeps every field as the ledger records it (times as ISO 8601 UTC); text shows times in
the deployment's time zone and the timeline read from the ledger's entries.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.cli.common import local_time, table
from assistgate.ledger.entry import TIMESTAMP_PATTERN, Entry
from assistgate.ledger.errors import EntryError
from assistgate.ledger.models import LedgerEntryRow
from assistgate.requests.enums import Event
from assistgate.requests.models import Decision, Request
from assistgate.requests.snapshot import decision_snapshot, request_snapshot

WIDTH = 96
LABEL = 16


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One ledger entry about a request; `data` is None when the stored body does not decode."""

    seq: int
    at: str
    actor: str
    event: str
    data: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "event": self.event,
            "data": self.data,
        }


def timeline(session: Session, ref: str) -> list[TimelineEntry]:
    """Return the ledger's entries about request `ref`, in order."""
    rows = session.scalars(
        select(LedgerEntryRow).where(LedgerEntryRow.subject == ref).order_by(LedgerEntryRow.seq)
    )
    steps = []
    for row in rows:
        try:
            data: dict[str, Any] | None = Entry.from_bytes(row.body).data
        except EntryError:
            data = None
        steps.append(TimelineEntry(row.seq, row.at, row.actor, row.event, data))
    return steps


def request_json(
    request: Request, decision: Decision | None, steps: list[TimelineEntry] | None = None
) -> dict[str, Any]:
    """Return a request (with its decision, and its timeline when given) as stable JSON."""
    out = request_snapshot(request)
    out["decision"] = decision_snapshot(decision) if decision is not None else None
    if steps is not None:
        out["timeline"] = [s.to_json() for s in steps]
    return out


def _words(value: str) -> str:
    return value.replace("_", " ")


def _list(values: Any) -> str:
    return ", ".join(_words(str(v)) for v in values) if values else "none"


def _field(label: str, value: str) -> list[str]:
    indent = " " * (LABEL + 2)
    text = textwrap.fill(value, WIDTH, initial_indent=indent, subsequent_indent=indent)
    return [f"  {label.ljust(LABEL)}{text[len(indent) :]}"]


def request_lines(request: Request, zone: dt.tzinfo) -> list[str]:
    """Return every field of a request as labelled lines."""
    flag = "  (flagged for review)" if request.flagged_for_review else ""
    lines = [f"{request.ref}  {request.state}{flag}"]
    official = ", ".join(p for p in (request.official_name, request.official_badge) if p)
    identity = request.identity_check + (
        f": {request.identity_note}" if request.identity_note else ""
    )
    place = request.location + (f" (district {request.district})" if request.district else "")
    fields = [
        (
            "received",
            f"{local_time(request.received_at, zone)}, registered by {request.call_taker}",
        ),
        ("agency", request.agency),
        ("official", official),
        ("callback", request.callback_number or "-"),
        ("identity", identity),
        ("location", place),
        ("caller's words", request.caller_words),
        ("requested", _list(request.requested_actions)),
        ("CAD incident", request.cad_incident_id or "-"),
        ("commander", request.commander or "-"),
    ]
    if request.dispatched_at is not None:
        sent = f"{', '.join(request.units)}, sent {local_time(request.dispatched_at, zone)}"
        fields.append(("units", sent))
    for label, moment in (("arrived", request.arrived_at), ("cleared", request.cleared_at)):
        if moment is not None:
            fields.append((label, local_time(moment, zone)))
    fields.append(
        ("recording", f"sha256 {request.recording_sha256}" if request.recording_sha256 else "-")
    )
    for kind, reason in request.exceptions.items():
        fields.append(("exception", f"{_words(kind)}: {reason}"))
    if request.outcome is not None:
        fields.append(("outcome", _outcome(request.outcome)))
    if request.closed_at is not None:
        fields.append(("closed", local_time(request.closed_at, zone)))
    if request.cancel_reason:
        fields.append(("cancelled", request.cancel_reason))
    for label, value in fields:
        lines += _field(label, value)
    return lines


def _outcome(outcome: dict[str, Any]) -> str:
    arrests = [a["offense_category"] for a in outcome.get("police_arrests", [])]
    asked = "yes" if outcome.get("immigration_status_asked") else "no"
    parts = [
        f"officers did: {_list(outcome.get('officer_actions'))}",
        f"police arrests: {', '.join(arrests) or 'none'}",
        f"agency arrests: {outcome.get('agency_arrests', 0)}",
        f"immigration status asked: {asked}",
    ]
    if outcome.get("summary"):
        parts.append(str(outcome["summary"]))
    return "; ".join(parts)


def answer_lines(answer: dict[str, Any]) -> list[str]:
    """Return the policy's answer as recorded (grounds, actions, clauses), as text."""
    profiles = answer["profile"] if isinstance(answer["profile"], list) else [answer["profile"]]
    versions = answer["profile_version"]
    versions = versions if isinstance(versions, list) else [versions]
    under = " + ".join(f"{p} ({v})" for p, v in zip(profiles, versions, strict=False))
    head = "MAY SEND OFFICERS" if answer["decision"] == "dispatch" else "DECLINE: NO OFFICERS"
    lines = [
        f"  the policy says: {head}",
        f"    under {under}, for a request of {answer['date']}",
        f"    grounds: {_list(answer['grounds'])}",
    ]
    for key in ("permitted_actions", "prohibited_actions", "required_actions"):
        lines.append(f"    {key.split('_')[0]}: {_list(answer[key])}")
    lines.append("    because:")
    several = len(profiles) > 1
    for reason in answer["reasons"]:
        where = f"{reason['profile']}: " if several else ""
        lines.append(f"      {where}[{reason['clause']}] {', '.join(reason['applies_to'])}")
    return lines


def decision_lines(decision: Decision, zone: dt.tzinfo) -> list[str]:
    """Return the commanding officer's decision: what was sent, the note, the policy's answer."""
    sent = "DISPATCH" if decision.outcome == "dispatch" else "DECLINE"
    lines = [
        f"Decision: {sent}, by {decision.decided_by} at {local_time(decision.decided_at, zone)}",
        f"  approved: {_list(decision.approved_actions)}",
        f"  commanding officer's note: {decision.note or '-'}",
    ]
    return lines + answer_lines(decision.answer)


def _short(value: Any, zone: dt.tzinfo, limit: int = 60) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, str) and TIMESTAMP_PATTERN.fullmatch(value):
        text = local_time(value, zone)
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value) or "none"
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(step: TimelineEntry, zone: dt.tzinfo) -> str:
    """Say what one entry changed, briefly."""
    if step.data is None:
        return "(the stored entry does not decode: run 'assistgate ledger verify')"
    changes = step.data.get("request", {})
    if step.event == Event.CREATED:
        return f"registered; state {changes.get('state', '?')}"
    parts = [f"{name} {_short(value, zone)}" for name, value in changes.items()]
    decision = step.data.get("decision")
    if isinstance(decision, dict):
        parts.append(
            f"decision {decision.get('outcome')}, approved "
            f"{_short(decision.get('approved_actions'), zone)}"
        )
    parts += [
        f"{k} {_short(v, zone)}" for k, v in step.data.items() if k not in ("request", "decision")
    ]
    return "; ".join(parts) or "-"


def timeline_lines(steps: list[TimelineEntry], zone: dt.tzinfo) -> list[str]:
    """Return the timeline as a table: local time, actor, event, what changed."""
    rows = [[local_time(s.at, zone), s.actor, s.event, describe(s, zone)] for s in steps]
    return table(rows, ["TIME", "ACTOR", "EVENT", "CHANGED"]).splitlines()


def list_rows(requests: list[Request], zone: dt.tzinfo) -> str:
    """Return the register as a table: ref, received, agency, state, commander, flagged."""
    rows = [
        [
            r.ref,
            local_time(r.received_at, zone),
            r.agency,
            r.state,
            r.commander or "-",
            "yes" if r.flagged_for_review else "",
        ]
        for r in requests
    ]
    return table(rows, ["REF", "RECEIVED", "AGENCY", "STATE", "COMMANDER", "FLAGGED"])
