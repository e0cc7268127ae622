"""The register's steps: each checks who may act and what the lifecycle allows, changes the
request, and appends its ledger entry in the same transaction (both are written, or neither).

Every function is keyword-only after the session and the deployment, and takes `now` so that
a dispatch system's own timestamps (or the demo's history) can be recorded as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistgate import __version__
from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.db.base import utcnow
from assistgate.policy import AssessmentError
from assistgate.requests import validation as check
from assistgate.requests.deployment import Deployment
from assistgate.requests.enums import Event, ExceptionKind, State, Step
from assistgate.requests.errors import (
    AlreadyHeld,
    InvalidField,
    NotPermitted,
    RequestNotFound,
    RuleNotMet,
)
from assistgate.requests.flows import TransitionRefused, next_state
from assistgate.requests.models import Decision, Request
from assistgate.requests.snapshot import changes, decision_snapshot, request_snapshot

CO = Role.COMMANDER
CAN_CREATE = frozenset({Role.CALL_TAKER, CO, Role.DISPATCH_SYSTEM})
CAN_RECORD_UNITS = frozenset({Role.CALL_TAKER, CO, Role.DISPATCH_SYSTEM})
CAN_CLOSE = frozenset({CO})
CAN_CANCEL = frozenset({Role.CALL_TAKER, CO, Role.DISPATCH_SYSTEM})
CAN_EXCEPT = frozenset({CO})


def _require(actor: User, roles: frozenset[Role], doing: str) -> None:
    if not actor.active:
        raise NotPermitted(f"{actor.username} is not an active user")
    if not actor.has_any(roles):
        allowed = ", ".join(sorted(r.value for r in roles))
        held = ", ".join(sorted(actor.roles)) or "no role"
        raise NotPermitted(f"{actor.username} ({held}) may not {doing}; allowed: {allowed}")


def get_request(session: Session, ref: str, *, for_update: bool = False) -> Request:
    """Load one request by reference (locked for this transaction when `for_update`)."""
    query = select(Request).where(Request.ref == ref)
    if for_update:
        query = query.with_for_update()
    request = session.scalars(query).one_or_none()
    if request is None:
        raise RequestNotFound(ref)
    return request


def _apply(
    session: Session,
    deployment: Deployment,
    request: Request,
    *,
    actor: User,
    event: Event,
    now: dt.datetime,
    step: Step | None = None,
    sets: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    created: bool = False,
) -> Request:
    """Check the transition, set the fields, and append the ledger entry describing it."""
    # A new request is described whole; every later entry carries only what it changed.
    before = {} if created else request_snapshot(request)
    target = next_state(State(request.state), step) if step is not None else None
    for name, value in (sets or {}).items():
        setattr(request, name, value)
    if target is not None:
        request.state = target
    data: dict[str, Any] = {"request": changes(before, request_snapshot(request))}
    data.update(extra or {})
    deployment.ledger.append(
        session, actor=actor.username, event=event, subject=request.ref, data=data, now=now
    )
    for hook in deployment.after_step:
        hook(session, request, event, now)
    return request


def _next_ref(session: Session, year: int) -> str:
    prefix = f"AG-{year}-"
    count = session.scalar(select(func.count()).where(Request.ref.like(f"{prefix}%"))) or 0
    return f"{prefix}{count + 1:04d}"


def create_request(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    received_at: dt.datetime,
    agency: str,
    official_name: str,
    location: str,
    caller_words: str,
    requested_actions: Sequence[str],
    identity_check: str,
    official_badge: str = "",
    callback_number: str = "",
    identity_note: str = "",
    district: str = "",
    cad_incident_id: str | None = None,
    now: dt.datetime | None = None,
) -> Request:
    """Register a call from an immigration agency, held until a commanding officer decides."""
    _require(actor, CAN_CREATE, "register a request")
    now = now or utcnow()
    check.moment("received_at", received_at, not_after=now)
    fields = check.new_request(
        agency=agency, official_name=official_name, location=location, caller_words=caller_words,
        requested_actions=requested_actions, identity_check=identity_check,
        cad_incident_id=cad_incident_id,
    )  # fmt: skip
    deployment.ledger.lock(session)  # serialises reference numbers with the ledger
    if cad_incident_id is not None:
        existing = session.scalar(
            select(Request.ref).where(Request.cad_incident_id == fields["cad_incident_id"])
        )
        if existing is not None:
            raise InvalidField(
                "cad_incident_id",
                f"incident {cad_incident_id} is already registered as request {existing}",
            )
    request = Request(
        ref=_next_ref(session, received_at.astimezone(deployment.timezone).year),
        received_at=received_at, state=State.RECEIVED, official_badge=official_badge.strip(),
        callback_number=callback_number.strip(), identity_note=identity_note.strip(),
        district=district.strip(), call_taker=actor.username, units=[], exceptions={},
        flagged_for_review=False, cancel_reason="", escalation_level=0, **fields,
    )  # fmt: skip
    session.add(request)
    session.flush()
    _apply(session, deployment, request, actor=actor, event=Event.CREATED, now=now, created=True)
    # The alert to the on-duty commanding officers is part of intake: no request waits unseen.
    return _apply(
        session, deployment, request, actor=actor, event=Event.ALERTED, now=now, step=Step.ALERT
    )


def claim(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    ref: str,
    now: dt.datetime | None = None,
) -> Request:
    """Take a request for review; only one commanding officer can hold it."""
    _require(actor, frozenset({CO}), "claim a request")
    request = get_request(session, ref, for_update=True)
    if request.state == State.UNDER_REVIEW:
        if request.commander == actor.username:
            return request
        raise AlreadyHeld(ref, request.commander or "another commanding officer")

    return _apply(
        session,
        deployment,
        request,
        actor=actor,
        event=Event.CLAIMED,
        now=now or utcnow(),
        step=Step.CLAIM,
        sets={"commander": actor.username},
    )


def _require_holder(request: Request, actor: User) -> None:
    if request.state == State.UNDER_REVIEW and request.commander != actor.username:
        raise AlreadyHeld(request.ref, request.commander or "another commanding officer")


def release(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    ref: str,
    now: dt.datetime | None = None,
) -> Request:
    """Hand a request back to the queue, for another commanding officer to take.

    Any commander may release it (a handover when the holder is called away); the ledger
    records who did.
    """
    _require(actor, frozenset({CO}), "release a request")
    request = get_request(session, ref, for_update=True)

    return _apply(
        session,
        deployment,
        request,
        actor=actor,
        event=Event.RELEASED,
        now=now or utcnow(),
        step=Step.RELEASE,
        sets={"commander": None},
    )


def decide(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    ref: str,
    facts: dict[str, Any],
    approve: Sequence[str],
    note: str = "",
    now: dt.datetime | None = None,
) -> Decision:
    """Record the commanding officer's decision: the facts, the policy's answer, what is sent.

    `approve` lists the actions the officer sends officers for: none means decline. It may be
    less than the policy permits, never more. The instruments are those of the deployment in
    force on the request's date, never chosen by the officer.
    """
    _require(actor, frozenset({CO}), "decide a request")
    now = now or utcnow()
    request = get_request(session, ref, for_update=True)
    if request.state != State.UNDER_REVIEW:
        raise TransitionRefused(
            State(request.state), Step.APPROVE_DISPATCH, "claim it for review first"
        )
    _require_holder(request, actor)
    day = deployment.local_date(request.received_at)
    assessment = check.assessment_facts(facts, request.requested_actions)
    assessment.update(profile=deployment.profiles_in_force(day), date=day.isoformat())
    try:
        answer = deployment.engine.evaluate(deployment.engine.parse(assessment)).to_json()
    except AssessmentError as exc:
        raise InvalidField(f"facts.{exc.problems[0].path}", exc.problems[0].message) from exc
    approved = check.approved_actions(approve, answer)
    outcome = "dispatch" if approved else "decline"
    decision = Decision(
        request_id=request.id, decided_at=now, decided_by=actor.username, assessment=assessment,
        answer=answer, outcome=outcome, approved_actions=approved, note=note.strip(),
        engine_version=__version__,
    )  # fmt: skip
    session.add(decision)
    session.flush()

    step = Step.APPROVE_DISPATCH if approved else Step.DECLINE
    _apply(
        session,
        deployment,
        request,
        actor=actor,
        event=Event.DECIDED,
        now=now,
        step=step,
        sets={"decision_id": decision.id},
        extra={"decision": decision_snapshot(decision)},
    )
    return decision


def current_decision(session: Session, request: Request) -> Decision | None:
    """Return the request's recorded decision, if any."""
    return session.get(Decision, request.decision_id) if request.decision_id else None


def record_dispatch(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    ref: str,
    units: Sequence[str],
    now: dt.datetime | None = None,
) -> Request:
    """Record that units were sent, which only a commanding officer's dispatch decision allows."""
    _require(actor, CAN_RECORD_UNITS, "record a dispatch")
    now = now or utcnow()
    request = get_request(session, ref, for_update=True)
    decision = current_decision(session, request)
    if decision is None or decision.outcome != "dispatch":
        raise RuleNotMet(
            f"request {ref} has no dispatch decision by a commanding officer; units cannot be sent"
        )
    day = deployment.local_date(request.received_at)
    in_force = deployment.profiles_in_force(day)
    decided_under = decision.answer["profile"]
    if (decided_under if isinstance(decided_under, list) else [decided_under]) != in_force:
        raise RuleNotMet(
            f"the decision on {ref} was made under {decided_under}, not under the "
            f"instruments in force on {day.isoformat()} ({', '.join(in_force)})"
        )
    unit_ids = check.units(units)

    return _apply(
        session,
        deployment,
        request,
        actor=actor,
        event=Event.DISPATCHED,
        now=now,
        step=Step.DISPATCH_UNITS,
        sets={"units": unit_ids, "dispatched_at": now},
    )


def record_arrival(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    ref: str,
    now: dt.datetime | None = None,
) -> Request:
    """Record that the commanding officer reached the scene."""
    _require(actor, CAN_RECORD_UNITS, "record the commander's arrival")
    now = now or utcnow()
    request = get_request(session, ref, for_update=True)

    return _apply(
        session,
        deployment,
        request,
        actor=actor,
        event=Event.ARRIVED,
        now=now,
        step=Step.ARRIVE,
        sets={"arrived_at": now},
    )


def clear(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    ref: str,
    now: dt.datetime | None = None,
) -> Request:
    """Record that officers left the scene."""
    _require(actor, CAN_RECORD_UNITS, "clear a request")
    now = now or utcnow()
    request = get_request(session, ref, for_update=True)
    if (
        request.state == State.UNITS_DISPATCHED
        and ExceptionKind.NO_COMMANDER_ARRIVAL not in request.exceptions
    ):
        raise RuleNotMet(
            f"request {ref}: the commanding officer's arrival is not recorded; "
            f"record it, or an exception {ExceptionKind.NO_COMMANDER_ARRIVAL.value} "
            f"with its reason"
        )

    return _apply(
        session,
        deployment,
        request,
        actor=actor,
        event=Event.CLEARED,
        now=now,
        step=Step.CLEAR,
        sets={"cleared_at": now},
    )


def record_exception(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    ref: str,
    kind: str,
    reason: str,
    now: dt.datetime | None = None,
) -> Request:
    """Record why a closing rule cannot be met; the request is flagged for review."""
    _require(actor, CAN_EXCEPT, "record an exception")
    request = get_request(session, ref, for_update=True)
    exception = check.exception(kind, reason, request)

    return _apply(
        session,
        deployment,
        request,
        actor=actor,
        event=Event.EXCEPTION_RECORDED,
        now=now or utcnow(),
        sets={
            "exceptions": {**request.exceptions, exception: reason.strip()},
            "flagged_for_review": True,
        },
    )


def attach_recording(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    ref: str,
    sha256: str,
    extra: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Request:
    """Attach the commanding officer's call recording (by its SHA-256) to the request."""
    # An administrator may assign a recording from the review queue (recordings.service).
    _require(actor, frozenset({CO, Role.DISPATCH_SYSTEM, Role.ADMIN}), "attach a recording")
    request = get_request(session, ref, for_update=True)
    digest = check.sha256(sha256)
    if request.state in (State.CLOSED, State.CANCELLED):
        raise RuleNotMet(f"request {ref} is {request.state}: nothing more can be attached")

    return _apply(
        session,
        deployment,
        request,
        actor=actor,
        event=Event.RECORDING_ATTACHED,
        now=now or utcnow(),
        sets={"recording_sha256": digest},
        extra=extra,
    )


def close(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    ref: str,
    outcome: dict[str, Any],
    now: dt.datetime | None = None,
) -> Request:
    """Close a request with its outcome, once arrival and recording are on record or excused."""
    _require(actor, CAN_CLOSE, "close a request")
    now = now or utcnow()
    request = get_request(session, ref, for_update=True)
    next_state(State(request.state), Step.CLOSE)  # refuse early, before checking the rest
    missing = []
    if request.recording_sha256 is None and ExceptionKind.NO_RECORDING not in request.exceptions:
        missing.append(f"the call recording (or an exception {ExceptionKind.NO_RECORDING.value})")
    if (
        request.dispatched_at is not None
        and request.arrived_at is None
        and ExceptionKind.NO_COMMANDER_ARRIVAL not in request.exceptions
    ):
        missing.append(
            "the commanding officer's arrival (or an exception "
            f"{ExceptionKind.NO_COMMANDER_ARRIVAL.value})"
        )
    if missing:
        raise RuleNotMet(f"request {ref} cannot be closed without {' and '.join(missing)}")
    decision = current_decision(session, request)
    result = check.outcome(outcome, decision.approved_actions if decision else [])

    return _apply(
        session,
        deployment,
        request,
        actor=actor,
        event=Event.CLOSED,
        now=now,
        step=Step.CLOSE,
        sets={
            "outcome": result,
            "closed_at": now,
            "flagged_for_review": request.flagged_for_review or result["immigration_status_asked"],
        },
    )


def cancel(
    session: Session,
    deployment: Deployment,
    *,
    actor: User,
    ref: str,
    reason: str,
    now: dt.datetime | None = None,
) -> Request:
    """Record that the agency withdrew its request."""
    _require(actor, CAN_CANCEL, "cancel a request")
    if not reason.strip():
        raise InvalidField("reason", "say why the request is cancelled")
    request = get_request(session, ref, for_update=True)

    return _apply(
        session,
        deployment,
        request,
        actor=actor,
        event=Event.CANCELLED,
        now=now or utcnow(),
        step=Step.CANCEL,
        sets={"cancel_reason": reason.strip()},
    )
