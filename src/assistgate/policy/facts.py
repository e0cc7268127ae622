"""The assessment: what was asked and the facts a commanding officer recorded, field by field.

An assessment is the engine's only input. `parse_assessment` turns a decoded JSON object into
an `Assessment`, filling the documented defaults, and raises `AssessmentError` naming every
field that does not follow the contract (its dotted path, what was expected, what was given).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from assistgate.policy.errors import AssessmentError, FieldProblem

AGENCIES: Final = ("ice-ero", "ice-hsi", "ice-other", "cbp", "uscis", "dhs-other")

ACTIONS: Final = (
    "backup",
    "serve_criminal_warrant",
    "respond_to_crime",
    "emergency_response",
    "traffic_stop",
    "perimeter",
    "traffic_control",
    "knock_and_talk",
    "clear_residence",
    "detain_on_detainer",
    "transport_detainee",
    "locate_person",
    "interpreter",
    "immigration_status_inquiry",
    "other",
)

WARRANT_KINDS: Final = (
    "none",
    "judicial_criminal",
    "administrative_immigration",
    "immigration_detainer",
)

# Who signed the warrant. Only some profiles look at it (Oregon, for instance, names a federal
# magistrate); "unknown" is the honest default when the commanding officer has not checked.
WARRANT_ISSUERS: Final = (
    "unknown",
    "state_judge",
    "federal_judge",
    "federal_magistrate_judge",
    "immigration_officer",
)
JUDGES: Final = frozenset({"state_judge", "federal_judge", "federal_magistrate_judge"})

CRIME_STATUSES: Final = ("none", "occurred", "occurring")

DEFAULT_AGENCY: Final = "ice-ero"
DEFAULT_ACTIONS: Final = ("serve_criminal_warrant", "knock_and_talk")

TOP_LEVEL_FIELDS: Final = (
    "profile",
    "date",
    "agency",
    "requested_actions",
    "warrant",
    "crime",
    "emergency",
    "violence_risk",
)


@dataclass(frozen=True, slots=True)
class Warrant:
    kind: str = "none"
    verified: bool = False
    immigration_offense: bool = False
    issued_by: str = "unknown"
    description: str = ""


@dataclass(frozen=True, slots=True)
class Crime:
    status: str = "none"
    immigration_offense: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class Emergency:
    clear_public_danger: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class ViolenceRisk:
    """Whether the agency put into words a reasonable suspicion of a risk of violence."""

    articulated: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class Assessment:
    """What an immigration agency asked for and the facts that bear on it."""

    profiles: tuple[str, ...] | None
    on_date: dt.date | None
    agency: str
    requested_actions: tuple[str, ...]
    warrant: Warrant
    crime: Crime
    emergency: Emergency
    violence_risk: ViolenceRisk


# The facts a profile's conditions may test, with the values each can take. Profile loading
# refuses a condition on any other fact or value, so a typo in a profile cannot pass silently.
FACT_VALUES: Final[dict[str, tuple[object, ...]]] = {
    "agency": AGENCIES,
    "warrant.kind": WARRANT_KINDS,
    "warrant.verified": (True, False),
    "warrant.immigration_offense": (True, False),
    "warrant.issued_by": WARRANT_ISSUERS,
    "crime.status": CRIME_STATUSES,
    "crime.immigration_offense": (True, False),
    "emergency.clear_public_danger": (True, False),
    "violence_risk.articulated": (True, False),
}

FACT_GETTERS: Final[dict[str, Callable[[Assessment], object]]] = {
    "agency": lambda a: a.agency,
    "warrant.kind": lambda a: a.warrant.kind,
    "warrant.verified": lambda a: a.warrant.verified,
    "warrant.immigration_offense": lambda a: a.warrant.immigration_offense,
    "warrant.issued_by": lambda a: a.warrant.issued_by,
    "crime.status": lambda a: a.crime.status,
    "crime.immigration_offense": lambda a: a.crime.immigration_offense,
    "emergency.clear_public_danger": lambda a: a.emergency.clear_public_danger,
    "violence_risk.articulated": lambda a: a.violence_risk.articulated,
}


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _one_of(options: tuple[str, ...]) -> str:
    return "one of " + ", ".join(options)


class _Reader:
    """Collects every problem in one assessment instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(FieldProblem(path, message))

    def choice(
        self, obj: Mapping[str, Any], key: str, path: str, options: tuple[str, ...], default: str
    ) -> str:
        if key not in obj:
            return default
        value = obj[key]
        if not isinstance(value, str) or value not in options:
            self.fail(path, f"expected {_one_of(options)}; got {_describe(value)}")
            return default
        return value

    def boolean(self, obj: Mapping[str, Any], key: str, path: str) -> bool:
        value = obj.get(key, False)
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false; got {_describe(value)}")
            return False
        return value

    def text(self, obj: Mapping[str, Any], key: str, path: str) -> str:
        value = obj.get(key, "")
        if not isinstance(value, str):
            self.fail(path, f"expected a string; got {_describe(value)}")
            return ""
        return value

    def section(
        self, obj: Mapping[str, Any], key: str, fields: tuple[str, ...]
    ) -> Mapping[str, Any]:
        value = obj.get(key, {})
        if not isinstance(value, dict):
            self.fail(
                key,
                f"expected an object with the fields {', '.join(fields)}; got {_describe(value)}",
            )
            return {}
        for extra in value:
            if extra not in fields:
                self.fail(f"{key}.{extra}", f"unknown field; expected {_one_of(fields)}")
        return value

    def profiles(self, obj: Mapping[str, Any], known: frozenset[str]) -> tuple[str, ...] | None:
        if "profile" not in obj:
            return None
        value = obj["profile"]
        expected = "a profile id or a non-empty list of profile ids"
        if isinstance(value, str):
            ids = [value]
            paths = ["profile"]
        elif isinstance(value, list) and value:
            ids = value
            paths = [f"profile[{i}]" for i in range(len(value))]
        else:
            self.fail("profile", f"expected {expected}; got {_describe(value)}")
            return None
        seen: set[str] = set()
        for path, pid in zip(paths, ids, strict=True):
            if not isinstance(pid, str) or pid not in known:
                self.fail(
                    path,
                    f"expected a known profile id ({', '.join(sorted(known))}); "
                    f"got {_describe(pid)}",
                )
            elif pid in seen:
                self.fail(path, f"profile {pid!r} is listed twice")
            else:
                seen.add(pid)
        return tuple(ids)

    def on_date(self, obj: Mapping[str, Any]) -> dt.date | None:
        if "date" not in obj:
            return None
        value = obj["date"]
        # fromisoformat also takes "20171026"; the contract asks for the dashed form only.
        if isinstance(value, str) and len(value) == 10:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.fail("date", f"expected a date written YYYY-MM-DD; got {_describe(value)}")
        return None

    def actions(self, obj: Mapping[str, Any]) -> tuple[str, ...]:
        if "requested_actions" not in obj:
            return DEFAULT_ACTIONS
        value = obj["requested_actions"]
        if not isinstance(value, list) or not value:
            got = "an empty list" if value == [] else _describe(value)
            self.fail("requested_actions", f"expected a non-empty list of actions; got {got}")
            return ()
        seen: set[str] = set()
        for i, action in enumerate(value):
            path = f"requested_actions[{i}]"
            if not isinstance(action, str) or action not in ACTIONS:
                self.fail(path, f"expected {_one_of(ACTIONS)}; got {_describe(action)}")
            elif action in seen:
                self.fail(path, f"action {action!r} is listed twice")
            else:
                seen.add(action)
        return tuple(value)


def parse_assessment(obj: object, *, known_profiles: frozenset[str]) -> Assessment:
    """Check a decoded JSON assessment against the contract and fill in its defaults."""
    if not isinstance(obj, dict):
        raise AssessmentError([FieldProblem("", f"expected a JSON object; got {_describe(obj)}")])
    r = _Reader()
    for key in obj:
        if key not in TOP_LEVEL_FIELDS:
            r.fail(str(key), f"unknown field; expected {_one_of(TOP_LEVEL_FIELDS)}")

    w = r.section(
        obj, "warrant", ("kind", "verified", "immigration_offense", "issued_by", "description")
    )
    warrant = Warrant(
        kind=r.choice(w, "kind", "warrant.kind", WARRANT_KINDS, "none"),
        verified=r.boolean(w, "verified", "warrant.verified"),
        immigration_offense=r.boolean(w, "immigration_offense", "warrant.immigration_offense"),
        issued_by=r.choice(w, "issued_by", "warrant.issued_by", WARRANT_ISSUERS, "unknown"),
        description=r.text(w, "description", "warrant.description"),
    )
    c = r.section(obj, "crime", ("status", "immigration_offense", "description"))
    crime = Crime(
        status=r.choice(c, "status", "crime.status", CRIME_STATUSES, "none"),
        immigration_offense=r.boolean(c, "immigration_offense", "crime.immigration_offense"),
        description=r.text(c, "description", "crime.description"),
    )
    e = r.section(obj, "emergency", ("clear_public_danger", "description"))
    emergency = Emergency(
        clear_public_danger=r.boolean(e, "clear_public_danger", "emergency.clear_public_danger"),
        description=r.text(e, "description", "emergency.description"),
    )
    v = r.section(obj, "violence_risk", ("articulated", "description"))
    violence_risk = ViolenceRisk(
        articulated=r.boolean(v, "articulated", "violence_risk.articulated"),
        description=r.text(v, "description", "violence_risk.description"),
    )
    _check_consistency(r, warrant, crime)

    assessment = Assessment(
        profiles=r.profiles(obj, known_profiles),
        on_date=r.on_date(obj),
        agency=r.choice(obj, "agency", "agency", AGENCIES, DEFAULT_AGENCY),
        requested_actions=r.actions(obj),
        warrant=warrant,
        crime=crime,
        emergency=emergency,
        violence_risk=violence_risk,
    )
    if r.problems:
        raise AssessmentError(r.problems)
    return assessment


def _check_consistency(r: _Reader, warrant: Warrant, crime: Crime) -> None:
    """Refuse facts that contradict each other rather than guess which one is meant."""
    if warrant.kind == "none":
        if warrant.verified:
            r.fail(
                "warrant.verified",
                "expected false when warrant.kind is none: there is no warrant to verify",
            )
        if warrant.immigration_offense:
            r.fail("warrant.immigration_offense", "expected false when warrant.kind is none")
        if warrant.issued_by != "unknown":
            r.fail("warrant.issued_by", "expected unknown (or no value) when warrant.kind is none")
    if (
        warrant.kind in ("administrative_immigration", "immigration_detainer")
        and warrant.issued_by in JUDGES
    ):
        r.fail(
            "warrant.issued_by",
            f"expected immigration_officer or unknown: a warrant of kind "
            f"{warrant.kind} is signed by an immigration officer, "
            f"not a judge (use judicial_criminal for a judge's warrant)",
        )
    if warrant.kind == "judicial_criminal" and warrant.issued_by == "immigration_officer":
        r.fail(
            "warrant.issued_by",
            "expected a judge (state_judge, federal_judge, "
            "federal_magistrate_judge) or unknown: a judicial_criminal "
            "warrant is signed by a judge",
        )
    if crime.status == "none" and crime.immigration_offense:
        r.fail("crime.immigration_offense", "expected false when crime.status is none")
