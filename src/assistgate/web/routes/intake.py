"""The call taker's intake: one form for a call from an immigration agency, sent with one key,
and a plain answer: hold the call, the commanding officer has been alerted.

The words the floor screens use for agencies, actions and identity checks live here too, so
that the intake form, the queue and the request screen say the same thing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.cli.common import local_time
from assistgate.db.base import utcnow
from assistgate.policy.facts import ACTIONS
from assistgate.requests import service
from assistgate.requests.errors import InvalidField, RegisterError
from assistgate.requests.escalation import first_recipient
from assistgate.requests.flows import TransitionRefused
from assistgate.web.app import templates
from assistgate.web.deps import AppDep, CsrfChecked, CurrentUser, DbSession
from assistgate.web.routes.login import home_for

router = APIRouter(include_in_schema=False)

AGENCY_LABELS = {
    "ice-ero": "ICE Enforcement and Removal Operations (ERO)",
    "ice-hsi": "ICE Homeland Security Investigations (HSI)",
    "ice-other": "ICE, another office",
    "cbp": "Customs and Border Protection or Border Patrol (CBP)",
    "uscis": "Citizenship and Immigration Services (USCIS)",
    "dhs-other": "Homeland Security, another part (DHS)",
}
ACTION_LABELS = {
    "backup": "Back the agents up (officers present)",
    "serve_criminal_warrant": "Serve a criminal warrant",
    "respond_to_crime": "Respond to a crime",
    "emergency_response": "Respond to an emergency",
    "traffic_stop": "Make a traffic stop",
    "perimeter": "Hold a perimeter",
    "traffic_control": "Control traffic",
    "knock_and_talk": "Knock on a door with them",
    "clear_residence": "Clear a house or apartment",
    "detain_on_detainer": "Hold someone on an immigration detainer",
    "transport_detainee": "Transport a detainee",
    "locate_person": "Find a person",
    "interpreter": "Interpret for the agents",
    "immigration_status_inquiry": "Ask about someone's immigration status",
    "other": "Something else (in their words below)",
}
IDENTITY_LABELS = {
    "callback_known_number": "I called back the agency's known number",
    "cad_interface": "It came through the dispatch system (CAD)",
    "in_person_credentials": "Credentials checked in person",
    "not_verified": "Not verified",
}
STATE_LABELS = {
    "received": "Received",
    "awaiting_review": "Awaiting review",
    "under_review": "Under review",
    "declined": "Declined",
    "dispatch_approved": "Dispatch approved",
    "units_dispatched": "Units dispatched",
    "commander_on_scene": "Commander on scene",
    "cleared": "Cleared",
    "closed": "Closed",
    "cancelled": "Cancelled",
}

FIELD_LABELS = {
    "agency": "Agency calling", "official_name": "Official's name",
    "official_badge": "Badge number or office", "callback_number": "Callback number",
    "identity_check": "How you confirmed who is calling", "identity_note": "Note on that check",
    "location": "Location", "district": "District",
    "requested_actions": "What they ask officers to do",
    "caller_words": "What they said, in their words",
}  # fmt: skip
REFUSED = (RegisterError, TransitionRefused)


def words(value: str) -> str:
    """Return an identifier as words: judicial_criminal -> judicial criminal."""
    return value.replace("_", " ")


def labels() -> dict[str, Any]:
    """Return the vocabulary every floor template uses."""
    return {"agency_labels": AGENCY_LABELS, "action_labels": ACTION_LABELS,
            "identity_labels": IDENTITY_LABELS, "state_labels": STATE_LABELS,
            "words": words}  # fmt: skip


def no_access(request: Request, user: User, screen: str, needed: str) -> Response:
    """Return the page that says, with a 403, that this screen is not for the user's role."""
    context = {"screen": screen, "needed": needed, "held": sorted(words(r) for r in user.roles),
               "home": home_for(user)}  # fmt: skip
    return templates.TemplateResponse(request, "no_access.html", context, status_code=403)


def field_of(error: InvalidField) -> str:
    """Return the form field an error is about (requested_actions[2] -> requested_actions)."""
    return error.field.split("[", 1)[0].split(".", 1)[0]


def message_of(error: InvalidField) -> str:
    """Return an error's message without the field name it starts with."""
    text = str(error)
    prefix = f"{error.field}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _form(
    request: Request, values: dict[str, Any], error: InvalidField | None, status_code: int = 200
) -> Response:
    context = {"values": values, "error": error, "error_field": field_of(error) if error else "",
               "error_message": message_of(error) if error else "", "actions": ACTIONS,
               "field_labels": FIELD_LABELS, **labels()}  # fmt: skip
    return templates.TemplateResponse(request, "intake.html", context, status_code=status_code)


def _may_take_calls(user: User) -> bool:
    return user.has_any({Role.CALL_TAKER, Role.COMMANDER})


@router.get("/intake", response_class=HTMLResponse)
def intake_form(request: Request, user: CurrentUser) -> Response:
    if not _may_take_calls(user):
        return no_access(request, user, "The intake form", "call takers and commanding officers")
    return _form(request, {"requested_actions": []}, None)


@router.post("/intake")
def intake(
    request: Request,
    app: AppDep,
    db: DbSession,
    state: CsrfChecked,
    agency: Annotated[str, Form()] = "",
    official_name: Annotated[str, Form()] = "",
    official_badge: Annotated[str, Form()] = "",
    callback_number: Annotated[str, Form()] = "",
    identity_check: Annotated[str, Form()] = "",
    identity_note: Annotated[str, Form()] = "",
    location: Annotated[str, Form()] = "",
    district: Annotated[str, Form()] = "",
    caller_words: Annotated[str, Form()] = "",
    requested_actions: Annotated[list[str] | None, Form()] = None,
) -> Response:
    user = state.user
    if not _may_take_calls(user):
        return no_access(request, user, "The intake form", "call takers and commanding officers")
    requested_actions = requested_actions or []
    values: dict[str, Any] = {
        "agency": agency, "official_name": official_name, "official_badge": official_badge,
        "callback_number": callback_number, "identity_check": identity_check,
        "identity_note": identity_note, "location": location, "district": district,
        "caller_words": caller_words, "requested_actions": requested_actions,
    }  # fmt: skip
    now = utcnow()
    try:
        if not agency:
            raise InvalidField("agency", "choose the agency that is calling")
        if not identity_check:
            raise InvalidField("identity_check", "choose how you confirmed who is calling")
        if not requested_actions:
            raise InvalidField("requested_actions", "tick at least one thing they ask for")
        with db.begin_nested():
            created = service.create_request(
                db, app.deployment, actor=user, received_at=now, now=now, **values
            )
    except InvalidField as exc:
        return _form(request, values, exc, status_code=422)
    except REFUSED as exc:
        return _form(request, values, InvalidField("form", str(exc)), status_code=409)
    ref = created.ref
    # Committed before answering: the answer promises that the commander has been alerted.
    db.commit()
    return RedirectResponse(f"/intake/held/{ref}", status_code=303)


@router.get("/intake/held/{ref}", response_class=HTMLResponse)
def held(request: Request, app: AppDep, db: DbSession, user: CurrentUser, ref: str) -> Response:
    if not _may_take_calls(user):
        return no_access(request, user, "The intake answer", "call takers and commanding officers")
    try:
        found = service.get_request(db, ref)
    except RegisterError:
        return templates.TemplateResponse(
            request, "no_access.html", {"missing": ref, "home": home_for(user)}, status_code=404
        )
    alerted = first_recipient(db, app.settings.command_staff_contact)
    context = {"req": found, "alerted": alerted, "alerted_is_user": isinstance(alerted, User),
               "received": local_time(found.received_at, app.settings.zone),
               **labels()}  # fmt: skip
    return templates.TemplateResponse(request, "intake_held.html", context)
