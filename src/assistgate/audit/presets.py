"""Column presets: which columns of a known export hold the id, time, call type and narrative.

`internal` is the export we ask a 911 centre for: it has remarks, so agency requests typed as
ordinary calls can be found. The public calls-for-service exports carry no narrative at all,
so on them the scan can only use call-type codes and texts; the summary says so. Column names
drift between years, so each column lists the names it has gone by (matched exactly first,
then ignoring case). Sources: the city's open-data page for each export (FACTS.md section G).

Two presets read other records with their own rules files: `lpr_log` (the search audit log of
a licence-plate reader system) and `incident_narrative` (incident report narratives).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistgate.audit.readers import Column, ColumnPlan
from assistgate.audit.rules import Record


@dataclass(frozen=True, slots=True)
class Preset:
    """A known export: its columns and where it is published."""

    name: str
    title: str
    source: str
    plan: ColumnPlan
    note: str = ""
    record: Record = Record.DISPATCH

    @property
    def has_narrative(self) -> bool:
        return bool(self.plan.texts)


def _id(*names: str) -> Column:
    return Column("id", names)


def _time(*names: str) -> Column:
    # Optional in presets: a missing time should not stop a scan, and the summary says so.
    return Column("time", names, required=False)


def _type(*names: str, required: bool = False) -> Column:
    return Column("call type", names, required)


def _text(*names: str) -> Column:
    return Column("narrative", names)


def _context(role: str, *names: str) -> Column:
    return Column(role, names, required=False)


_LOCATION = "location"


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="internal",
            title="Internal dispatch (CAD) export with remarks",
            source="requested from the 911 centre; the layout assistgate asks for (docs/AUDIT.md)",
            plan=ColumnPlan(
                id=_id("incident_number", "event_number", "cad_number"),
                time=_time("call_time", "received_at", "call_received"),
                types=(_type("call_type", "call_type_code"),),
                texts=(_text("remarks", "narrative", "comments", "notes"),),
                context=(_context(_LOCATION, "location", "address", "block_address"),),
            ),
            note="one row per call: incident_number, call_time (ISO 8601), call_type, remarks",
        ),
        Preset(
            name="new-orleans",
            title="New Orleans Police Department calls for service (yearly files)",
            source="https://data.nola.gov/api/views/wgrp-d3ma",
            plan=ColumnPlan(
                id=_id("NOPD_Item"),
                time=_time("TimeCreate"),
                types=(
                    _type("Type_", "Type"),
                    _type("TypeText"),
                    _type("InitialType"),
                    _type("InitialTypeText"),
                ),
                context=(_context(_LOCATION, "BLOCK_ADDRESS"),),
            ),
            note="type may be reclassified up to 36 hours later; some juvenile types removed",
        ),
        Preset(
            name="seattle",
            title="Seattle Police Department call data (current)",
            source="https://data.seattle.gov/Public-Safety/Call-Data/33kz-ixgy",
            plan=ColumnPlan(
                id=_id("cad_event_number"),
                time=_time("cad_event_original_time_queued"),
                types=(
                    _type("call_type"),
                    _type("initial_call_type"),
                    _type("final_call_type"),
                    _type("call_type_received_classification"),
                ),
            ),
        ),
        Preset(
            name="san-francisco",
            title="San Francisco law enforcement dispatched calls for service (closed, current)",
            source=(
                "https://data.sfgov.org/Public-Safety/"
                "Law-Enforcement-Dispatched-Calls-for-Service-Close/2zdj-bwza"
            ),
            plan=ColumnPlan(
                id=_id("cad_number", "id"),
                time=_time("received_datetime"),
                types=(
                    _type("call_type_original"),
                    _type("call_type_original_desc"),
                    _type("call_type_final"),
                    _type("call_type_final_desc"),
                ),
                context=(_context(_LOCATION, "intersection_name"),),
            ),
            note="sensitive calls are flagged, not described",
        ),
        Preset(
            name="detroit",
            title="Detroit 911 calls for service (since 2016-09-20)",
            source="https://opendata.arcgis.com/datasets/4f49eb825f564efa9a23cd103c4ba13b_0.csv",
            plan=ColumnPlan(
                id=_id("incident_id"),
                time=_time("call_timestamp"),
                types=(_type("callcode"), _type("calldescription"), _type("category")),
                context=(_context(_LOCATION, "incident_address"),),
            ),
        ),
        Preset(
            name="cincinnati",
            title="Cincinnati PDI police calls for service",
            source=(
                "https://data.cincinnati-oh.gov/Safety/"
                "PDI-Police-Data-Initiative-Police-Calls-for-Servic/gexm-h6bt"
            ),
            plan=ColumnPlan(
                id=_id("EVENT_NUMBER"),
                time=_time("CREATE_TIME_INCIDENT"),
                types=(_type("INCIDENT_TYPE_ID"), _type("INCIDENT_TYPE_DESC")),
                context=(_context(_LOCATION, "ADDRESS_X"),),
            ),
        ),
        Preset(
            name="baltimore",
            title="Baltimore 911 calls for service",
            source="https://data.baltimorecity.gov/api/views/xviu-ezkt",
            plan=ColumnPlan(
                id=_id("callNumber", "recordId"),
                time=_time("callDateTime"),
                types=(_type("description"),),
                context=(_context(_LOCATION, "incidentLocation"),),
            ),
        ),
        Preset(
            name="lpr_log",
            title="Licence-plate reader search audit log (Flock-style)",
            source="the system's audit export: time, user, reason, networks, filters, org_id, "
            "search_type (FACTS.md section A)",
            plan=ColumnPlan(
                # Some exports number nothing: a search is then known by its row number.
                id=Column("id", ("id", "search_id", "audit_id"), required=False),
                time=_time("time", "search_time", "timestamp", "created_at"),
                texts=(_text("reason", "search_reason", "purpose"),),
                context=(
                    _context("user", "user", "name", "user_name", "username"),
                    _context("org_id", "org_id", "organization_id", "org_name", "agency"),
                    _context("search_type", "search_type"),
                    _context("networks", "networks"),
                ),
            ),
            note="one row per search; only the free-text reason is read by the rules",
            record=Record.LPR_LOG,
        ),
        Preset(
            name="incident_narrative",
            title="Incident report narratives (records management system export)",
            source="requested from the records unit: one row per report, its narrative as text",
            plan=ColumnPlan(
                id=_id("report_number", "incident_number", "case_number", "report_id", "id"),
                time=_time("report_date", "reported_at", "occurred_at", "date"),
                texts=(_text("narrative", "synopsis", "report_text", "text"),),
                context=(_context("officer", "officer", "reporting_officer", "author"),),
            ),
            note="supplements exported as rows of their own are scanned as reports of their own",
            record=Record.INCIDENT_NARRATIVE,
        ),
    )
}


def blind_spots(
    plan: ColumnPlan,
    used: dict[str, tuple[str, ...]] | None = None,
    record: Record = Record.DISPATCH,
) -> list[str]:
    """Say what a scan with these columns cannot see, in words for the summary."""
    texts = used["text"] if used is not None else tuple(c.names[0] for c in plan.texts)
    types = used["type"] if used is not None else tuple(c.names[0] for c in plan.types)
    notes = []
    if not texts:
        notes.append(
            "no narrative column: agency requests that were typed as ordinary calls or "
            "assists cannot be found; only call types naming immigration (APCO ALIEN) can"
        )
    if not types and record is Record.DISPATCH:
        notes.append(
            "no call-type column: calls typed as immigration (APCO ALIEN) whose remarks "
            "name no agency cannot be found"
        )
    if used is not None and not used["id"][0]:
        notes.append("no id column: each row is known by its number in its file, from 1")
    if plan.time is None or (used is not None and not used.get("time")):
        notes.append("no time column: flagged calls cannot be dated")
    return notes
