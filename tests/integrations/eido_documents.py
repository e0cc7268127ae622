"""EIDO documents for tests: NENA's shared sample adapted, and documents written by hand with the
structure of the EIDO schema (NENA-STA-021, /work/shared/reference/eido/openapi.yaml)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

# NENA's call-transfer sample (a PSAP's own EIDO: no immigration agency in it).
SAMPLE = Path("/work/shared/reference/eido/sample-call-transfer.json")
PSAP = "psap.louisvilleky.gov"
STAMP = "2026-03-06T09:41:30.0-05:00"


def prologue(component_id: str, agency: str = PSAP) -> dict[str, Any]:
    """Return the prologue every EIDO component carries."""
    return {"$id": component_id, "lastUpdateTimeStamp": STAMP,
            "updatedByAgencyReference": {"$ref": agency}}  # fmt: skip


def jcard(name: str, *, org: str = "", title: str = "") -> str:
    """Return a jCard (RFC 7095) as the JSON text EIDO carries in `agencyJcard`/`agentJcard`."""
    props: list[list[Any]] = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if org:
        props.append(["org", {}, "text", org])
    if title:
        props.append(["title", {}, "text", title])
    return json.dumps(["vcard", props])


def pidf(*, hno: str, prd: str = "", rd: str, sts: str, city: str, state: str) -> str:
    """Return a PIDF-LO location by value with a civic address (RFC 5139)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" entity="pres:cad@louisvilleky.gov">'
        "<tuple id='t1'><status><gp:geopriv><gp:location-info>"
        '<civicAddress xmlns="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr">'
        f"<country>US</country><A1>{state}</A1><A3>{city}</A3><PRD>{prd}</PRD><RD>{rd}</RD>"
        f"<STS>{sts}</STS><HNO>{hno}</HNO></civicAddress></gp:location-info>"
        "</gp:geopriv></status></tuple></presence>"
    )


def ice_agency(
    component_id: str = "ero-louisville.ice.dhs.gov",
    *,
    agency_type: str = "police.federal.ice",
    name: str = "U.S. Immigration and Customs Enforcement, ERO Louisville",
) -> dict[str, Any]:
    return {**prologue(component_id, component_id),
            "agencyRoleDescriptionRegistryText": ["Requesting"],
            "agencyType": [agency_type], "agencyJcard": jcard(name)}  # fmt: skip


def hand_written(
    *,
    incident_id: str = "LMPD-2026-004211",
    notes: list[str] | None = None,
    agency: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a CAD's EIDO for a call from an immigration agency, as a dispatch system sends it."""
    agency = agency or ice_agency()
    notes = notes if notes is not None else [
        "<p>Caller identifies as Deportation Officer K. Marsh (fictional), ICE ERO.</p>"
        "<p>Agents at an apartment ask for a unit to serve a <b>circuit court warrant</b> "
        "and to <i>knock on the door</i> with them.</p>"
    ]  # fmt: skip
    return {
        **prologue("urn:emergency:uid:incidentid:4211:psap.louisvilleky.gov"),
        "eidoVersion": "1.0",
        "issuingElementIdentification": "cad.louisvilleky.gov",
        "incidentComponent": {
            **prologue("urn:emergency:uid:incidentid:4211:psap.louisvilleky.gov"),
            "incidentTypeCommonRegistryText": "ALIEN",
            "incidentTypeInternalText": "Assist federal agency",
            "internalIncidentId": incident_id,
            "beatOrDispatchGroupText": "4",
            "locationReference": [{"$ref": "loc-incident"}],
            "notesReference": [{"$ref": f"note-{i}"} for i in range(len(notes))],
        },
        "callComponent": [{
            **prologue("urn:emergency:uid:callid:77:psap.louisvilleky.gov"),
            "standardPrimaryCallType": "non-emergency", "direction": "incoming",
            "callStartTimestamp": "2026-03-06T09:41:00-05:00",
            "callStateRegistryText": "callAnswered",
            "callBackReference": {"$ref": "cb-1"},
        }],
        "callbackComponent": [{
            **prologue("cb-1"), "callBackInformationUri": ["sip:+15025550142@ice.example",
                                                          "tel:+15025550142"],
        }],
        "agencyComponent": [
            {**prologue(PSAP), "agencyRoleDescriptionRegistryText": ["CallReceiving"],
             "agencyType": ["psap"]},
            agency,
        ],
        "agentComponent": [
            {**prologue("calltaker.12@louisvilleky.gov"), "agentRoleRegistryText": ["Call Taking"],
             "agencyReference": {"$ref": PSAP}},
            {**prologue("k.marsh@ice.dhs.gov", agency["$id"]),
             "agentRoleRegistryText": ["Requesting Official"],
             "agentJcard": jcard("Deportation Officer K. Marsh (fictional)",
                                 org="ERO Louisville sub-office"),
             "agencyReference": {"$ref": agency["$id"]}},
        ],
        "notesComponent": [
            {**prologue(f"note-{i}"), "notesActionComments": text,
             "agentReference": {"$ref": "calltaker.12@louisvilleky.gov"}}
            for i, text in enumerate(notes)
        ],
        "locationComponent": [
            {**prologue("loc-caller"), "locationTypeDescriptionRegistryText": "Caller",
             "locationByReferenceUrl": "https://lis.example/loc/123"},
            {**prologue("loc-incident"), "locationTypeDescriptionRegistryText": "Incident",
             "locationByValue": pidf(hno="1234", prd="S", rd="4th", sts="St", city="Louisville",
                                     state="KY")},
        ],
    }  # fmt: skip


def adapted_sample(
    *, notes: str | None = None, incident_id: str | None = "LMPD-2021-000042"
) -> dict[str, Any]:
    """Return NENA's shared sample with an ICE agency added (and, if given, notes/incident)."""
    document: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    document["agencyComponent"].append(ice_agency("ice.dhs.gov", name="ICE"))
    if notes is not None:
        document["notesComponent"] = [{**prologue("note-1", "state.pa.us"),
                                       "notesActionComments": notes}]  # fmt: skip
    if incident_id is not None:
        document["incidentComponent"] = {**prologue(document["$id"], "state.pa.us"),
                                         "incidentTypeCommonRegistryText": "ALIEN",
                                         "internalIncidentId": incident_id}  # fmt: skip
    return copy.deepcopy(document)
