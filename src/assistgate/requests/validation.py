"""Checks on what people type into the register; each failure names the field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from assistgate.policy.facts import ACTIONS, AGENCIES
from assistgate.requests.enums import ExceptionKind, IdentityCheck, State
from assistgate.requests.errors import InvalidField
from assistgate.requests.models import Request

# A leading house number ("1234 S 4th St") is rounded down to its block ("1200 block of ..."):
# the register keeps no more of an address than the policy needs.
_HOUSE_NUMBER = re.compile(r"^\s*(\d{1,6})\s+(.+)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def text(field: str, value: object, *, required: bool = True, limit: int = 2000) -> str:
    """Return stripped text, refusing non-strings, empty required values and overlong ones."""
    if not isinstance(value, str):
        raise InvalidField(field, f"expected text; got {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise InvalidField(field, "must not be empty")
    if len(value) > limit:
        raise InvalidField(field, f"at most {limit} characters; got {len(value)}")
    return value


def moment(field: str, value: object, *, not_after: dt.datetime) -> dt.datetime:
    """Check an aware datetime that is not in the future."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InvalidField(field, "expected a date and time with its time zone")
    if value > not_after + _FUTURE_TOLERANCE:
        raise InvalidField(field, f"{value.isoformat()} is in the future")
    return value


def block_level(location: str) -> str:
    """Round a street address down to its hundred block."""
    match = _HOUSE_NUMBER.match(location)
    if not match:
        return location
    number, street = int(match.group(1)), match.group(2).strip()
    return f"{number // 100 * 100} block of {street}"


def actions(field: str, value: object) -> list[str]:
    """Check a non-empty list of known actions without repeats."""
    if not isinstance(value, list | tuple) or not value:
        raise InvalidField(field, "expected a non-empty list of actions")
    seen: list[str] = []
    for i, action in enumerate(value):
        if action not in ACTIONS:
            raise InvalidField(
                f"{field}[{i}]", f"expected one of {', '.join(ACTIONS)}; got {action!r}"
            )
        if action in seen:
            raise InvalidField(f"{field}[{i}]", f"{action} is listed twice")
        seen.append(action)
    return seen


def new_request(
    *,
    agency: str,
    official_name: str,
    location: str,
    caller_words: str,
    requested_actions: Sequence[str],
    identity_check: str,
    cad_incident_id: str | None,
) -> dict[str, Any]:
    """Check the fields of a new request and return them ready to store."""
    if agency not in AGENCIES:
        raise InvalidField("agency", f"expected one of {', '.join(AGENCIES)}; got {agency!r}")
    if identity_check not in set(IdentityCheck):
        raise InvalidField(
            "identity_check", f"expected one of {', '.join(IdentityCheck)}; got {identity_check!r}"
        )
    fields: dict[str, Any] = {
        "agency": agency,
        "official_name": text("official_name", official_name, limit=200),
        "location": block_level(text("location", location, limit=200)),
        "caller_words": text("caller_words", caller_words, limit=4000),
        "requested_actions": actions("requested_actions", list(requested_actions)),
        "identity_check": identity_check,
        "cad_incident_id": None,
    }
    if cad_incident_id is not None:
        fields["cad_incident_id"] = text("cad_incident_id", cad_incident_id, limit=64)
    return fields


def assessment_facts(facts: dict[str, Any], requested: Sequence[str]) -> dict[str, Any]:
    """Return the officer's facts as an engine assessment, without profile or date."""
    if not isinstance(facts, dict):
        raise InvalidField("facts", "expected an object of facts")
    for key in ("profile", "date"):
        if key in facts:
            raise InvalidField(
                f"facts.{key}", "set by the deployment from the request's date, not by the officer"
            )
    assessment = dict(facts)
    assessment.setdefault("requested_actions", list(requested))
    return assessment


def approved_actions(approve: Sequence[str], answer: dict[str, Any]) -> list[str]:
    """Check that the approved actions are a subset of what the policy permits."""
    chosen = actions("approve", list(approve)) if approve else []
    if chosen and answer["decision"] != "dispatch":
        raise InvalidField(
            "approve",
            "the policy allows no dispatch here (no ground holds); approve nothing to decline",
        )
    beyond = [a for a in chosen if a not in answer["permitted_actions"]]
    if beyond:
        raise InvalidField(
            "approve",
            f"{', '.join(beyond)} not permitted by the policy; "
            f"permitted: {', '.join(answer['permitted_actions'])}",
        )
    return chosen


def units(value: Sequence[str]) -> list[str]:
    """Check the list of unit call signs sent."""
    if not value:
        raise InvalidField("units", "name at least one unit sent")
    return [text(f"units[{i}]", u, limit=32) for i, u in enumerate(value)]


def sha256(value: str) -> str:
    """Check a lowercase hex SHA-256 digest."""
    digest = value.strip().lower() if isinstance(value, str) else ""
    if not _SHA256.match(digest):
        raise InvalidField("sha256", "expected 64 hexadecimal characters")
    return digest


def exception(kind: str, reason: str, request: Request) -> ExceptionKind:
    """Check an exception to a closing rule: a known kind, a reason, and a state it fits."""
    if kind not in set(ExceptionKind):
        raise InvalidField("kind", f"expected one of {', '.join(ExceptionKind)}; got {kind!r}")
    text("reason", reason)
    state = State(request.state)
    if state in (State.CLOSED, State.CANCELLED):
        raise InvalidField("kind", f"request {request.ref} is {state}: no exception can be added")
    if kind == ExceptionKind.NO_COMMANDER_ARRIVAL and request.dispatched_at is None:
        raise InvalidField("kind", "no units were dispatched, so no arrival is missing")
    return ExceptionKind(kind)


def outcome(value: dict[str, Any], approved: Sequence[str]) -> dict[str, Any]:
    """Check the outcome recorded at closure and return it normalised."""
    if not isinstance(value, dict):
        raise InvalidField("outcome", "expected an object")
    known = {
        "officer_actions",
        "police_arrests",
        "agency_arrests",
        "immigration_status_asked",
        "summary",
    }
    for key in value:
        if key not in known:
            raise InvalidField(
                f"outcome.{key}", f"unknown field; expected one of {', '.join(sorted(known))}"
            )
    asked = value.get("immigration_status_asked")
    if not isinstance(asked, bool):
        raise InvalidField(
            "outcome.immigration_status_asked",
            "required: true or false, an explicit statement of whether any "
            "officer asked anyone's immigration status",
        )
    done = (
        actions("outcome.officer_actions", value["officer_actions"])
        if value.get("officer_actions")
        else []
    )
    beyond = [a for a in done if a not in approved]
    if beyond:
        raise InvalidField(
            "outcome.officer_actions",
            f"{', '.join(beyond)} was not approved by the decision; record it as "
            f"an exception with command staff instead",
        )
    arrests = value.get("police_arrests", [])
    if not isinstance(arrests, list) or not all(
        isinstance(a, dict)
        and isinstance(a.get("offense_category"), str)
        and a["offense_category"].strip()
        for a in arrests
    ):
        raise InvalidField(
            "outcome.police_arrests", 'expected a list of {"offense_category": "..."}'
        )
    agency_arrests = value.get("agency_arrests", 0)
    if (
        not isinstance(agency_arrests, int)
        or isinstance(agency_arrests, bool)
        or agency_arrests < 0
    ):
        raise InvalidField("outcome.agency_arrests", "expected a whole number, 0 or more")
    return {
        "officer_actions": done,
        "police_arrests": [{"offense_category": a["offense_category"].strip()} for a in arrests],
        "agency_arrests": agency_arrests,
        "immigration_status_asked": asked,
        "summary": text("outcome.summary", value.get("summary", ""), required=False),
    }
