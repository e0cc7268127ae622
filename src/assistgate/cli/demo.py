"""`assistgate demo`: a fictional register built through the real service, and the engine at work.

It fills a demo folder (embedded SQLite, its own signing key) with 18 months of requests like
Louisville's, verifies the ledger, and walks through the kinds of request reported in 2017.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from assistgate.app import key_dir, open_app
from assistgate.cli.policy import make_engine
from assistgate.demo.history import build_history
from assistgate.ledger.keys import FileKeyStore
from assistgate.ledger.verify import verify_database
from assistgate.policy.explain import explain_decision
from assistgate.requests.models import Request
from assistgate.settings import Settings

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


def engine_walkthrough() -> None:
    """Print five requests like those of 2017 decided under Louisville's two instruments."""
    engine = make_engine()
    click.echo(
        "Requests like those ICE made of Louisville police in 2017, decided under the LMPD "
        "policy (2017-09-22)\nand ordinance O-342-17 (2017-10-26):\n"
    )
    for i, (story, assessment) in enumerate(DEMO_CASES, start=1):
        click.echo(f"{i}. {story}")
        decision = engine.evaluate(engine.parse(assessment))
        click.echo(explain_decision(decision, label="   -> "))


MARKER = ".assistgate-demo"


def _fresh_demo_dir(folder: Path) -> None:
    """Empty `folder` for a new demo, refusing any folder that is not a demo's own."""
    if folder.exists() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise click.UsageError(
            f"{folder} holds files that are not a demo's; choose an empty folder with --data-dir"
        )
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by assistgate demo; deleted by the next demo run\n")


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Folder for the demo's database, key and recordings "
    "(emptied first; only a demo's own folder is accepted).",
)
def demo(data_dir: Path) -> None:
    """Build a realistic, fictional 18-month register and show what it holds."""
    data_dir = data_dir.resolve()
    _fresh_demo_dir(data_dir)
    settings = replace(
        Settings.from_env(),
        environment="demo",
        data_dir=data_dir,
        database_url=f"sqlite:///{(data_dir / 'assistgate.db').as_posix()}",
    )
    FileKeyStore(key_dir(settings)).init()
    app = open_app(settings)
    try:
        started = time.perf_counter()
        count = build_history(app, data_dir / "demo-recordings")
        took = time.perf_counter() - started
        with app.sessions() as session:
            states = Counter(session.scalars(select(Request.state)))
            flagged = session.scalar(select(func.count()).where(Request.flagged_for_review)) or 0
            report = verify_database(session, app.keys.ledger_public_key())
            first_ref = session.scalar(select(Request.ref).order_by(Request.id)) or ""
    finally:
        app.close()
    click.echo(
        f"assistgate demo: {count} fictional requests over 18 months, built in {took:.1f} s "
        f"through the register's own steps, in {data_dir}\n"
    )
    for state, n in sorted(states.items()):
        click.echo(f"  {state:<18} {n}")
    click.echo(f"  flagged for review {flagged}")
    verdict = "verifies" if report.ok else f"DOES NOT VERIFY: {report.first()}"
    click.echo(f"\nLedger: {report.entries} entries, root {report.root[:16]}…, {verdict}.\n")
    engine_walkthrough()
    click.echo(
        f"Explore it:\n  export ASSISTGATE_DATA_DIR={data_dir}\n"
        "  .venv/bin/assistgate request list\n"
        f"  .venv/bin/assistgate request show {first_ref}\n"
        "  .venv/bin/assistgate ledger verify\n"
        "Decide your own: .venv/bin/assistgate policy evaluate FILE "
        "(see assistgate policy --help)"
    )
