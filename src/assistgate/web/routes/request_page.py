"""The commanding officer's request screen: every field, claiming, the assessment whose policy
answer updates as the facts are entered, the decision, the steps after it, and the timeline.

Each form posts to its own address, calls one step of `assistgate.requests.service` and comes
back to the screen; a refusal by the service is shown on the screen, naming what was wrong.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from assistgate.app import App
from assistgate.auth.enums import AccountEvent, Role
from assistgate.auth.models import LoginFailure
from assistgate.auth.security import FAILED_LOGIN_WINDOW, FAILED_LOGINS_BEFORE_LOCK, check_password
from assistgate.auth.sessions import SessionState, end_session, reauthenticated
from assistgate.cli.common import local_time
from assistgate.cli.request_view import TimelineEntry, describe
from assistgate.db.base import utcnow
from assistgate.ledger.checkpoint import SignedCheckpoint, verify_checkpoint
from assistgate.ledger.entry import Entry
from assistgate.ledger.errors import CheckpointError, EntryError, KeyStoreError
from assistgate.ledger.hashing import leaf_hash
from assistgate.ledger.models import LedgerEntryRow, LedgerHead
from assistgate.ledger.store import HEAD_ID
from assistgate.policy import AssessmentError
from assistgate.policy.facts import ACTIONS, CRIME_STATUSES, WARRANT_ISSUERS, WARRANT_KINDS
from assistgate.recordings.enums import EVENT_LABELS as RECORDING_LABELS
from assistgate.requests import service
from assistgate.requests import validation as check
from assistgate.requests.enums import Event, ExceptionKind, State
from assistgate.requests.errors import (
    AlreadyHeld,
    InvalidField,
    NotPermitted,
    RegisterError,
    RequestNotFound,
)
from assistgate.requests.flows import TransitionRefused, allowed_steps
from assistgate.requests.models import Request as AgencyRequest
from assistgate.web.access import REQUEST_VIEWED, record_view
from assistgate.web.app import templates
from assistgate.web.deps import SESSION_COOKIE, AppDep, Commander, CsrfChecked, DbSession
from assistgate.web.deps import LiveSession as LiveState
from assistgate.web.routes.intake import labels, no_access
from assistgate.web.routes.recordings import upload_step

router = APIRouter(include_in_schema=False)

DONE = {
    "claimed": "You hold this request. Enter the facts below; the policy's answer follows them.",
    "released": "The request is back in the queue for another commanding officer.",
    "decided": "The decision is recorded.",
    "dispatched": "The dispatch is recorded. Go to the scene with the officers.",
    "arrived": "Your arrival on scene is recorded.",
    "cleared": "The officers have cleared the scene.",
    "exception": "The exception is recorded; the request is flagged for review.",
    "recording": "The call recording is attached.",
    "closed": "The request is closed.",
    "cancelled": "The request is cancelled.",
}
EVENT_LABELS: dict[str, str] = {
    Event.CREATED: "Registered", Event.ALERTED: "Commander alerted", Event.CLAIMED: "Claimed",
    Event.RELEASED: "Released to the queue", Event.DECIDED: "Decided",
    Event.DISPATCHED: "Units dispatched", Event.ARRIVED: "Commander on scene",
    Event.CLEARED: "Scene cleared", Event.CLOSED: "Closed", Event.CANCELLED: "Cancelled",
    Event.EXCEPTION_RECORDED: "Exception recorded", Event.ESCALATED: "Escalated",
    Event.RECORDING_ATTACHED: "Recording attached", **RECORDING_LABELS,
}  # fmt: skip
WARRANT_LABELS = {
    "none": "No warrant",
    "judicial_criminal": "Criminal warrant signed by a judge",
    "administrative_immigration": "Immigration paperwork (such as an I-200 or I-205)",
    "immigration_detainer": "Immigration detainer (I-247)",
}
ISSUER_LABELS = {
    "unknown": "Not checked",
    "state_judge": "A state judge",
    "federal_judge": "A federal judge",
    "federal_magistrate_judge": "A federal magistrate judge",
    "immigration_officer": "An immigration officer",
}
CRIME_LABELS = {
    "none": "No crime",
    "occurred": "A crime has occurred",
    "occurring": "A crime is occurring",
}
STATUS = {InvalidField: 422, RequestNotFound: 404, NotPermitted: 403, AlreadyHeld: 409}
OPEN = frozenset(State) - {State.CLOSED, State.CANCELLED}


async def posted_form(request: Request) -> FormData:
    """Return the posted form (already read, and cached, by the CSRF check)."""
    return await request.form()


Posted = Annotated[FormData, Depends(posted_form)]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def facts_from_form(form: FormData, agency: str) -> dict[str, Any]:
    """Return the facts an assessment form holds, as the engine's assessment expects them.

    Details of a warrant or a crime that is not there are left out rather than refused.
    """
    kind, status = _text(form, "warrant.kind") or "none", _text(form, "crime.status") or "none"
    warrant: dict[str, Any] = {"kind": kind, "description": _text(form, "warrant.description")}
    if kind != "none":
        warrant |= {"verified": "warrant.verified" in form,
                    "immigration_offense": "warrant.immigration_offense" in form,
                    "issued_by": _text(form, "warrant.issued_by") or "unknown"}  # fmt: skip
    crime: dict[str, Any] = {"status": status, "description": _text(form, "crime.description")}
    if status != "none":
        crime["immigration_offense"] = "crime.immigration_offense" in form
    return {
        "agency": agency,
        "requested_actions": _texts(form, "requested_actions"),
        "warrant": warrant,
        "crime": crime,
        "emergency": {"clear_public_danger": "emergency.clear_public_danger" in form,
                      "description": _text(form, "emergency.description")},
        "violence_risk": {"articulated": "violence_risk.articulated" in form,
                          "description": _text(form, "violence_risk.description")},
    }  # fmt: skip


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


class AssessmentProblems(InvalidField):
    """The facts do not hold together; every problem names its fact."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"facts.{problems[0].field}", problems[0].message)
        self.problems = list(problems)


def policy_answer(app: App, req: AgencyRequest, facts: dict[str, Any]) -> dict[str, Any]:
    """Return the policy's answer for `facts`, as `service.decide` would compute it; no write.

    The instruments are the deployment's in force on the request's date. Raises
    `AssessmentProblems` naming each fact that does not hold (`warrant.issued_by`, ...).
    """
    deployment = app.deployment
    day = deployment.local_date(req.received_at)
    assessment = check.assessment_facts(facts, req.requested_actions)
    assessment.update(profile=deployment.profiles_in_force(day), date=day.isoformat())
    try:
        return deployment.engine.evaluate(deployment.engine.parse(assessment)).to_json()
    except AssessmentError as exc:
        raise AssessmentProblems([Problem(p.path, p.message) for p in exc.problems]) from exc


def answer_view(answer: dict[str, Any]) -> dict[str, Any]:
    """Return the policy's answer in the shape the answer panel shows."""
    profiles = answer["profile"] if isinstance(answer["profile"], list) else [answer["profile"]]
    versions = answer["profile_version"]
    versions = versions if isinstance(versions, list) else [versions]
    return {
        "dispatch": answer["decision"] == "dispatch",
        "under": " + ".join(f"{p} ({v})" for p, v in zip(profiles, versions, strict=False)),
        "date": answer["date"],
        "grounds": answer["grounds"],
        "permitted": answer["permitted_actions"],
        "prohibited": answer["prohibited_actions"],
        "required": answer["required_actions"],
        "reasons": answer["reasons"],
        "several": len(profiles) > 1,
    }


def checked_timeline(db: Session, ref: str, zone: dt.tzinfo) -> list[dict[str, Any]]:
    """Return the request's ledger entries in order, each with its hash checked against its body."""
    rows = db.execute(
        select(LedgerEntryRow.seq, LedgerEntryRow.at, LedgerEntryRow.actor, LedgerEntryRow.event,
               LedgerEntryRow.subject, LedgerEntryRow.body, LedgerEntryRow.leaf_hash)
        .where(LedgerEntryRow.subject == ref).order_by(LedgerEntryRow.seq)
    )  # fmt: skip
    entries = []
    for seq, at, actor, event, subject, body, stored in rows:
        body = bytes(body)
        data: dict[str, Any] | None
        try:
            entry = Entry.from_bytes(body)
            data = entry.data
            agrees = (entry.seq, entry.at, entry.actor, entry.event, entry.subject) == (
                seq, at, actor, event, subject)  # fmt: skip
        except EntryError:
            data, agrees = None, False
        step = TimelineEntry(seq, at, actor, event, data)
        entries.append({"seq": seq, "time": local_time(at, zone), "actor": actor,
                        "event": EVENT_LABELS.get(event, event), "code": event,
                        "what": _what(step, zone), "view": event == REQUEST_VIEWED,
                        "ok": agrees and leaf_hash(body) == bytes(stored)})  # fmt: skip
    return entries


def _what(step: TimelineEntry, zone: dt.tzinfo) -> str:
    """Say what an entry recorded: who an escalation alerted, from which screen a view came."""
    data = step.data or {}
    escalation = data.get("escalation")
    if step.event == Event.ESCALATED and isinstance(escalation, dict):
        return (f"not claimed in {escalation.get('unclaimed_seconds')} s: level "
                f"{escalation.get('level')}, alerted {escalation.get('alerted')}")  # fmt: skip
    if step.event == REQUEST_VIEWED:
        return f"opened on the {str(data.get('via', '?')).replace('_', ' ')} screen"
    return describe(step, zone)


def head_checkpoint(app: App, db: Session) -> dict[str, Any]:
    """Return the ledger's latest signed checkpoint and whether its signature verifies."""
    head = db.get(LedgerHead, HEAD_ID)
    if head is None or head.checkpoint is None:
        return {"ok": False, "message": "the ledger has no signed checkpoint yet"}
    try:
        signed = SignedCheckpoint.from_json(head.checkpoint)
        checkpoint = verify_checkpoint(signed, app.keys.ledger_public_key())
    except (CheckpointError, KeyStoreError) as exc:
        return {"ok": False, "message": f"the latest checkpoint does not verify: {exc}"}
    return {"ok": checkpoint.size == head.size, "size": checkpoint.size, "key": signed.key_id,
            "at": local_time(checkpoint.at, app.settings.zone),
            "root": checkpoint.root.hex()[:16],
            "message": "" if checkpoint.size == head.size else "the head's size differs from "
            "its signed checkpoint"}  # fmt: skip


def _fields(req: AgencyRequest, zone: dt.tzinfo) -> list[tuple[str, str]]:
    lab = labels()
    official = ", ".join(p for p in (req.official_name, req.official_badge) if p)
    fields = [
        ("Received", f"{local_time(req.received_at, zone)}, registered by {req.call_taker}"),
        ("Agency", lab["agency_labels"].get(req.agency, req.agency)),
        ("Official", official),
        ("Callback", req.callback_number or "-"),
        ("Identity checked", lab["identity_labels"].get(req.identity_check, req.identity_check)
         + (f": {req.identity_note}" if req.identity_note else "")),
        ("Location", req.location + (f", district {req.district}" if req.district else "")),
        ("In their words", req.caller_words),
        ("They ask for", "; ".join(lab["action_labels"].get(a, a) for a in req.requested_actions)),
        ("CAD incident", req.cad_incident_id or "-"),
        ("Commanding officer", req.commander or "-"),
        ("Escalations", str(req.escalation_level)),
    ]  # fmt: skip
    if req.dispatched_at is not None:
        fields.append(("Units", f"{', '.join(req.units)}, sent "
                       f"{local_time(req.dispatched_at, zone)}"))  # fmt: skip
    for label, moment in (("On scene", req.arrived_at), ("Cleared", req.cleared_at)):
        if moment is not None:
            fields.append((label, local_time(moment, zone)))
    fields.append(("Recording", f"SHA-256 {req.recording_sha256}" if req.recording_sha256
                   else "not attached"))  # fmt: skip
    fields += [("Exception", f"{k.replace('_', ' ')}: {v}") for k, v in req.exceptions.items()]
    if req.outcome is not None:
        o = req.outcome
        arrests = ", ".join(a["offense_category"] for a in o.get("police_arrests", [])) or "none"
        done = "; ".join(lab["action_labels"].get(a, a) for a in o["officer_actions"])
        fields.append(("Outcome", f"officers did: {done or 'nothing'}"
                       f"; police arrests: {arrests}; agency arrests: {o['agency_arrests']}; "
                       f"immigration status asked: "
                       f"{'yes' if o['immigration_status_asked'] else 'no'}"
                       + (f"; {o['summary']}" if o.get("summary") else "")))  # fmt: skip
    if req.closed_at is not None:
        fields.append(("Closed", local_time(req.closed_at, zone)))
    if req.cancel_reason:
        fields.append(("Cancelled", req.cancel_reason))
    return fields


def _page(
    request: Request, app: App, db: Session, state: SessionState, ref: str, *,
    error: Exception | None = None, form: str = "", posted: FormData | None = None,
    answer: dict[str, Any] | None = None, done: str = "", status_code: int = 200,
) -> Response:  # fmt: skip
    try:
        req = service.get_request(db, ref)
    except RequestNotFound:
        return templates.TemplateResponse(request, "no_access.html",
                                          {"missing": ref, "home": "/queue"},
                                          status_code=404)  # fmt: skip
    zone = app.settings.zone
    decision = service.current_decision(db, req)
    user = state.user
    steps = allowed_steps(State(req.state))
    mine = req.state == State.UNDER_REVIEW and req.commander == user.username
    problems: list[Problem] = []
    assessed = posted if form == "assess" else None
    if mine and answer is None:
        facts = facts_from_form(assessed, req.agency) if assessed else {"agency": req.agency}
        try:
            answer = policy_answer(app, req, facts)
        except AssessmentProblems as exc:
            problems = exc.problems
        except RegisterError as exc:
            error = error or exc
    if isinstance(error, AssessmentProblems):
        problems = error.problems
    requested = _texts(assessed, "requested_actions") if assessed is not None else None
    context = {
        "req": req, "decision": decision, "fields": _fields(req, zone), "mine": mine,
        "steps": [s.value for s in steps], "open": req.state in OPEN,
        "answer": answer_view(answer) if answer else None, "problems": problems,
        "decision_answer": answer_view(decision.answer) if decision else None,
        "decided_at": local_time(decision.decided_at, zone) if decision else "",
        "requested": requested if requested is not None else req.requested_actions,
        "posted": posted, "assessed": assessed, "error": str(error) if error else "",
        "error_form": form,
        "done": DONE.get(done, ""), "needs_password": not state.fresh_for_decision(utcnow()),
        "timeline": checked_timeline(db, ref, zone), "checkpoint": head_checkpoint(app, db),
        "actions": ACTIONS, "warrant_kinds": WARRANT_KINDS, "issuers": WARRANT_ISSUERS,
        "crime_statuses": CRIME_STATUSES, "exception_kinds": list(ExceptionKind),
        "approved": decision.approved_actions if decision else [],
        "warrant_labels": WARRANT_LABELS, "issuer_labels": ISSUER_LABELS,
        "crime_labels": CRIME_LABELS, **labels(),
    }  # fmt: skip
    return templates.TemplateResponse(request, "request_page.html", context,
                                      status_code=status_code)  # fmt: skip


@router.get("/requests/{ref}", response_class=HTMLResponse)
def request_screen(
    request: Request, app: AppDep, db: DbSession, state: LiveState, ref: str, done: str = ""
) -> Response:
    if Role.COMMANDER not in state.user.roles:
        return no_access(request, state.user, "The request screen", "commanding officers")
    if db.scalar(select(AgencyRequest.id).where(AgencyRequest.ref == ref)) is not None:
        record_view(app, db, state.user, ref, "request_page")
    return _page(request, app, db, state, ref, done=done)


def _refused(
    request: Request, app: App, db: Session, state: SessionState, ref: str, exc: Exception,
    form: str, posted: FormData | None = None,
) -> Response:  # fmt: skip
    code = next((c for kind, c in STATUS.items() if isinstance(exc, kind)), 409)
    return _page(request, app, db, state, ref, error=exc, form=form, posted=posted,
                 status_code=code)  # fmt: skip


def _step(
    request: Request, app: App, db: Session, state: SessionState, ref: str, *,
    run: Callable[[], object], done: str, form: str, anchor: str = "",
    posted: FormData | None = None,
) -> Response:  # fmt: skip
    """Run one service step; on success commit and come back to the screen, else explain."""
    try:
        with db.begin_nested():
            run()
    except (RegisterError, TransitionRefused) as exc:
        return _refused(request, app, db, state, ref, exc, form, posted)
    except (IntegrityError, OperationalError):
        conflict = RegisterError("the database refused the change because another was made at "
                                 "the same moment; nothing was written, try again")  # fmt: skip
        return _refused(request, app, db, state, ref, conflict, form, posted)
    db.commit()
    return RedirectResponse(f"/requests/{ref}?done={done}#{anchor or form}", status_code=303)


@router.post("/requests/{ref}/claim")
def claim(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Commander,
          ref: str) -> Response:  # fmt: skip
    return _step(request, app, db, state, ref, form="claim", anchor="assess", done="claimed",
                 run=lambda: service.claim(db, app.deployment, actor=user, ref=ref))  # fmt: skip


@router.post("/requests/{ref}/release")
def release(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Commander,
            ref: str) -> Response:  # fmt: skip
    return _step(request, app, db, state, ref, form="claim", done="released",
                 run=lambda: service.release(db, app.deployment, actor=user, ref=ref))  # fmt: skip


def _reauthenticate(request: Request, app: App, db: Session, state: SessionState,
                    password: str) -> bool | Response:  # fmt: skip
    """Check the password given on the decision form: True if right, False if wrong, or the
    way to the sign-in page once wrong passwords have locked the account.

    A wrong password counts toward the lockout like a failed sign-in (CJIS AC-7, IA-11).
    """
    user, now, ledger = state.user, utcnow(), app.deployment.ledger
    subject = f"user:{user.username}"[:64]
    if password and check_password(user.password_hash, password):
        reauthenticated(state.session, now=now)
        ledger.append(db, actor=user.username, event=AccountEvent.REAUTHENTICATED,
                      subject=subject, data={"for": "decision"})  # fmt: skip
        return True
    address = request.client.host if request.client else ""
    db.add(LoginFailure(username=user.username, at=now, address=address,
                        detail={"during": "decision"}))  # fmt: skip
    ledger.append(db, actor=user.username, event=AccountEvent.REAUTH_FAILED, subject=subject,
                  data={"address": address, "for": "decision"})  # fmt: skip
    db.flush()
    recent = db.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.username == user.username, LoginFailure.at > now - FAILED_LOGIN_WINDOW)
    ) or 0  # fmt: skip
    if recent < FAILED_LOGINS_BEFORE_LOCK:
        return False
    user.locked_at = now
    end_session(db, request.cookies.get(SESSION_COOKIE))
    ledger.append(db, actor=user.username, event=AccountEvent.ACCOUNT_LOCKED, subject=subject,
                  data={"failures": recent})  # fmt: skip
    db.commit()
    response = RedirectResponse("/login?error=locked", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/requests/{ref}/decide")
def decide(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Commander,
           form: Posted, ref: str) -> Response:  # fmt: skip
    try:
        req = service.get_request(db, ref)
    except RequestNotFound as exc:
        return _refused(request, app, db, state, ref, exc, "assess")
    facts = facts_from_form(form, req.agency)
    if _text(form, "intent") != "decide":  # "Check against the policy", or Enter in a field
        return _page(request, app, db, state, ref, form="assess", posted=form)
    if not state.fresh_for_decision(utcnow()):
        verdict = _reauthenticate(request, app, db, state, _text(form, "password"))
        if isinstance(verdict, Response):
            return verdict
        if not verdict:
            wrong = InvalidField("password", "that is not your password; the decision was not "
                                 "recorded (five wrong passwords lock the account)")  # fmt: skip
            return _refused(request, app, db, state, ref, wrong, "assess", form)
    return _step(request, app, db, state, ref, form="assess", anchor="decision",
                 done="decided", posted=form,
                 run=lambda: service.decide(db, app.deployment, actor=user, ref=ref, facts=facts,
                                            approve=_texts(form, "approve"),
                                            note=_text(form, "note")))  # fmt: skip


@router.post("/requests/{ref}/assess")
def assess(request: Request, app: AppDep, db: DbSession, state: LiveState, user: Commander,
           form: Posted, ref: str) -> Response:  # fmt: skip
    """Return the policy's answer for the facts on the assessment form, as JSON; no write."""
    sent = _text(form, "csrf_token") or request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(sent, state.session.csrf_token):
        return JSONResponse({"detail": "the form's security token is missing or stale"}, 403)
    try:
        req = service.get_request(db, ref)
        answer = policy_answer(app, req, facts_from_form(form, req.agency))
    except AssessmentProblems as exc:
        problems = [{"field": p.field, "message": p.message} for p in exc.problems]
        html = _panel(request, None, exc.problems)
        return JSONResponse({"ok": False, "problems": problems, "html": html}, 422)
    except RegisterError as exc:
        code = next((c for kind, c in STATUS.items() if isinstance(exc, kind)), 409)
        return JSONResponse({"ok": False, "problems": [{"field": "", "message": str(exc)}],
                             "html": _panel(request, None, [Problem("", str(exc))])},
                            code)  # fmt: skip
    return JSONResponse({"ok": True, "answer": answer, "html": _panel(request, answer, [])})


def _panel(request: Request, answer: dict[str, Any] | None, problems: list[Problem]) -> str:
    template = templates.get_template("request_answer.html")
    return template.render(request=request, answer=answer_view(answer) if answer else None,
                           problems=problems, **labels())  # fmt: skip


@router.post("/requests/{ref}/dispatch")
def dispatch(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Commander,
             form: Posted, ref: str) -> Response:  # fmt: skip
    units = [u for u in _text(form, "units").replace(",", " ").split() if u]
    return _step(request, app, db, state, ref, form="dispatch", done="dispatched", posted=form,
                 run=lambda: service.record_dispatch(db, app.deployment, actor=user, ref=ref,
                                                     units=units))  # fmt: skip


@router.post("/requests/{ref}/arrive")
def arrive(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Commander,
           ref: str) -> Response:  # fmt: skip
    return _step(
        request,
        app,
        db,
        state,
        ref,
        form="scene",
        done="arrived",
        run=lambda: service.record_arrival(db, app.deployment, actor=user, ref=ref),
    )


@router.post("/requests/{ref}/clear")
def clear(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Commander,
          ref: str) -> Response:  # fmt: skip
    return _step(
        request,
        app,
        db,
        state,
        ref,
        form="scene",
        done="cleared",
        run=lambda: service.clear(db, app.deployment, actor=user, ref=ref),
    )


@router.post("/requests/{ref}/exception")
def exception(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Commander,
              form: Posted, ref: str) -> Response:  # fmt: skip
    return _step(request, app, db, state, ref, form="exception", done="exception", posted=form,
                 run=lambda: service.record_exception(db, app.deployment, actor=user, ref=ref,
                                                      kind=_text(form, "kind"),
                                                      reason=_text(form, "reason")))  # fmt: skip


@router.post("/requests/{ref}/recording")
async def recording(request: Request, app: AppDep, db: DbSession, state: CsrfChecked,
                    user: Commander, form: Posted, ref: str) -> Response:  # fmt: skip
    """Take the uploaded call recording into the sealed store and attach it (recordings)."""
    run = await upload_step(app, db, user, ref, form.get("file"))
    return _step(request, app, db, state, ref, form="recording", done="recording", run=run)


def outcome_from_form(form: FormData) -> dict[str, Any]:
    """Return the closing form as the outcome `service.close` checks."""
    asked = {"no": False, "yes": True}.get(_text(form, "immigration_status_asked"))
    count = _text(form, "agency_arrests") or "0"
    arrests = [line.strip() for line in _text(form, "police_arrests").splitlines()]
    return {
        "officer_actions": _texts(form, "officer_actions"),
        "police_arrests": [{"offense_category": a} for a in arrests if a],
        "agency_arrests": int(count) if count.isdigit() else count,
        "immigration_status_asked": asked,
        "summary": _text(form, "summary"),
    }


@router.post("/requests/{ref}/close")
def close(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Commander,
          form: Posted, ref: str) -> Response:  # fmt: skip
    outcome = outcome_from_form(form)
    return _step(request, app, db, state, ref, form="close", done="closed", posted=form,
                 run=lambda: service.close(db, app.deployment, actor=user, ref=ref,
                                           outcome=outcome))  # fmt: skip


@router.post("/requests/{ref}/cancel")
def cancel(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Commander,
           form: Posted, ref: str) -> Response:  # fmt: skip
    return _step(request, app, db, state, ref, form="cancel", done="cancelled", posted=form,
                 run=lambda: service.cancel(db, app.deployment, actor=user, ref=ref,
                                            reason=_text(form, "reason")))  # fmt: skip
