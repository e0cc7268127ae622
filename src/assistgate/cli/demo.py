"""`assistgate demo`: the kinds of request Louisville received in 2017, decided under its rules.

Until the web service exists this is the product's demo: it shows, request by request, what
the policy engine answers and which clause decides each part of the answer.
"""

from __future__ import annotations

from typing import Any

import click

from assistgate.cli.policy import make_engine
from assistgate.policy.explain import explain_decision

BOTH = ["louisville-lmpd-2017", "louisville-ordinance-2017"]

# Each case restates a kind of request reported in 2017 (KyCIR, 2017-09-07; WDRB, 2017):
# serving local warrants, traffic stops, knocking on doors, backup.
DEMO_CASES: list[tuple[str, dict[str, Any]]] = [
    (
        "ICE ERO asks for help serving a confirmed circuit-court warrant for burglary, and for "
        "officers to knock on the door first.",
        {
            "profile": BOTH,
            "date": "2017-11-14",
            "agency": "ice-ero",
            "requested_actions": ["serve_criminal_warrant", "knock_and_talk"],
            "warrant": {
                "kind": "judicial_criminal",
                "verified": True,
                "description": "Jefferson Circuit Court bench warrant, burglary 3rd degree",
            },
        },
    ),
    (
        "ICE ERO asks for a traffic stop on a car whose driver is named in an ICE administrative "
        "warrant (form I-200).",
        {
            "profile": BOTH,
            "date": "2017-12-05",
            "agency": "ice-ero",
            "requested_actions": ["traffic_stop"],
            "warrant": {"kind": "administrative_immigration", "verified": True},
        },
    ),
    (
        "HSI agents report shots fired by a suspect during their operation and ask for an "
        "emergency response and a perimeter.",
        {
            "profile": BOTH,
            "date": "2018-02-20",
            "agency": "ice-hsi",
            "requested_actions": ["emergency_response", "perimeter"],
            "emergency": {
                "clear_public_danger": True,
                "description": "shots fired from a vehicle near a school",
            },
        },
    ),
    (
        "ICE asks officers to hold a man on an immigration detainer until agents arrive and to ask "
        "him where he was born.",
        {
            "profile": BOTH,
            "date": "2018-04-02",
            "agency": "ice-ero",
            "requested_actions": ["detain_on_detainer", "immigration_status_inquiry"],
            "warrant": {"kind": "immigration_detainer", "verified": True},
        },
    ),
    (
        "ICE asks for backup on a federal warrant for illegal re-entry signed by a magistrate "
        "judge (8 U.S.C. 1326).",
        {
            "profile": BOTH,
            "date": "2018-06-11",
            "agency": "ice-ero",
            "requested_actions": ["backup", "serve_criminal_warrant"],
            "warrant": {
                "kind": "judicial_criminal",
                "verified": True,
                "immigration_offense": True,
                "issued_by": "federal_magistrate_judge",
            },
        },
    ),
]


@click.command()
def demo() -> None:
    """Decide five requests like those of 2017 under Louisville's two instruments."""
    engine = make_engine()
    click.echo(
        "assistgate demo: requests like those ICE made of Louisville police in 2017,\n"
        "decided under the LMPD policy (2017-09-22) and ordinance O-342-17 "
        "(2017-10-26).\n"
    )
    for i, (story, assessment) in enumerate(DEMO_CASES, start=1):
        click.echo(f"{i}. {story}")
        decision = engine.evaluate(engine.parse(assessment))
        click.echo(explain_decision(decision, label="   -> "))
    click.echo("Try your own: assistgate policy evaluate FILE  (see assistgate policy --help)")
