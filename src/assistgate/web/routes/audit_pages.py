"""The auditor's screens: search every request, read any one, export a selection, and check
the ledger (verify it on demand; the latest signed checkpoint and the key to check it offline).

Nothing here changes a request. The only form is the verification button, which reads. What
the auditor does is itself recorded: every request opened (`access:request_viewed`), every
export (`audit:exported`) and every verification (`audit:ledger_verified`) is a ledger entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from assistgate.app import App
from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.cli.common import local_time
from assistgate.cli.request_view import TimelineEntry, describe
from assistgate.ledger.checkpoint import SignedCheckpoint, verify_checkpoint
from assistgate.ledger.entry import Entry
from assistgate.ledger.errors import CheckpointError, EntryError
from assistgate.ledger.hashing import leaf_hash
from assistgate.ledger.keys import key_id, public_key_pem
from assistgate.ledger.models import CheckpointRow, LedgerEntryRow, LedgerHead
from assistgate.ledger.store import HEAD_ID
from assistgate.ledger.verify import verify_database
from assistgate.policy import default_registry
from assistgate.policy.facts import AGENCIES
from assistgate.requests.enums import State
from assistgate.requests.models import Decision
from assistgate.requests.models import Request as Req
from assistgate.web.access import REQUEST_VIEWED, record_view
from assistgate.web.app import templates
from assistgate.web.deps import AppDep, Auditor, CsrfChecked, DbSession, require_roles

router = APIRouter(include_in_schema=False)

# Bulk export of criminal justice records is the inspector's function: auditors only, not the
# commanders who may search and read (least privilege, CJIS AC-6).
Inspector = Annotated[User, Depends(require_roles(Role.AUDITOR))]

EXPORTED = "audit:exported"
LEDGER_VERIFIED = "audit:ledger_verified"
SHOWN = 500
OUTCOMES = {"dispatch": "officers sent", "decline": "declined", "undecided": "not decided"}
REVIEW = {
    "flagged": "flagged for review",
    "exception": "with a recorded exception",
    "clean": "neither flagged nor excepted",
}


@dataclass(frozen=True)
class Filters:
    """What the auditor asked for; every field empty means every request."""

    date_from: str = ""
    date_to: str = ""
    agency: str = ""
    outcome: str = ""
    ground: str = ""
    review: str = ""
    state: str = ""

    def problems(self) -> list[str]:
        """Return what is malformed in the filters (those parts are ignored)."""
        found = []
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value and _date(value) is None:
                found.append(f"{name.replace('_', ' ')}: expected a date like 2018-03-06")
        choices = {"agency": AGENCIES, "outcome": OUTCOMES, "review": REVIEW,
                   "state": [s.value for s in State]}  # fmt: skip
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value and value not in allowed:
                found.append(f"{name}: {value!r} is not one of the choices")
        return found

    def as_query(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


def filters(
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    agency: Annotated[str, Query(max_length=32)] = "",
    outcome: Annotated[str, Query(max_length=16)] = "",
    ground: Annotated[str, Query(max_length=64)] = "",
    review: Annotated[str, Query(max_length=16)] = "",
    state: Annotated[str, Query(max_length=32)] = "",
) -> Filters:
    """Read the filters from the address (GET: a search can be bookmarked and shared)."""
    return Filters(date_from.strip(), date_to.strip(), agency, outcome, ground.strip(), review,
                   state)  # fmt: skip


FiltersDep = Annotated[Filters, Depends(filters)]


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _local_midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone)


def _query(f: Filters, zone: dt.tzinfo) -> Select[Req, Decision]:
    query = select(Req, Decision).outerjoin(Decision, Decision.id == Req.decision_id)
    if (start := _date(f.date_from)) is not None:
        query = query.where(Req.received_at >= _local_midnight(start, zone))
    if (end := _date(f.date_to)) is not None:
        query = query.where(Req.received_at < _local_midnight(end + dt.timedelta(days=1), zone))
    if f.agency in AGENCIES:
        query = query.where(Req.agency == f.agency)
    if f.state in {s.value for s in State}:
        query = query.where(Req.state == f.state)
    if f.outcome in ("dispatch", "decline"):
        query = query.where(Decision.outcome == f.outcome)
    elif f.outcome == "undecided":
        query = query.where(Req.decision_id.is_(None))
    if f.review == "flagged":
        query = query.where(Req.flagged_for_review.is_(True))
    return query.order_by(Req.received_at.desc(), Req.id.desc())


def select_requests(db: Session, f: Filters, zone: dt.tzinfo) -> list[tuple[Req, Decision | None]]:
    """Return the requests matching the filters, newest first, each with its decision."""
    found: list[tuple[Req, Decision | None]] = []
    for request, decision in db.execute(_query(f, zone)):
        if f.ground and (decision is None or f.ground not in decision.answer.get("grounds", [])):
            continue
        if f.review == "exception" and not request.exceptions:
            continue
        if f.review == "clean" and (request.exceptions or request.flagged_for_review):
            continue
        found.append((request, decision))
    return found


def ground_choices(app: App) -> list[str]:
    """Return every ground the deployment's instruments can find, for the filter."""
    registry = default_registry()
    return sorted({g.id for pid in app.settings.profiles for p in registry.versions(pid)
                   for g in p.grounds})  # fmt: skip


def _words(values: Any) -> str:
    return ", ".join(str(v).replace("_", " ") for v in values) if values else ""


def _row(request: Req, decision: Decision | None, zone: dt.tzinfo) -> dict[str, Any]:
    marks = []
    if request.flagged_for_review:
        marks.append("flagged")
    marks += [k.replace("_", " ") for k in request.exceptions]
    return {
        "ref": request.ref,
        "received": local_time(request.received_at, zone),
        "agency": request.agency,
        "requested": _words(request.requested_actions),
        "state": request.state.replace("_", " "),
        "outcome": OUTCOMES[decision.outcome] if decision else "",
        "grounds": _words(decision.answer.get("grounds")) if decision else "",
        "commander": request.commander or "",
        "marks": ", ".join(marks),
    }


@router.get("/audit", response_class=HTMLResponse)
def search(request: Request, user: Auditor, app: AppDep, db: DbSession, f: FiltersDep) -> Response:
    zone = app.settings.zone
    found = select_requests(db, f, zone)
    total = db.scalar(select(func.count()).select_from(Req)) or 0
    context = {
        "f": f,
        "problems": f.problems(),
        "rows": [_row(r, d, zone) for r, d in found[:SHOWN]],
        "matched": len(found),
        "total": total,
        "shown": SHOWN,
        "agencies": AGENCIES,
        "outcomes": OUTCOMES,
        "reviews": REVIEW,
        "states": [s.value for s in State],
        "grounds": ground_choices(app),
        "may_export": Role.AUDITOR in user.roles,
        "export_query": f.as_query(),
    }
    return templates.TemplateResponse(request, "audit_search.html", context)


# The columns an inspector general asks for: who asked for what, what was decided under which
# clauses, what was done, how fast, and what is missing. The agency's narrative, the street
# address and the callback number stay out (minimum personal data); the district stays in.
CSV_COLUMNS = (
    "ref", "cad_incident_id", "received_at", "agency", "official_name", "identity_check",
    "district", "requested_actions", "call_taker", "commander", "escalation_level", "state",
    "decided_at", "decided_by", "decision", "grounds", "approved_actions", "permitted_actions",
    "prohibited_actions", "required_actions", "clauses", "instruments", "minutes_to_decision",
    "commander_note", "dispatched_at", "units", "commander_arrived_at", "cleared_at",
    "recording_present", "recording_sha256", "exceptions", "flagged_for_review", "closed_at",
    "police_arrests", "agency_arrests", "immigration_status_asked", "cancel_reason",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """Return a CSV cell; text a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _iso(moment: dt.datetime | None, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else ""


def csv_row(request: Req, decision: Decision | None, zone: dt.tzinfo) -> list[str]:
    """Return one request as the export's cells, in `CSV_COLUMNS` order."""
    answer = decision.answer if decision else {}
    outcome = request.outcome or {}
    minutes = (
        round((decision.decided_at - request.received_at).total_seconds() / 60, 1)
        if decision else None
    )  # fmt: skip
    profiles = answer.get("profile") or []
    versions = answer.get("profile_version") or []
    if isinstance(profiles, str):
        profiles, versions = [profiles], [versions]
    values: dict[str, Any] = {
        "ref": request.ref,
        "cad_incident_id": request.cad_incident_id,
        "received_at": _iso(request.received_at, zone),
        "agency": request.agency,
        "official_name": request.official_name,
        "identity_check": request.identity_check,
        "district": request.district,
        "requested_actions": ";".join(request.requested_actions),
        "call_taker": request.call_taker,
        "commander": request.commander,
        "escalation_level": request.escalation_level,
        "state": request.state,
        "decided_at": _iso(decision.decided_at, zone) if decision else "",
        "decided_by": decision.decided_by if decision else "",
        "decision": decision.outcome if decision else "",
        "grounds": ";".join(answer.get("grounds", [])),
        "approved_actions": ";".join(decision.approved_actions) if decision else "",
        "permitted_actions": ";".join(answer.get("permitted_actions", [])),
        "prohibited_actions": ";".join(answer.get("prohibited_actions", [])),
        "required_actions": ";".join(answer.get("required_actions", [])),
        "clauses": ";".join(sorted({r["clause"] for r in answer.get("reasons", [])})),
        "instruments": ";".join(f"{p}@{v}" for p, v in zip(profiles, versions, strict=False)),
        "minutes_to_decision": minutes,
        "commander_note": decision.note if decision else "",
        "dispatched_at": _iso(request.dispatched_at, zone),
        "units": ";".join(request.units),
        "commander_arrived_at": _iso(request.arrived_at, zone),
        "cleared_at": _iso(request.cleared_at, zone),
        "recording_present": request.recording_sha256 is not None,
        "recording_sha256": request.recording_sha256,
        "exceptions": ";".join(f"{k}: {v}" for k, v in sorted(request.exceptions.items())),
        "flagged_for_review": request.flagged_for_review,
        "closed_at": _iso(request.closed_at, zone),
        "police_arrests": ";".join(a.get("offense_category", "")
                                   for a in outcome.get("police_arrests", [])),
        "agency_arrests": outcome.get("agency_arrests", "") if request.outcome else "",
        "immigration_status_asked": outcome.get("immigration_status_asked")
        if request.outcome else None,
        "cancel_reason": request.cancel_reason,
    }  # fmt: skip
    return [_cell(values[c]) for c in CSV_COLUMNS]


@router.get("/audit/export.csv")
def export_csv(user: Inspector, app: AppDep, db: DbSession, f: FiltersDep) -> Response:
    zone = app.settings.zone
    found = select_requests(db, f, zone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for request, decision in found:
        writer.writerow(csv_row(request, decision, zone))
    app.deployment.ledger.append(db, actor=user.username, event=EXPORTED, subject="export:requests",
                                 data={"filters": f.as_query(), "rows": len(found),
                                       "columns": len(CSV_COLUMNS)})  # fmt: skip
    stamp = dt.datetime.now(zone).strftime("%Y%m%d-%H%M")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="assistgate-requests-{stamp}.csv"'},
    )


def _request_fields(request: Req, zone: dt.tzinfo) -> list[tuple[str, str]]:
    official = ", ".join(p for p in (request.official_name, request.official_badge) if p)
    identity = request.identity_check.replace("_", " ") + (
        f": {request.identity_note}" if request.identity_note else ""
    )
    place = request.location + (f" (district {request.district})" if request.district else "")
    fields = [
        ("Received", f"{local_time(request.received_at, zone)}, by {request.call_taker}"),
        ("Agency", request.agency),
        ("Official", official),
        ("Callback", request.callback_number or "-"),
        ("Identity check", identity),
        ("Location", place),
        ("Caller's words", request.caller_words),
        ("Asked for", _words(request.requested_actions) or "-"),
        ("CAD incident", request.cad_incident_id or "-"),
        ("Commanding officer", request.commander or "-"),
        ("Escalations", str(request.escalation_level)),
    ]
    if request.dispatched_at is not None:
        fields.append(("Units", f"{', '.join(request.units)}, sent "
                                f"{local_time(request.dispatched_at, zone)}"))  # fmt: skip
    moments = (("Commander on scene", request.arrived_at), ("Cleared", request.cleared_at),
               ("Closed", request.closed_at))  # fmt: skip
    for label, moment in moments:
        if moment is not None:
            fields.append((label, local_time(moment, zone)))
    fields.append(("Recording", f"sha256 {request.recording_sha256}"
                   if request.recording_sha256 else "none attached"))  # fmt: skip
    for kind, reason in sorted(request.exceptions.items()):
        fields.append(("Exception", f"{kind.replace('_', ' ')}: {reason}"))
    if request.outcome is not None:
        o = request.outcome
        arrests = [a.get("offense_category", "") for a in o.get("police_arrests", [])]
        fields += [
            ("Officers did", _words(o.get("officer_actions")) or "nothing"),
            ("Police arrests", ", ".join(arrests) or "none"),
            ("Agency arrests", str(o.get("agency_arrests", 0))),
            ("Immigration status asked", "yes" if o.get("immigration_status_asked") else "no"),
            ("Outcome summary", str(o.get("summary", "")) or "-"),
        ]
    if request.cancel_reason:
        fields.append(("Cancelled", request.cancel_reason))
    return fields


def _ledger_rows(db: Session, ref: str, zone: dt.tzinfo) -> list[dict[str, Any]]:
    """Return the request's ledger entries, each with whether its stored hash still holds."""
    rows = []
    for row in db.scalars(select(LedgerEntryRow).where(LedgerEntryRow.subject == ref)
                          .order_by(LedgerEntryRow.seq)):  # fmt: skip
        body = bytes(row.body)
        try:
            data: dict[str, Any] | None = Entry.from_bytes(body).data
        except EntryError:
            data = None
        step = TimelineEntry(row.seq, row.at, row.actor, row.event, data)
        rows.append({
            "seq": row.seq, "at": local_time(row.at, zone), "actor": row.actor,
            "event": row.event, "changed": describe(step, zone),
            "intact": data is not None and leaf_hash(body) == bytes(row.leaf_hash),
            "via": (data or {}).get("via", ""),
        })  # fmt: skip
    return rows


@router.get("/audit/requests/{ref}", response_class=HTMLResponse)
def request_page(request: Request, ref: str, user: Auditor, app: AppDep, db: DbSession) -> Response:
    found = db.scalars(select(Req).where(Req.ref == ref)).one_or_none()
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no request with reference {ref!r}")
    zone = app.settings.zone
    decision = db.get(Decision, found.decision_id) if found.decision_id else None
    entries = _ledger_rows(db, ref, zone)
    record_view(app, db, user, ref, "audit")
    context = {
        "r": found,
        "fields": _request_fields(found, zone),
        "decision": decision,
        "decided_at": local_time(decision.decided_at, zone) if decision else "",
        "answer": decision.answer if decision else None,
        "steps": [e for e in entries if e["event"] != REQUEST_VIEWED],
        "views": [e for e in entries if e["event"] == REQUEST_VIEWED],
        "words": _words,
    }
    return templates.TemplateResponse(request, "audit_request.html", context)


def _ledger_context(app: App, db: Session) -> dict[str, Any]:
    head = db.get(LedgerHead, HEAD_ID)
    public = app.keys.ledger_public_key()
    signed = head.checkpoint if head is not None else None
    signature = "no checkpoint yet (the ledger is empty)"
    if signed is not None:
        try:
            verify_checkpoint(SignedCheckpoint.from_json(signed), public)
            signature = "the signature verifies with the public key below"
        except CheckpointError as exc:
            signature = f"DOES NOT VERIFY: {exc}"
    kept = db.scalar(select(func.count()).select_from(CheckpointRow)) or 0
    return {
        "size": head.size if head is not None else 0,
        "last_at": local_time(head.last_at, app.settings.zone) if head and head.last_at else "-",
        "checkpoint": json.dumps(signed, indent=2) if signed is not None else "",
        "signature": signature,
        "signature_ok": signature.startswith("the signature verifies"),
        "kept": kept,
        "key_id": key_id(public),
        "public_key": public_key_pem(public),
        "report": None,
    }


@router.get("/audit/ledger", response_class=HTMLResponse)
def ledger_status(request: Request, user: Auditor, app: AppDep, db: DbSession) -> Response:
    return templates.TemplateResponse(request, "audit_ledger.html", _ledger_context(app, db))


@router.post("/audit/ledger/verify", response_class=HTMLResponse)
def verify_ledger(
    request: Request, user: Auditor, state: CsrfChecked, app: AppDep, db: DbSession
) -> Response:
    started = time.perf_counter()
    report = verify_database(db, app.keys.ledger_public_key())
    took = time.perf_counter() - started
    findings = sorted(report.findings, key=lambda f: (f.seq is None, f.seq or 0))
    app.deployment.ledger.append(db, actor=user.username, event=LEDGER_VERIFIED,
                                 subject="ledger", data={"ok": report.ok,
                                                         "entries": report.entries,
                                                         "findings": len(findings)})  # fmt: skip
    context = _ledger_context(app, db)
    context["report"] = {
        "ok": report.ok,
        "entries": report.entries,
        "root": report.root,
        "checkpoints": report.checkpoints,
        "requests": report.requests,
        "decisions": report.decisions,
        "findings": [str(f) for f in findings[:100]],
        "more": max(0, len(findings) - 100),
        "took": f"{took:.2f}",
    }
    return templates.TemplateResponse(request, "audit_ledger.html", context)


@router.get("/audit/ledger/checkpoint.json")
def checkpoint_file(user: Auditor, db: DbSession) -> Response:
    head = db.get(LedgerHead, HEAD_ID)
    if head is None or head.checkpoint is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the ledger has no signed checkpoint yet")
    return Response(json.dumps(head.checkpoint, indent=2) + "\n", media_type="application/json",
                    headers={"Content-Disposition":
                             'attachment; filename="assistgate-checkpoint.json"'})  # fmt: skip


@router.get("/audit/ledger/public-key.pem")
def public_key_file(user: Auditor, app: AppDep) -> Response:
    pem = public_key_pem(app.keys.ledger_public_key())
    return Response(pem, media_type="application/x-pem-file",
                    headers={"Content-Disposition":
                             'attachment; filename="ledger-ed25519.pub.pem"'})  # fmt: skip
