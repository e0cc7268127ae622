"""Reading a NENA EIDO document (NENA-STA-021) into the fields of a new request.

Pure: a decoded JSON document in, an `EidoIntake` out, or an `EidoError` naming the place in
the document that is wrong. No web framework, no database, no network (a location given only
by reference is not fetched).

Where each field comes from:

- CAD incident id: the incident component's `internalIncidentId` (else its `$id`, else the
  document's `$id` when it is an incident tracking id, `urn:emergency:uid:incidentid:...`);
- agency: the agency components, by their `agencyType` registry values, their `$id` and the
  name in their jCard; a document naming no immigration agency is refused
  (`NoImmigrationAgency`);
- official: the agent component of that agency (its jCard's name, else its `$id`);
- narrative: the notes components' `notesActionComments`, HTML reduced to text with the
  standard library's HTML parser; script and style content is never kept;
- location: the civic address of a location component (PIDF-LO by value), else coarse
  coordinates; the register rounds a house number to its block;
- callback: the callback component's `tel:` URI;
- requested actions: inferred from keywords in the narrative, conservatively (`other` when
  nothing is recognised); the commanding officer confirms them with the caller.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from assistgate.policy.facts import ACTIONS
from assistgate.requests.enums import IdentityCheck

# Column sizes of the register (the location leaves room for "<n> block of" rounding).
LIMITS = {"official_name": 200, "official_badge": 100, "callback_number": 40,
          "location": 190, "district": 40, "caller_words": 4000, "identity_note": 2000,
          "cad_incident_id": 64}  # fmt: skip
NOT_GIVEN = "not given in the EIDO document"
INCIDENT_URN = "urn:emergency:uid:incidentid:"


class EidoError(ValueError):
    """The document cannot be read as an EIDO; `path` says where (e.g. `agencyComponent[0]`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


class NoImmigrationAgency(EidoError):
    """No agency component names a federal immigration agency: this is not a request for us."""


@dataclass(frozen=True)
class EidoIntake:
    """The fields of a new request read from one EIDO document."""

    cad_incident_id: str | None
    received_at: dt.datetime | None
    agency: str
    agency_evidence: str
    official_name: str
    official_badge: str
    callback_number: str
    location: str
    district: str
    caller_words: str
    requested_actions: tuple[str, ...]
    identity_note: str
    identity_check: str = IdentityCheck.CAD_INTERFACE.value


# --- Text ---------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def clean(text: str, limit: int | None = None) -> str:
    """Return text without control characters or unpaired surrogates, trimmed to `limit`."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 6].rstrip() + " [...]"
    return text


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment, leaving out whatever a browser would not show."""

    # Content never kept: scripts, styles, and containers whose content is not text.
    SKIP = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg",
                      "math", "head", "title", "textarea", "select"})  # fmt: skip
    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                        "blockquote", "pre", "section", "article", "ul", "ol", "table",
                        "hr", "dt", "dd"})  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BREAKS and not self.skipping:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # `<script/>` opens a script in HTML (browsers ignore the slash): so it does here.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BREAKS and not self.skipping:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


# Markup left in the text: what the parser gave back as data (an unterminated comment or tag at
# the end, or `&lt;script&gt;` written as text). Never useful in a narrative, so never kept.
_TAG_LIKE = re.compile(r"<[!?/]?[A-Za-z!-][^<>\n]*>?")


def _without_unterminated_comment(fragment: str) -> str:
    """Cut a fragment where a comment opens and never closes, as a browser hides the rest."""
    at = 0
    while (start := fragment.find("<!--", at)) != -1:
        end = fragment.find("-->", start + 4)
        if end == -1:
            return fragment[:start]
        at = end + 3
    return fragment


def html_to_text(fragment: str) -> str:
    """Return the visible text of an HTML fragment: tags, scripts and styles removed."""
    parser = _TextOnly()
    parser.feed(_without_unterminated_comment(fragment))
    parser.close()
    text = _TAG_LIKE.sub("", "".join(parser.parts))
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return clean("\n".join(line for line in lines if line))


# --- Agencies -----------------------------------------------------------------------------------

# Most specific first: "ICE ERO" is ERO, "DHS ICE" is ICE.
AGENCY_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ice-hsi", ("hsi", "homeland security investigations")),
    ("ice-ero", ("ero", "enforcement and removal operations", "enforcement removal operations")),
    ("cbp", ("cbp", "usbp", "customs and border protection", "customs border protection",
             "border patrol")),
    ("uscis", ("uscis", "citizenship and immigration services",
               "citizenship immigration services")),
    ("ice-other", ("ice", "immigration and customs enforcement",
                   "immigration customs enforcement")),
    ("dhs-other", ("dhs", "homeland security", "department of homeland security")),
)  # fmt: skip
_ACRONYM_DOTS = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _words(text: str) -> str:
    """Return text as lowercase words between single spaces ("U.S. I.C.E." → "us ice")."""
    text = _ACRONYM_DOTS.sub(lambda m: m.group(0).replace(".", "") + " ", text)
    return " " + _NON_WORD.sub(" ", text.lower()).strip() + " "


def agency_code(text: str) -> str | None:
    """Return our code for the immigration agency a name or registry value names, if any."""
    words = _words(text)
    for code, names in AGENCY_NAMES:
        if any(f" {name} " in words for name in names):
            return code
    return None


def _jcard(value: object) -> dict[str, str]:
    """Return the text properties of a jCard (RFC 7095) given as JSON text, by name."""
    if not isinstance(value, str):
        return {}
    try:
        card = json.loads(value)
    except ValueError:
        return {"fn": value}
    found: dict[str, str] = {}
    if isinstance(card, list) and len(card) == 2 and isinstance(card[1], list):
        for prop in card[1]:
            if isinstance(prop, list) and len(prop) >= 4 and isinstance(prop[0], str):
                values = [v if isinstance(v, str) else " ".join(map(str, v)) for v in prop[3:]
                          if isinstance(v, str | list)]  # fmt: skip
                if values:
                    found.setdefault(prop[0].lower(), " ".join(values))
    return found


# --- Locations ----------------------------------------------------------------------------------


class _Pidf(HTMLParser):
    """Collects the civic address and geodetic position of a PIDF-LO document.

    The HTML parser reads XML well enough for this and, unlike an XML parser, never expands
    entities or fetches anything a document declares.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.civic: dict[str, str] = {}
        self.pos: list[str] = []
        self.in_civic = 0
        self.current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        local = tag.rsplit(":", 1)[-1]
        if local == "civicaddress":
            self.in_civic += 1
        self.current = local

    def handle_endtag(self, tag: str) -> None:
        if tag.rsplit(":", 1)[-1] == "civicaddress":
            self.in_civic = max(0, self.in_civic - 1)
        self.current = None

    def handle_data(self, data: str) -> None:
        if self.current is None or not data.strip():
            return
        if self.in_civic:
            self.civic.setdefault(self.current, data.strip())
        elif self.current == "pos":
            self.pos.append(data.strip())


def location_text(pidf: str) -> str | None:
    """Return a PIDF-LO location as an address (or coarse coordinates), or None."""
    parser = _Pidf()
    parser.feed(pidf)
    parser.close()
    c = parser.civic
    house = " ".join(p for p in (c.get("hno", ""), c.get("hns", "")) if p)
    street = " ".join(p for p in (house, c.get("prd", ""), c.get("rd") or c.get("a6", ""),
                                  c.get("sts", ""), c.get("pod", "")) if p)  # fmt: skip
    place = ", ".join(
        p for p in (street or c.get("nam", ""), c.get("a3", ""), c.get("a1", "")) if p
    )
    if street or c.get("nam"):
        return place
    for pos in parser.pos:
        try:
            lat, lon = (float(v) for v in pos.split()[:2])
        except ValueError:
            continue
        # Three decimals is about a hundred metres: no closer than the register keeps addresses.
        return f"near {lat:.3f}, {lon:.3f}"
    return None


# --- Requested actions --------------------------------------------------------------------------

# A phrase → an action. Deliberately few and plain; anything else is `other`.
ACTION_PHRASES: tuple[tuple[str, str], ...] = (
    ("serve_criminal_warrant", r"\bwarrants?\b"),
    ("backup", r"\bback[- ]?up\b|\bcover (?:unit|officers?)\b"),
    ("traffic_stop", r"\btraffic stop\b|\bpull (?:\w+ )?over\b"
                     r"|\bstop (?:the|a|his|her|their) (?:car|vehicle|truck|van)\b"),
    ("knock_and_talk", r"\bknock"),
    ("clear_residence", r"\bclear(?:ing)? (?:the |a |an |his |her |their )?"
                        r"(?:house|home|residence|apartment|building|unit)\b"
                        r"|\bforced? entry\b"),
    ("perimeter", r"\bperimeter\b"),
    ("traffic_control", r"\btraffic control\b|\bblock(?:ing)? (?:the )?(?:road|street|lane)s?\b"),
    ("detain_on_detainer", r"\bdetainers?\b|\bi-?247\b"),
    ("transport_detainee", r"\btransport"),
    ("locate_person", r"\blocate\b|\bwhereabouts\b|\baddress check\b"),
    ("interpreter", r"\binterpret|\btranslat"),
    ("immigration_status_inquiry", r"\bimmigration status\b|\bstatus check\b"
                                   r"|\bcheck (?:his|her|their) (?:status|papers)\b"),
    ("respond_to_crime", r"\bin progress\b|\bshots? fired\b|\bassault(?:ed|ing)?\b|\brobbery\b"),
    ("emergency_response", r"\bactive shooter\b|\bhostages?\b|\bbarricaded?\b"),
)  # fmt: skip
_ACTION_PATTERNS = tuple((action, re.compile(p, re.IGNORECASE)) for action, p in ACTION_PHRASES)


def infer_actions(narrative: str) -> tuple[str, ...]:
    """Return the actions a narrative asks for, in the register's order; ("other",) if none."""
    found = {action for action, pattern in _ACTION_PATTERNS if pattern.search(narrative)}
    return tuple(a for a in ACTIONS if a in found) or ("other",)


# --- The document -------------------------------------------------------------------------------


def _components(doc: Mapping[str, Any], name: str, *, single: bool = False) -> list[dict[str, Any]]:
    """Return a component array (an object accepted where the schema has one), checked."""
    value = doc.get(name)
    if value is None:
        return []
    if single and isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise EidoError(name, "expected an array of components")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise EidoError(f"{name}[{i}]", "expected an object")
    return value


def _text(component: Mapping[str, Any], key: str, path: str) -> str:
    value = component.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise EidoError(f"{path}.{key}", f"expected text; got {type(value).__name__}")
    return value


def _strings(component: Mapping[str, Any], key: str, path: str) -> list[str]:
    value = component.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EidoError(f"{path}.{key}", "expected an array of text")
    return list(value)


def _ref(value: object) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("$ref"), str):
        return str(value["$ref"])
    return None


def _refs(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [r for r in (_ref(v) for v in items) if r is not None]


def _timestamp(value: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and moment.utcoffset() is not None else None


def _requesting_agency(agencies: Sequence[dict[str, Any]]) -> tuple[int, str, str]:
    """Return (index, code, evidence) of the most specific immigration agency named."""
    found: list[tuple[int, int, int, str, str]] = []
    rank = {code: i for i, (code, _) in enumerate(AGENCY_NAMES)}
    for i, agency in enumerate(agencies):
        path = f"agencyComponent[{i}]"
        clues = [(f"agencyType {t!r}", t) for t in _strings(agency, "agencyType", path)]
        clues += [(f"$id {agency['$id']!r}", agency["$id"])] if isinstance(
            agency.get("$id"), str) else []  # fmt: skip
        card = _jcard(agency.get("agencyJcard"))
        clues += [(f"name {card[k]!r}", card[k]) for k in ("fn", "org") if k in card]
        for order, (evidence, clue) in enumerate(clues):
            code = agency_code(clue)
            if code is not None:
                found.append((rank[code], i, order, code, f"{path} {evidence}"))
    if not found:
        raise NoImmigrationAgency(
            "agencyComponent",
            "no agency component names a federal immigration agency (ICE, ERO, HSI, CBP, "
            "Border Patrol, USCIS or DHS, by agencyType, $id or name); this document is not "
            "a request from an immigration agency",
        )
    # The most specific agency; among equals the first component, and its registry value
    # before its $id or name.
    _, index, _, code, evidence = min(found)
    return index, code, evidence


def _official(agents: Iterable[dict[str, Any]], agency_id: str | None) -> tuple[str, str]:
    for agent in agents:
        if agency_id is None or _ref(agent.get("agencyReference")) != agency_id:
            continue
        card = _jcard(agent.get("agentJcard"))
        name = card.get("fn") or (agent["$id"] if isinstance(agent.get("$id"), str) else "")
        badge = ", ".join(v for v in (card.get("title", ""), card.get("org", "")) if v)
        if name:
            return clean(name, LIMITS["official_name"]), clean(badge, LIMITS["official_badge"])
    return f"({NOT_GIVEN})", ""


def _callback(doc: Mapping[str, Any]) -> str:
    preferred = [r for call in _components(doc, "callComponent")
                 for r in _refs(call.get("callBackReference"))]  # fmt: skip
    callbacks = sorted(_components(doc, "callbackComponent"),
                       key=lambda c: c.get("$id") not in preferred)  # fmt: skip
    for i, callback in enumerate(callbacks):
        uris = _strings(callback, "callBackInformationUri", f"callbackComponent[{i}]")
        updated = callback.get("updatedCbn")
        if isinstance(updated, dict) and isinstance(updated.get("updatedCbnIdentifierUri"), str):
            uris.append(updated["updatedCbnIdentifierUri"])
        for uri in sorted(uris, key=lambda u: not u.lower().startswith("tel:")):
            number = re.sub(r"^(?:tel|sips?):", "", uri.strip(), flags=re.IGNORECASE)
            number = number.split(";")[0].split("@")[0]
            if number and len(number) <= LIMITS["callback_number"]:
                return clean(number)
    return ""


def _location(doc: Mapping[str, Any], incident: Mapping[str, Any] | None) -> str:
    first = _refs(incident.get("locationReference")) if incident else []
    locations = sorted(
        _components(doc, "locationComponent"),
        key=lambda c: first.index(c["$id"]) if c.get("$id") in first else len(first),
    )
    by_reference = False
    for i, location in enumerate(locations):
        path = f"locationComponent[{i}]"
        pidf = _text(location, "locationByValue", path)
        found = location_text(pidf) if pidf else None
        if found:
            return clean(found, LIMITS["location"])
        by_reference = by_reference or bool(location.get("locationByReferenceUrl"))
    return f"{NOT_GIVEN} (given by reference only)" if by_reference else NOT_GIVEN


def parse_eido(document: object) -> EidoIntake:
    """Read an EIDO document into the fields of a new request, or raise `EidoError`."""
    if not isinstance(document, Mapping):
        raise EidoError("", "expected an EIDO document (a JSON object)")
    if "agencyComponent" not in document:
        raise EidoError("agencyComponent", "required by the EIDO schema; none given")
    agencies = _components(document, "agencyComponent")
    incidents = _components(document, "incidentComponent", single=True)
    incident = incidents[0] if incidents else None

    index, agency, evidence = _requesting_agency(agencies)
    agency_id = agencies[index].get("$id")
    official, badge = _official(
        _components(document, "agentComponent"), agency_id if isinstance(agency_id, str) else None
    )

    # The document's own id is the incident tracking id when it is one (urn:emergency:uid:...).
    # Ids are cleaned of control characters as all text is (a database refuses NUL).
    top_id = document.get("$id")
    top_id = clean(top_id) if isinstance(top_id, str) else ""
    cad_incident_id = (
        top_id
        if top_id.startswith(INCIDENT_URN) and len(top_id) <= LIMITS["cad_incident_id"]
        else None
    )
    district = incident_type = ""
    if incident is not None:
        path = "incidentComponent"
        internal = clean(_text(incident, "internalIncidentId", path))
        if len(internal) > LIMITS["cad_incident_id"]:
            raise EidoError(f"{path}.internalIncidentId", "at most 64 characters")
        own = incident.get("$id")
        own = clean(own) if isinstance(own, str) else ""
        if internal:
            cad_incident_id = internal
        elif 0 < len(own) <= LIMITS["cad_incident_id"]:
            cad_incident_id = own
        district = clean(_text(incident, "beatOrDispatchGroupText", path), LIMITS["district"])
        incident_type = " / ".join(
            t for t in (_text(incident, "incidentTypeCommonRegistryText", path),
                        _text(incident, "incidentTypeInternalText", path)) if t.strip()
        )  # fmt: skip

    notes = [html_to_text(_text(n, "notesActionComments", f"notesComponent[{i}]"))
             for i, n in enumerate(_components(document, "notesComponent"))]  # fmt: skip
    narrative = "\n".join(n for n in notes if n)
    words = narrative or "(no notes in the EIDO document)"
    if incident_type:
        words += f"\n(CAD incident type: {clean(incident_type, 200)})"

    starts = [
        moment
        for i, call in enumerate(_components(document, "callComponent"))
        if (moment := _timestamp(_text(call, "callStartTimestamp", f"callComponent[{i}]")))
    ]
    issuer = document.get("issuingElementIdentification")
    note = (
        f"Pushed as a NENA EIDO by {issuer if isinstance(issuer, str) else 'an unnamed element'}; "
        f"agency from {evidence}; requested actions inferred from the notes: confirm them."
    )
    return EidoIntake(
        cad_incident_id=cad_incident_id,
        received_at=min(starts) if starts else None,
        agency=agency,
        agency_evidence=evidence,
        official_name=official,
        official_badge=badge,
        callback_number=_callback(document),
        location=_location(document, incident),
        district=district,
        caller_words=clean(words, LIMITS["caller_words"]),
        requested_actions=infer_actions(narrative),
        identity_note=clean(note, LIMITS["identity_note"]),
    )
