"""`assistgate demo`: a fictional register built through the real service, and the engine at work.

It fills a demo folder (embedded SQLite, its own signing key) with 18 months of requests like
Louisville's, verifies the ledger, and walks through the kinds of request reported in 2017.

The demo's people get a demo password and, for the roles that need one, an enrolled second
factor, so that each role can be tried on the screens: `assistgate demo code USERNAME` prints
the current six-digit code. Those accounts exist only in a demo folder, whose own settings
(`demo.env`) say `environment=demo`; nothing outside it has a default password.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import pyotp
from sqlalchemy import func, select

from assistgate.app import App, key_dir, open_app
from assistgate.auth.enums import NEEDS_SECOND_FACTOR, Role
from assistgate.auth.models import User
from assistgate.auth.security import hash_password, new_totp_secret
from assistgate.cli.common import EXIT_REFUSED, fail
from assistgate.cli.policy import make_engine
from assistgate.db.base import utcnow
from assistgate.demo.history import PEOPLE, build_history
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
SETTINGS_FILE = "demo.env"
DEFAULT_DIR = Path("var/demo")
# Every demo person's password: printed by the demo, valid only in a demo folder's database.
DEMO_PASSWORD = "assistgate-demo"
# The person shown first for each role; the others of the role sign in the same way.
ROLE_ORDER = (Role.CALL_TAKER, Role.COMMANDER, Role.AUDITOR, Role.ADMIN)
ROLE_NAMES = {Role.CALL_TAKER: "call taker", Role.COMMANDER: "commander",
              Role.AUDITOR: "auditor", Role.ADMIN: "administrator"}  # fmt: skip


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


def demo_settings(data_dir: Path) -> Settings:
    """Return the settings of the demo in `data_dir`: its own database, key and environment."""
    return replace(
        Settings.from_env(),
        environment="demo",
        data_dir=data_dir,
        database_url=f"sqlite:///{(data_dir / 'assistgate.db').as_posix()}",
    )


def write_settings_file(settings: Settings) -> Path:
    """Write the demo folder's own settings, for `assistgate serve` to run on the demo."""
    path = settings.data_dir / SETTINGS_FILE
    values = {"ASSISTGATE_ENVIRONMENT": settings.environment,
              "ASSISTGATE_DATA_DIR": str(settings.data_dir),
              "ASSISTGATE_DATABASE_URL": settings.database_url}  # fmt: skip
    lines = ["# The demo's own settings (made by assistgate demo): source this file to run",
             "# assistgate on the demo. Its accounts have demo passwords: use it for nothing",
             "# else."]  # fmt: skip
    lines += [f"{name}={shlex.quote(value)}" for name, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def give_demo_credentials(app: App) -> None:
    """Give every demo person the demo password and, where the role needs one, a second factor."""
    if app.settings.environment != "demo":
        raise click.UsageError("demo credentials are only ever given in a demo folder")
    password_hash = hash_password(DEMO_PASSWORD)
    with app.transaction() as session:
        for username, _name, role, _extension in PEOPLE:
            if role == Role.DISPATCH_SYSTEM:
                continue  # a system signs in with API tokens, never a password
            person = session.scalars(select(User).where(User.username == username)).one()
            person.password_hash = password_hash
            if person.has_any(NEEDS_SECOND_FACTOR):
                person.totp_secret = new_totp_secret()
                person.totp_enrolled_at = utcnow()


def login_lines(command: str = ".venv/bin/assistgate") -> list[str]:
    """Return how to sign in as each role of the demo."""
    lines = [f"Demo sign-ins (every demo password: {DEMO_PASSWORD}):"]
    others = []
    for role in ROLE_ORDER:
        people = [username for username, _n, r, _e in PEOPLE if r == role]
        first = people[0]
        others += people[1:]
        if role in NEEDS_SECOND_FACTOR:
            factor = f"second factor: {command} demo code {first}"
        else:
            factor = "no second factor"
        lines.append(f"  {ROLE_NAMES[role]:<14} {first:<11} password {DEMO_PASSWORD}   {factor}")
    lines.append(f"  (also: {', '.join(others)}; same password, codes the same way)")
    return lines


@click.group(invoke_without_command=True)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_DIR,
    show_default=True,
    help="Folder for the demo's database, key and recordings "
    "(emptied first; only a demo's own folder is accepted).",
)
@click.pass_context
def demo(ctx: click.Context, data_dir: Path) -> None:
    """Build a realistic, fictional 18-month register and show what it holds.

    Without a subcommand: build the demo in --data-dir, with demo accounts for each role, and
    print how to sign in as each. `demo code USERNAME` prints a demo account's current
    second-factor code.
    """
    if ctx.invoked_subcommand is None:
        build(data_dir)


def build(data_dir: Path) -> None:
    """Build the demo in `data_dir` and print what it holds and how to sign in."""
    data_dir = data_dir.resolve()
    _fresh_demo_dir(data_dir)
    settings = demo_settings(data_dir)
    FileKeyStore(key_dir(settings)).init()
    app = open_app(settings)
    try:
        started = time.perf_counter()
        count = build_history(app, data_dir / "demo-recordings")
        give_demo_credentials(app)
        took = time.perf_counter() - started
        with app.sessions() as session:
            states = Counter(session.scalars(select(Request.state)))
            flagged = session.scalar(select(func.count()).where(Request.flagged_for_review)) or 0
            report = verify_database(session, app.keys.ledger_public_key())
            first_ref = session.scalar(select(Request.ref).order_by(Request.id)) or ""
    finally:
        app.close()
    settings_file = write_settings_file(settings)
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
        f"Explore it:\n  set -a; . {shlex.quote(str(settings_file))}; set +a   "
        "# the demo's own settings\n"
        "  .venv/bin/assistgate request list\n"
        f"  .venv/bin/assistgate request show {first_ref}\n"
        "  .venv/bin/assistgate ledger verify\n"
        "  .venv/bin/assistgate recordings verify    # the recorded calls, sealed\n"
        "  .venv/bin/assistgate serve                 # the screens, at http://127.0.0.1:8000/\n"
        f"  (a recorded call to play: http://127.0.0.1:8000/requests/{first_ref}/recordings)\n"
        "Decide your own: .venv/bin/assistgate policy evaluate FILE "
        "(see assistgate policy --help)\n"
    )
    for line in login_lines():
        click.echo(line)


def _demo_dir(option: Path | None) -> Path:
    """Return the demo folder named by --data-dir, else by ASSISTGATE_DATA_DIR, else var/demo."""
    if option is not None:
        return option.resolve()
    from_env = os.environ.get("ASSISTGATE_DATA_DIR")
    return Path(from_env).expanduser().resolve() if from_env else DEFAULT_DIR.resolve()


@demo.command()
@click.argument("username")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The demo folder (default: $ASSISTGATE_DATA_DIR if set, else var/demo).",
)
def code(username: str, data_dir: Path | None) -> None:
    """Print the current six-digit second-factor code of the demo account USERNAME.

    Only for a demo folder made by `assistgate demo`: anywhere else it refuses, since a real
    account's second factor lives on its holder's phone and nowhere else.
    """
    folder = _demo_dir(data_dir)
    if os.environ.get("ASSISTGATE_ENVIRONMENT", "demo") != "demo":
        fail("demo code works only on demo data (ASSISTGATE_ENVIRONMENT is not demo)", EXIT_REFUSED)
    if not (folder / MARKER).is_file() or not (folder / SETTINGS_FILE).is_file():
        fail(f"{folder} is not a demo folder made by 'assistgate demo'; "
             "second-factor codes are shown only for demo accounts", EXIT_REFUSED)  # fmt: skip
    app = open_app(demo_settings(folder), migrate=False)
    try:
        with app.sessions() as session:
            person = session.scalars(select(User).where(User.username == username)).one_or_none()
            secret = person.totp_secret if person is not None else None
    finally:
        app.close()
    if person is None:
        fail(f"no demo account named {username!r}")
    if not secret:
        fail(f"{username} has no second factor: sign in with the password alone")
    totp = pyotp.TOTP(secret)
    left = totp.interval - int(dt.datetime.now(dt.UTC).timestamp()) % totp.interval
    click.echo(totp.now())
    click.echo(f"(valid for {left} more seconds, then the next one)", err=True)
