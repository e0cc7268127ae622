"""Plain English words for the register's codes, for reports and the public pages.

The public pages show these words in the visitor's language: every word marked `N_("...")` is
a message of the public pages' gettext catalogs (`transparency/i18n.py` extracts them from this
file), so changing one here means updating the catalogs (docs/PUBLIC_PAGES.md says how).
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 (gettext's conventional name for a deferred marker)
    """Mark `text` for translation where it is defined; return it unchanged."""
    return text


AGENCIES = {
    "ice-ero": N_("ICE Enforcement and Removal Operations"),
    "ice-hsi": N_("ICE Homeland Security Investigations"),
    "ice-other": N_("ICE, other office"),
    "cbp": N_("Customs and Border Protection"),
    "uscis": N_("U.S. Citizenship and Immigration Services"),
    "dhs-other": N_("Department of Homeland Security, other"),
}
ACTIONS = {
    "backup": N_("backup for agents"),
    "serve_criminal_warrant": N_("serve a criminal warrant"),
    "respond_to_crime": N_("respond to a crime"),
    "emergency_response": N_("respond to an emergency"),
    "traffic_stop": N_("traffic stop"),
    "perimeter": N_("hold a perimeter"),
    "traffic_control": N_("traffic control"),
    "knock_and_talk": N_("knock on a door with agents"),
    "clear_residence": N_("clear a residence"),
    "detain_on_detainer": N_("hold someone on an immigration detainer"),
    "transport_detainee": N_("transport a detainee"),
    "locate_person": N_("find a person"),
    "interpreter": N_("interpret for agents"),
    "immigration_status_inquiry": N_("ask about immigration status"),
    "other": N_("other"),
}
OUTCOMES = {
    "open": N_("not closed yet"),
    "cancelled": N_("withdrawn by the agency"),
    "no_officers_sent": N_("no officers sent"),
    "no_arrest": N_("officers sent, no arrest"),
    "police_arrest": N_("arrest by the police on a local charge"),
    "agency_arrest": N_("arrest by the agency"),
    "police_and_agency_arrest": N_("arrests by the police and by the agency"),
}
DECISIONS = {
    "dispatch": N_("officers sent"),
    "decline": N_("declined"),
    "none": N_("no decision"),
}
EXCEPTIONS = {
    "no_commander_arrival": N_("commanding officer did not reach the scene"),
    "no_recording": N_("no recording of the call"),
}
# The grounds of every policy profile (policy/profiles/*/*.yaml, `grounds:`), in short words;
# the profile's `summary` of each is the long form.
GROUNDS = {
    "criminal_warrant": N_("criminal warrant not about immigration"),
    "crime": N_("a crime, not only an immigration offence"),
    "public_danger": N_("clear danger to the public"),
    "judicial_warrant": N_("warrant signed by a judge"),
    "violence_risk": N_("risk of violence stated by the agency"),
    "outstanding_criminal_warrant": N_("outstanding criminal warrant"),
    "judicial_criminal_warrant": N_("criminal warrant signed by a judge"),
    "federal_magistrate_immigration_warrant": N_(
        "federal magistrate judge's warrant on a criminal immigration charge"
    ),
}
# The public log's columns, as the public log page heads them (the downloads keep the codes).
LOG_COLUMNS = {
    "reference": N_("Reference"),
    "month": N_("Month"),
    "week": N_("Week"),
    "district": N_("Police district"),
    "agency": N_("Agency"),
    "requested_actions": N_("Actions asked for"),
    "decision": N_("Decision"),
    "grounds": N_("Grounds that held"),
    "prohibited_actions_asked": N_("Forbidden actions asked for"),
    "commander_attended": N_("Commanding officer on scene"),
    "recording": N_("Call recorded"),
    "outcome": N_("Outcome"),
}
YES_NO = {True: N_("yes"), False: N_("no")}
# Not shown on the public pages, so not in their catalogs.
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
