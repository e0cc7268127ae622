"""Presets: the internal export and six public calls-for-service exports (FACTS.md section G)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistgate.audit.presets import PRESETS, blind_spots
from assistgate.cli.audit import audit
from tests.audit.factories import write_csv


def _cols(names: str) -> list[str]:
    return names.split()


# Full headers of each public export, as published (FACTS.md section G), and the values to
# plant in them: (id column, time column, {type column: value}).
PUBLIC: dict[str, tuple[list[str], str, str, dict[str, tuple[str, str, str]]]] = {
    "new-orleans": (
        _cols(
            "NOPD_Item Type_ TypeText Priority InitialType InitialTypeText InitialPriority "
            "MapX MapY TimeCreate TimeDispatch TimeArrive TimeClosed Disposition "
            "DispositionText SelfInitiated Beat BLOCK_ADDRESS Zip PoliceDistrict"
        ),
        "NOPD_Item",
        "TimeCreate",
        {
            "alien": ("Type_", "TypeText", "ALIEN"),
            "weak": ("TypeText", "Type_", "ASSIST OTHER AGENCY"),
        },
    ),
    "seattle": (
        _cols(
            "cad_event_number cad_event_original_time_queued cad_event_arrived_time "
            "cad_event_clearance_description call_sign_dispatch_id call_type "
            "call_type_received_classification priority initial_call_type final_call_type "
            "cad_event_response_category dispatch_precinct dispatch_sector dispatch_beat "
            "dispatch_neighborhood dispatch_latitude dispatch_longitude count_of_officers "
            "event_group"
        ),
        "cad_event_number",
        "cad_event_original_time_queued",
        {
            "alien": ("final_call_type", "call_type", "IMMIGRATION - ASSIST ICE"),
            "weak": ("initial_call_type", "call_type", "ASSIST OTHER AGENCY"),
        },
    ),
    "san-francisco": (
        _cols(
            "id cad_number received_datetime entry_datetime dispatch_datetime "
            "enroute_datetime onscene_datetime close_datetime call_type_original "
            "call_type_original_desc call_type_final call_type_final_desc priority_original "
            "priority_final agency disposition onview_flag sensitive_call intersection_name "
            "intersection_point supervisor_district analysis_neighborhood police_district "
            "call_last_updated_at data_as_of data_loaded_at"
        ),
        "cad_number",
        "received_datetime",
        {
            "alien": ("call_type_final_desc", "call_type_final", "ALIEN"),
            "weak": ("call_type_final_desc", "call_type_final", "ASSIST OTHER AGENCY"),
        },
    ),
    "detroit": (
        _cols(
            "incident_id agency incident_address zip_code priority callcode calldescription "
            "category call_timestamp precinct_sca respondingunit officerinitiated "
            "intaketime dispatchtime traveltime totalresponsetime time_on_scene totaltime "
            "neighborhood block_id council_district longitude latitude"
        ),
        "incident_id",
        "call_timestamp",
        {
            "alien": ("calldescription", "callcode", "IMMIGRATION"),
            "weak": ("calldescription", "callcode", "ASSIST OTHER AGENCY"),
        },
    ),
    "cincinnati": (
        _cols(
            "ADDRESS_X AGENCY CREATE_TIME_INCIDENT DISPOSITION_TEXT EVENT_NUMBER "
            "INCIDENT_TYPE_ID INCIDENT_TYPE_DESC PRIORITY PRIORITY_COLOR "
            "ARRIVAL_TIME_PRIMARY_UNIT CLOSED_TIME_INCIDENT DISPATCH_TIME_PRIMARY_UNIT BEAT "
            "DISTRICT COMMUNITY_COUNCIL_NEIGHBORHOOD SNA_NEIGHBORHOOD CPD_NEIGHBORHOOD "
            "LATITUDE_X LONGITUDE_X"
        ),
        "EVENT_NUMBER",
        "CREATE_TIME_INCIDENT",
        {
            "alien": ("INCIDENT_TYPE_ID", "INCIDENT_TYPE_DESC", "ALIEN"),
            "weak": ("INCIDENT_TYPE_DESC", "INCIDENT_TYPE_ID", "ASSIST OTHER AGENCY"),
        },
    ),
    "baltimore": (
        _cols(
            "recordId callDateTime priority district description callNumber "
            "incidentLocation location"
        ),
        "callNumber",
        "callDateTime",
        {
            "alien": ("description", "description", "IMMIGRATION"),
            "weak": ("description", "description", "ASSIST OTHER AGENCY"),
        },
    ),
}


def _public_export(path: Path, preset: str) -> Path:
    header, id_col, time_col, plants = PUBLIC[preset]
    rows = []
    for i in range(60):
        row = dict.fromkeys(header, "")
        row[id_col] = f"E{i:04d}"
        row[time_col] = f"2019-05-01T10:{i:02d}:00"
        for col in header:
            if col not in (id_col, time_col) and not row[col]:
                row[col] = "TRAFFIC STOP" if "type" in col.lower() or "desc" in col.lower() else "x"
        rows.append(row)
    alien_col, _, alien_value = plants["alien"]
    rows[7][alien_col] = alien_value
    weak_col, _, weak_value = plants["weak"]
    rows[30][weak_col] = weak_value
    return write_csv(path, [[r[h] for h in header] for r in rows], header)


def test_the_internal_preset_has_remarks_and_the_public_ones_do_not() -> None:
    assert PRESETS["internal"].has_narrative
    assert sorted(n for n, p in PRESETS.items() if not p.has_narrative) == sorted(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_each_public_preset_names_its_published_source(name: str) -> None:
    preset = PRESETS[name]
    assert preset.source.startswith("https://")
    header, id_col, time_col, _ = PUBLIC[name]
    assert preset.plan.id.names[0] == id_col
    assert preset.plan.time is not None
    assert preset.plan.time.names[0] == time_col
    for column in preset.plan.types:
        assert any(n in header for n in column.names), column


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_a_public_export_is_scanned_by_call_type_and_says_what_it_cannot_see(
    tmp_path: Path, name: str
) -> None:
    source = _public_export(tmp_path / f"{name}.csv", name)
    out = tmp_path / "flagged.csv"
    result = CliRunner().invoke(audit, ["scan", str(source), "--preset", name, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as f:
        flagged = list(csv.DictReader(f))
    assert [(r["id"], r["category"]) for r in flagged] == [("E0007", "agency_request")]
    assert flagged[0]["time"] == "2019-05-01T10:07:00"
    assert "could not see: no narrative column" in result.output
    assert "typed as ordinary calls or assists cannot be found" in result.output
    assert "not flagged, weak evidence only: 1 calls typed as an assist" in result.output


def test_blind_spots_name_each_missing_kind_of_column() -> None:
    internal = PRESETS["internal"].plan
    assert blind_spots(internal) == []
    assert blind_spots(internal, {"id": ("a",), "time": (), "type": (), "text": ("r",)}) == [
        "no call-type column: calls typed as immigration (APCO ALIEN) whose remarks name no "
        "agency cannot be found",
        "no time column: flagged calls cannot be dated",
    ]
