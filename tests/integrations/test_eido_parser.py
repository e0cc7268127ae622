"""Reading EIDO documents: the pure parser, case by case (no web service, no database)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys

import pytest

from assistgate.integrations.eido import (
    EidoError,
    NoImmigrationAgency,
    agency_code,
    html_to_text,
    infer_actions,
    location_text,
    parse_eido,
)
from tests.integrations.eido_documents import (
    SAMPLE,
    adapted_sample,
    hand_written,
    ice_agency,
    pidf,
)


@pytest.mark.parametrize(
    ("named", "code"),
    [
        ("police.federal.ice", "ice-other"),
        ("ICE", "ice-other"),
        ("I.C.E.", "ice-other"),
        ("U.S. Immigration and Customs Enforcement", "ice-other"),
        ("Immigration & Customs Enforcement", "ice-other"),
        ("ICE ERO Louisville", "ice-ero"),
        ("Enforcement and Removal Operations", "ice-ero"),
        ("ero.ice.dhs.gov", "ice-ero"),
        ("HSI Louisville", "ice-hsi"),
        ("Homeland Security Investigations", "ice-hsi"),
        ("police.federal.hsi", "ice-hsi"),
        ("CBP", "cbp"),
        ("U.S. Customs and Border Protection", "cbp"),
        ("U.S. Border Patrol", "cbp"),
        ("USBP Sector", "cbp"),
        ("USCIS Field Office", "uscis"),
        ("U.S. Citizenship and Immigration Services", "uscis"),
        ("DHS", "dhs-other"),
        ("Department of Homeland Security", "dhs-other"),
        ("dhs.gov", "dhs-other"),
    ],
)
def test_immigration_agencies_are_recognised_in_their_usual_spellings(
    named: str, code: str
) -> None:
    assert agency_code(named) == code


@pytest.mark.parametrize(
    "named",
    ["psap", "police.municipal", "Louisville Metro Police", "Office of the Sheriff",
     "U.S. Department of Justice", "police.federal.fbi", "Nice County EMS", "state.pa.us",
     "Zero Street Fire", "Immigration attorney's office"],
)  # fmt: skip
def test_other_agencies_are_not_mistaken_for_immigration_agencies(named: str) -> None:
    assert agency_code(named) is None


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Agents ask for <b>backup</b>.</p>", "Agents ask for backup."),
        ("Before<script>alert('x')</script>after", "Beforeafter"),
        ("<SCRIPT type='text/javascript'>document.cookie</SCRIPT>kept", "kept"),
        ("a<script/>steal()</script>b", "ab"),
        ("visible<script>never closed, never kept", "visible"),
        ("<style>p { color: red }</style>text", "text"),
        ("x<template><p>hidden</p></template>y", "xy"),
        ("<!-- a comment -->words", "words"),
        ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
        ("line one<br>line two<p>three</p>", "line one\nline two\nthree"),
        ("<img src=x onerror=alert(1)>safe", "safe"),
        ("  lots   of\t spaces  ", "lots of spaces"),
        ("a < b and c > d", "a < b and c > d"),
        ("text<!-- unterminated <script>x</script>", "text"),
        ("<!-- a --> b <!-- c", "b"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "alert(1)"),
    ],
)
def test_notes_keep_their_text_and_never_their_scripts(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("narrative", "actions"),
    [
        ("They ask us to serve a circuit court warrant", ("serve_criminal_warrant",)),
        ("Need backup at the apartment and a knock on the door",
         ("backup", "knock_and_talk")),
        ("Agents want a traffic stop on a white van", ("traffic_stop",)),
        ("Asked for officers to clear the apartment", ("clear_residence",)),
        ("Hold him on an ICE detainer until they arrive", ("detain_on_detainer",)),
        ("Please check his immigration status", ("immigration_status_inquiry",)),
        ("Asking for help", ("other",)),
        ("", ("other",)),
    ],
)  # fmt: skip
def test_requested_actions_are_inferred_conservatively(
    narrative: str, actions: tuple[str, ...]
) -> None:
    assert infer_actions(narrative) == actions


def test_a_civic_address_is_read_and_coordinates_are_kept_coarse() -> None:
    assert location_text(pidf(hno="1234", prd="S", rd="4th", sts="St", city="Louisville",
                              state="KY")) == "1234 S 4th St, Louisville, KY"  # fmt: skip
    geodetic = ('<presence><gml:Point xmlns:gml="http://www.opengis.net/gml">'
                "<gml:pos>38.252665 -85.758456</gml:pos></gml:Point></presence>")  # fmt: skip
    assert location_text(geodetic) == "near 38.253, -85.758"
    assert location_text("<presence></presence>") is None
    # An XML entity bomb is text to this parser: nothing is expanded.
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><civicAddress><RD>&a;&a;</RD></civicAddress>'
    assert len(location_text(bomb) or "") < 20


def test_the_shared_sample_with_an_ice_agency_reads_into_a_request() -> None:
    intake = parse_eido(adapted_sample(notes="<p>ICE agents ask for backup.</p>"))
    assert intake.agency == "ice-other"
    assert intake.cad_incident_id == "LMPD-2021-000042"
    assert intake.callback_number == "8195551212"
    assert intake.location == "42 W Cellular Street, Wilmington, DE"
    assert intake.received_at == dt.datetime.fromisoformat("2021-04-30T14:40:00-04:00")
    assert intake.requested_actions == ("backup",)
    assert intake.identity_check == "cad_interface"
    assert "ICE agents ask for backup." in intake.caller_words


def test_the_shared_sample_as_published_names_no_immigration_agency() -> None:
    with pytest.raises(NoImmigrationAgency) as refused:
        parse_eido(json.loads(SAMPLE.read_text(encoding="utf-8")))
    assert refused.value.path == "agencyComponent"
    assert "names a federal immigration agency" in refused.value.message


def test_a_hand_written_cad_document_reads_field_by_field() -> None:
    intake = parse_eido(hand_written())
    assert intake.cad_incident_id == "LMPD-2026-004211"
    assert intake.agency == "ice-ero"
    assert intake.official_name == "Deportation Officer K. Marsh (fictional)"
    assert intake.official_badge == "ERO Louisville sub-office"
    assert intake.callback_number == "+15025550142"
    assert intake.location == "1234 S 4th St, Louisville, KY"
    assert intake.district == "4"
    assert intake.requested_actions == ("serve_criminal_warrant", "knock_and_talk")
    assert intake.caller_words.splitlines() == [
        "Caller identifies as Deportation Officer K. Marsh (fictional), ICE ERO.",
        "Agents at an apartment ask for a unit to serve a circuit court warrant and to knock "
        "on the door with them.",
        "(CAD incident type: ALIEN / Assist federal agency)",
    ]
    assert "agencyComponent[1]" in intake.identity_note


def test_the_most_specific_agency_wins_and_the_evidence_says_where_it_was_found() -> None:
    hsi = ice_agency("agency-7.example", agency_type="police.federal",
                     name="DHS / Homeland Security Investigations")  # fmt: skip
    document = hand_written(agency=hsi)
    intake = parse_eido(document)
    assert intake.agency == "ice-hsi"
    assert "Homeland Security Investigations" in intake.agency_evidence


def test_the_incident_component_may_be_an_array() -> None:
    document = hand_written()
    document["incidentComponent"] = [document["incidentComponent"]]
    assert parse_eido(document).cad_incident_id == "LMPD-2026-004211"


def test_parsing_leaves_the_document_as_it_was() -> None:
    document = hand_written()
    before = copy.deepcopy(document)
    parse_eido(document)
    assert document == before


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("agencyComponent"), "agencyComponent"),
        (lambda d: d.update(agencyComponent={"not": "a list"}), "agencyComponent"),
        (lambda d: d["agencyComponent"].append("ICE"), "agencyComponent[2]"),
        (lambda d: d["agencyComponent"][1].update(agencyType=42), "agencyComponent[1].agencyType"),
        (lambda d: d["notesComponent"][0].update(notesActionComments=["x"]),
         "notesComponent[0].notesActionComments"),
        (lambda d: d["incidentComponent"].update(internalIncidentId="x" * 65),
         "incidentComponent.internalIncidentId"),
    ],
)  # fmt: skip
def test_a_malformed_document_is_refused_saying_where(change: object, path: str) -> None:
    document = hand_written()
    assert callable(change)
    change(document)
    with pytest.raises(EidoError) as refused:
        parse_eido(document)
    assert refused.value.path == path


def test_the_parser_imports_no_web_framework_database_or_network_client() -> None:
    probe = ("import sys, assistgate.integrations.eido; "
             "print(sorted(m for m in ('fastapi', 'starlette', 'sqlalchemy', 'httpx', "
             "'assistgate.web', 'assistgate.db') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert out.strip() == "[]"
