"""The dispatch-system API, version 1: intake from JSON or NENA EIDO, and the decision to act on.

Every route needs a bearer token (`assistgate token create`) holding the route's scope: no
token or an unknown one is 401, a token without the scope 403. Invalid bodies are 422 with
`{"detail": [{"loc": ["body", <field>, ...], "msg": ..., "type": ...}]}`, whether FastAPI
or the register found the problem. docs/API.md is the guide for a CAD vendor.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, NoReturn

from fastapi import APIRouter, Depends, HTTPException, Path, Response, Security, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.app import App
from assistgate.auth.models import ApiToken, User
from assistgate.db.base import utcnow
from assistgate.integrations.eido import EidoError, EidoIntake, parse_eido
from assistgate.integrations.outbox import decision_view
from assistgate.requests import service
from assistgate.requests.enums import State
from assistgate.requests.errors import InvalidField, NotPermitted, RequestNotFound
from assistgate.requests.models import Request
from assistgate.web.deps import AppDep, DbSession, api_caller

HOLD_MESSAGE = (
    "Hold the call: a commanding officer has been alerted and must decide before any unit is sent."
)
AWAITING_DECISION = frozenset({State.RECEIVED, State.AWAITING_REVIEW, State.UNDER_REVIEW})
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="An API token made with `assistgate token create`, sent as "
    "`Authorization: Bearer agt_...`.",
)
router = APIRouter(prefix="/api/v1", tags=["dispatch systems"], dependencies=[Security(bearer)])


# --- Types --------------------------------------------------------------------------------------


def _plain_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (no unpaired surrogates)") from exc
    return value


def _not_before_1970(value: dt.datetime) -> dt.datetime:
    if value < EARLIEST:
        raise ValueError("must not be before 1970")
    return value


AgencyCode = Literal["ice-ero", "ice-hsi", "ice-other", "cbp", "uscis", "dhs-other"]
ActionName = Literal[
    "backup", "serve_criminal_warrant", "respond_to_crime", "emergency_response",
    "traffic_stop", "perimeter", "traffic_control", "knock_and_talk", "clear_residence",
    "detain_on_detainer", "transport_detainee", "locate_person", "interpreter",
    "immigration_status_inquiry", "other",
]  # fmt: skip
IdentityCheckName = Literal[
    "callback_known_number", "cad_interface", "in_person_credentials", "not_verified"
]  # fmt: skip
StateName = Literal[
    "received", "awaiting_review", "under_review", "declined", "dispatch_approved",
    "units_dispatched", "commander_on_scene", "cleared", "closed", "cancelled",
]  # fmt: skip
Moment = Annotated[AwareDatetime, AfterValidator(_not_before_1970)]
# Text as the register stores it (column sizes), never with NUL or unpaired surrogates, which
# PostgreSQL refuses.
Plain = AfterValidator(_plain_text)
IncidentId = Annotated[str, Field(min_length=1, max_length=64), Plain]
Name = Annotated[str, Field(min_length=1, max_length=200), Plain]
Badge = Annotated[str, Field(max_length=100), Plain]
Callback = Annotated[str, Field(max_length=40), Plain]
Note = Annotated[str, Field(max_length=2000), Plain]
# 190, not 200: rounding "1234 Main St" to "1200 block of Main St" adds up to 9 characters.
Location = Annotated[str, Field(min_length=1, max_length=190), Plain]
District = Annotated[str, Field(max_length=40), Plain]
Words = Annotated[str, Field(min_length=1, max_length=4000), Plain]


class Problem(BaseModel):
    detail: str = Field(description="What was wrong, in words.")


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No API token, or an unknown or revoked one."},
    403: {"model": Problem, "description": "The token lacks the scope, or its account the role."},
}
UNREADABLE_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body cannot be read at all (not UTF-8 text)."},
}


class NewRequest(BaseModel):
    """A call from an immigration agency, as the dispatch system took it."""

    model_config = ConfigDict(extra="forbid")

    cad_incident_id: IncidentId | None = Field(
        None, description="The CAD's incident id; sending the same one again is idempotent."
    )
    received_at: Moment | None = Field(
        None, description="When the call came in (ISO 8601 with its offset); default now."
    )
    agency: AgencyCode
    official_name: Name
    official_badge: Badge = ""
    callback_number: Callback = ""
    identity_check: IdentityCheckName = "cad_interface"
    identity_note: Note = ""
    location: Location
    district: District = ""
    caller_words: Words
    requested_actions: list[ActionName] = Field(
        min_length=1, max_length=15, json_schema_extra={"uniqueItems": True}
    )


class Held(BaseModel):
    """The request the call became; while `held`, no unit may be sent."""

    ref: str = Field(examples=["AG-2026-0001"])
    cad_incident_id: str | None
    state: StateName
    held: bool
    message: str
    url: str = Field(description="The request's screen, for people.")
    api_url: str = Field(description="Where the dispatch system reads the decision.")


class Understood(BaseModel):
    """What was read from an EIDO document, for the dispatch system to check."""

    agency: AgencyCode
    agency_evidence: str
    official_name: str
    callback_number: str
    location: str
    requested_actions: list[ActionName]


class EidoHeld(Held):
    understood: Understood


class DecisionView(BaseModel):
    """A commanding officer's decision, as the dispatch system acts on it."""

    outcome: Literal["dispatch", "decline"]
    decided_at: str
    decided_by: str
    grounds: list[str]
    permitted_actions: list[str]
    prohibited_actions: list[str]
    required_actions: list[str]
    approved_actions: list[str] = Field(description="What officers are sent for; none: decline.")
    clauses: list[str]
    profiles: list[str]
    profile_versions: list[str]


class RequestStatus(BaseModel):
    ref: str
    cad_incident_id: str | None
    state: StateName
    held: bool = Field(description="True until a commanding officer decides: hold the call.")
    dispatch_allowed: bool = Field(
        description="True once a dispatch decision stands and the request is still open."
    )
    received_at: str
    agency: AgencyCode
    requested_actions: list[str]
    decision: DecisionView | None
    units: list[str]
    dispatched_at: str | None
    arrived_at: str | None
    closed_at: str | None
    url: str


# EIDO components, as far as this service reads them; everything else is accepted and ignored.


class _Component(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = Field(None, alias="$id")


class EidoReference(BaseModel):
    model_config = ConfigDict(extra="allow")

    ref: str = Field(alias="$ref")


class EidoAgency(_Component):
    agency_type: list[str] = Field(default_factory=list, alias="agencyType")
    agency_role: list[str] = Field(default_factory=list, alias="agencyRoleDescriptionRegistryText")
    agency_jcard: str | None = Field(None, alias="agencyJcard")


class EidoAgent(_Component):
    agent_jcard: str | None = Field(None, alias="agentJcard")
    agency_reference: EidoReference | None = Field(None, alias="agencyReference")


class EidoIncident(_Component):
    internal_incident_id: str | None = Field(None, alias="internalIncidentId")
    incident_type: str | None = Field(None, alias="incidentTypeCommonRegistryText")
    beat: str | None = Field(None, alias="beatOrDispatchGroupText")
    location_reference: list[EidoReference] = Field(default_factory=list, alias="locationReference")


class EidoNotes(_Component):
    notes: str = Field(alias="notesActionComments", description="An HTML fragment.")


class EidoLocation(_Component):
    location_type: str | None = Field(None, alias="locationTypeDescriptionRegistryText")
    by_value: str | None = Field(None, alias="locationByValue", description="PIDF-LO (XML).")
    by_reference: str | None = Field(None, alias="locationByReferenceUrl")


class EidoCallback(_Component):
    uris: list[str] = Field(default_factory=list, alias="callBackInformationUri")


class EidoCall(_Component):
    call_start: str | None = Field(None, alias="callStartTimestamp")


class EidoDocument(_Component):
    """A NENA EIDO (NENA-STA-021) document: the parts this service reads."""

    eido_version: str | None = Field(None, alias="eidoVersion")
    issuer: str | None = Field(None, alias="issuingElementIdentification")
    agencies: list[EidoAgency] = Field(alias="agencyComponent")
    incident: EidoIncident | list[EidoIncident] | None = Field(None, alias="incidentComponent")
    agents: list[EidoAgent] = Field(default_factory=list, alias="agentComponent")
    notes: list[EidoNotes] = Field(default_factory=list, alias="notesComponent")
    locations: list[EidoLocation] = Field(default_factory=list, alias="locationComponent")
    callbacks: list[EidoCallback] = Field(default_factory=list, alias="callbackComponent")
    calls: list[EidoCall] = Field(default_factory=list, alias="callComponent")


# --- Helpers ------------------------------------------------------------------------------------

WriteCaller = Annotated[tuple[ApiToken, User], Depends(api_caller("requests:write"))]
ReadCaller = Annotated[tuple[ApiToken, User], Depends(api_caller("requests:read"))]
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
# Where a register field comes from in an EIDO document, for its 422.
EIDO_SOURCES = {"received_at": "callComponent", "cad_incident_id": "incidentComponent",
                "location": "locationComponent", "caller_words": "notesComponent",
                "official_name": "agentComponent", "agency": "agencyComponent"}  # fmt: skip


def _loc(path: str) -> list[str | int]:
    """Return a dotted field path ("outcome.arrests[0]") as a JSON location."""
    return [int(i) if i else name for name, i in _PATH_PART.findall(path)]


def unprocessable(path: str, message: str) -> NoReturn:
    """Refuse the body with FastAPI's own 422 shape, naming the field."""
    raise RequestValidationError(
        [{"type": "invalid_field", "loc": ("body", *_loc(path)), "msg": message, "input": None}]
    )


def _message(exc: InvalidField) -> str:
    return str(exc).removeprefix(f"{exc.field}: ")


def _by_incident(db: Session, cad_incident_id: str | None) -> Request | None:
    if cad_incident_id is None:
        return None
    found: Request | None = db.scalars(
        select(Request).where(Request.cad_incident_id == cad_incident_id.strip())
    ).one_or_none()
    return found


def _held(request: Request) -> dict[str, Any]:
    waiting = request.state in AWAITING_DECISION
    api_url = f"/api/v1/requests/{request.ref}"
    decided = f"Request {request.ref} is {request.state}; read the decision at {api_url}."
    return {
        "ref": request.ref,
        "cad_incident_id": request.cad_incident_id,
        "state": request.state,
        "held": waiting,
        "message": HOLD_MESSAGE if waiting else decided,
        "url": f"/requests/{request.ref}",
        "api_url": api_url,
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def _register(
    db: Session, app: App, user: User, fields: dict[str, Any], response: Response
) -> tuple[Request, bool]:
    """Create the request, or return the one already registered for its CAD incident."""
    if (existing := _by_incident(db, fields.get("cad_incident_id"))) is not None:
        response.status_code = status.HTTP_200_OK
        return existing, False
    now = utcnow()
    fields["received_at"] = fields.get("received_at") or now
    try:
        request = service.create_request(db, app.deployment, actor=user, now=now, **fields)
    except InvalidField as exc:
        # Another intake of the same incident won the race: same answer as above.
        if exc.field == "cad_incident_id" and (
            existing := _by_incident(db, fields.get("cad_incident_id"))
        ):
            response.status_code = status.HTTP_200_OK
            return existing, False
        raise
    except NotPermitted as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    return request, True


# --- Routes -------------------------------------------------------------------------------------


@router.post(
    "/requests",
    status_code=status.HTTP_201_CREATED,
    response_model=Held,
    summary="Register a call from an immigration agency; the call is held for review",
    responses={
        200: {
            "model": Held,
            "description": "This CAD incident is already registered: "
            "the same request, nothing new created.",
        },
        **UNREADABLE_BODY,
        **AUTH_ERRORS,
    },
)
def create_request(
    body: NewRequest, caller: WriteCaller, db: DbSession, app: AppDep, response: Response
) -> dict[str, Any]:
    fields = body.model_dump()
    try:
        request, _ = _register(db, app, caller[1], fields, response)
    except InvalidField as exc:
        unprocessable(exc.field, _message(exc))
    return _held(request)


@router.post(
    "/eido",
    status_code=status.HTTP_201_CREATED,
    response_model=EidoHeld,
    summary="Register a call from a NENA EIDO document; the call is held for review",
    responses={
        200: {
            "model": EidoHeld,
            "description": "This CAD incident is already registered: "
            "the same request, nothing new created.",
        },
        **UNREADABLE_BODY,
        **AUTH_ERRORS,
    },
)
def create_from_eido(
    document: EidoDocument, caller: WriteCaller, db: DbSession, app: AppDep, response: Response
) -> dict[str, Any]:
    try:
        intake = parse_eido(document.model_dump(by_alias=True, exclude_unset=True))
    except EidoError as exc:
        unprocessable(exc.path, exc.message)
    fields = _fields(intake)
    try:
        request, _ = _register(db, app, caller[1], fields, response)
    except InvalidField as exc:
        unprocessable(EIDO_SOURCES.get(exc.field, exc.field), _message(exc))
    understood = {
        "agency": intake.agency,
        "agency_evidence": intake.agency_evidence,
        "official_name": request.official_name,
        "callback_number": request.callback_number,
        "location": request.location,
        "requested_actions": list(request.requested_actions),
    }
    return {**_held(request), "understood": understood}


def _fields(intake: EidoIntake) -> dict[str, Any]:
    """Return the register's fields for an EIDO intake (a CAD clock ahead of ours is trusted
    no further than now)."""
    received = intake.received_at
    if received is not None:
        received = min(received, utcnow())
    return {
        "cad_incident_id": intake.cad_incident_id,
        "received_at": received,
        "agency": intake.agency,
        "official_name": intake.official_name,
        "official_badge": intake.official_badge,
        "callback_number": intake.callback_number,
        "identity_check": intake.identity_check,
        "identity_note": intake.identity_note,
        "location": intake.location,
        "district": intake.district,
        "caller_words": intake.caller_words,
        "requested_actions": list(intake.requested_actions),
    }


@router.get(
    "/requests/{ref}",
    response_model=RequestStatus,
    summary="Read a request's state and, once decided, the decision to act on",
    responses={
        404: {"model": Problem, "description": "No request with this reference."},
        **AUTH_ERRORS,
    },
)
def read_request(
    ref: Annotated[str, Path(max_length=32)], caller: ReadCaller, db: DbSession
) -> dict[str, Any]:
    try:
        request = service.get_request(db, ref)
    except RequestNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    decision = service.current_decision(db, request)
    open_ = request.state not in (State.CLOSED, State.CANCELLED)
    return {
        "ref": request.ref,
        "cad_incident_id": request.cad_incident_id,
        "state": request.state,
        "held": request.state in AWAITING_DECISION,
        "dispatch_allowed": bool(open_ and decision is not None and decision.outcome == "dispatch"),
        "received_at": _iso(request.received_at),
        "agency": request.agency,
        "requested_actions": list(request.requested_actions),
        "decision": decision_view(decision) if decision is not None else None,
        "units": list(request.units or []),
        "dispatched_at": _iso(request.dispatched_at),
        "arrived_at": _iso(request.arrived_at),
        "closed_at": _iso(request.closed_at),
        "url": f"/requests/{request.ref}",
    }
