"""Plain English words for the register's codes, for reports (the web pages translate them)."""

from __future__ import annotations

AGENCIES = {
    "ice-ero": "ICE Enforcement and Removal Operations",
    "ice-hsi": "ICE Homeland Security Investigations",
    "ice-other": "ICE, other office",
    "cbp": "Customs and Border Protection",
    "uscis": "U.S. Citizenship and Immigration Services",
    "dhs-other": "Department of Homeland Security, other",
}
ACTIONS = {
    "backup": "backup for agents",
    "serve_criminal_warrant": "serve a criminal warrant",
    "respond_to_crime": "respond to a crime",
    "emergency_response": "respond to an emergency",
    "traffic_stop": "traffic stop",
    "perimeter": "hold a perimeter",
    "traffic_control": "traffic control",
    "knock_and_talk": "knock on a door with agents",
    "clear_residence": "clear a residence",
    "detain_on_detainer": "hold someone on an immigration detainer",
    "transport_detainee": "transport a detainee",
    "locate_person": "find a person",
    "interpreter": "interpret for agents",
    "immigration_status_inquiry": "ask about immigration status",
    "other": "other",
}
OUTCOMES = {
    "open": "not closed yet",
    "cancelled": "withdrawn by the agency",
    "no_officers_sent": "no officers sent",
    "no_arrest": "officers sent, no arrest",
    "police_arrest": "arrest by the police on a local charge",
    "agency_arrest": "arrest by the agency",
    "police_and_agency_arrest": "arrests by the police and by the agency",
}
DECISIONS = {"dispatch": "officers sent", "decline": "declined", "none": "no decision"}
EXCEPTIONS = {
    "no_commander_arrival": "commanding officer did not reach the scene",
    "no_recording": "no recording of the call",
}
WARRANTS = {
    "none": "no warrant",
    "judicial_criminal": "criminal warrant signed by a judge",
    "administrative_immigration": "administrative immigration warrant",
    "immigration_detainer": "immigration detainer",
    "": "not decided",
}


def words(code: str, table: dict[str, str] | None = None) -> str:
    """Return the plain words for a code (a ground, say, turned into words if unlisted)."""
    if table is not None and code in table:
        return table[code]
    return code.replace("_", " ").replace("-", " ")


def listed(codes: tuple[str, ...] | list[str], table: dict[str, str] | None = None) -> str:
    """Return codes as words separated by semicolons ("" when there are none)."""
    return "; ".join(words(c, table) for c in codes)
