"""About 18 months of requests like Louisville's, played through the register's own steps.

Every person, number and case here is made up: names carry "(fictional)", phone numbers are
in the 555-01xx range reserved for fiction, and addresses are rounded to the block. The kinds
of request follow what was reported in 2017 (serving local warrants, traffic stops, knocking on
doors, backup) and the rate follows it too: a few a month.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from assistgate.app import App
from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.auth.service import add_user
from assistgate.demo.recorded_calls import attach_call
from assistgate.recordings.store import Vault
from assistgate.requests import service
from assistgate.requests.deployment import Deployment

SEED = 20170922
MONTHS = 18

PEOPLE = [
    ("ct.alvarez", "R. Alvarez, call taker (fictional)", Role.CALL_TAKER, None),
    ("ct.nguyen", "T. Nguyen, call taker (fictional)", Role.CALL_TAKER, None),
    ("lt.okafor", "Lt. J. Okafor (fictional)", Role.COMMANDER, "4101"),
    ("lt.brandt", "Lt. S. Brandt (fictional)", Role.COMMANDER, "4102"),
    ("sgt.ruiz", "Sgt. M. Ruiz, acting commander (fictional)", Role.COMMANDER, "4107"),
    ("maj.chen", "Maj. L. Chen, command staff (fictional)", Role.COMMANDER, None),
    ("ig.rowe", "P. Rowe, inspector general's office (fictional)", Role.AUDITOR, None),
    ("admin.kim", "D. Kim, administrator (fictional)", Role.ADMIN, None),
    ("cad", "MetroSafe CAD interface", Role.DISPATCH_SYSTEM, None),
]
COMMANDERS = ["lt.okafor", "lt.brandt", "sgt.ruiz"]
CALL_TAKERS = ["ct.alvarez", "ct.nguyen", "cad"]

STREETS = [
    ("S 4th St", "4"), ("Bardstown Rd", "5"), ("Dixie Hwy", "3"), ("Preston Hwy", "6"),
    ("W Broadway", "1"), ("Shelbyville Rd", "8"), ("Taylor Blvd", "4"), ("Poplar Level Rd", "6"),
    ("Hikes Ln", "6"), ("Cane Run Rd", "3"), ("E Market St", "1"), ("Westport Rd", "8"),
]  # fmt: skip
OFFICIALS = {
    "ice-ero": ["Deportation Officer K. Marsh (fictional)", "SDDO P. Quill (fictional)"],
    "ice-hsi": ["Special Agent R. Vance (fictional)", "Special Agent D. Holt (fictional)"],
    "cbp": ["Border Patrol Agent T. Lyle (fictional)"],
    "uscis": ["Immigration Officer B. Ames (fictional)"],
    "dhs-other": ["FPS Inspector C. Rood (fictional)"],
}


@dataclass(frozen=True)
class Case:
    """One kind of request: what was asked, the facts found, and how it ended."""

    weight: int
    agency: str
    words: str
    actions: list[str]
    facts: dict[str, Any]
    approve: list[str]
    arrests: list[str] = field(default_factory=list)
    agency_arrests: int = 0
    cancelled: bool = False


WARRANT = {"kind": "judicial_criminal", "verified": True}
CASES = [
    Case(
        6,
        "ice-ero",
        "ERO agents at an apartment ask for a unit to serve a circuit court "
        "warrant for theft on the subject and to knock on the door with them.",
        ["serve_criminal_warrant", "knock_and_talk"],
        {"warrant": {**WARRANT, "description": "Jefferson Circuit Court warrant, theft"}},
        ["serve_criminal_warrant"],
        arrests=["theft"],
    ),
    Case(
        5,
        "ice-ero",
        "ERO asks for a marked unit to stop a vehicle; the driver is named in "
        "an ICE administrative warrant (I-200).",
        ["traffic_stop"],
        {"warrant": {"kind": "administrative_immigration", "verified": True}},
        [],
    ),
    Case(
        3,
        "ice-hsi",
        "HSI team starting an operation at a business asks for backup and "
        "traffic control on the street.",
        ["backup", "traffic_control"],
        {},
        [],
    ),
    Case(
        3,
        "ice-ero",
        "ERO asks officers to hold a man at the scene on an immigration "
        "detainer until agents arrive.",
        ["detain_on_detainer", "transport_detainee"],
        {"warrant": {"kind": "immigration_detainer", "verified": True}},
        [],
    ),
    Case(
        2,
        "ice-hsi",
        "HSI agents report the subject fled in a vehicle and struck an agent's "
        "car; ask for units to respond and for backup.",
        ["respond_to_crime", "backup"],
        {
            "crime": {"status": "occurred", "description": "hit and run on an agent's car"},
            "violence_risk": {"articulated": True, "description": "subject drove at an agent"},
        },
        ["respond_to_crime", "backup"],
        arrests=["leaving the scene of a collision"],
    ),
    Case(
        2,
        "ice-ero",
        "ERO reports a man with a gun threatening people outside a duplex "
        "during their visit; ask for an emergency response and a perimeter.",
        ["emergency_response", "perimeter"],
        {
            "emergency": {
                "clear_public_danger": True,
                "description": "armed man threatening residents",
            },
            "violence_risk": {"articulated": True},
        },
        ["emergency_response", "perimeter"],
        arrests=["wanton endangerment"],
        agency_arrests=1,
    ),
    Case(
        2,
        "ice-ero",
        "ERO asks for backup to arrest a man on a federal warrant for illegal "
        "re-entry (8 U.S.C. 1326).",
        ["backup", "serve_criminal_warrant"],
        {
            "warrant": {
                **WARRANT,
                "immigration_offense": True,
                "issued_by": "federal_magistrate_judge",
            }
        },
        [],
    ),
    Case(
        1,
        "cbp",
        "Border Patrol agent asks officers to find a woman at a listed address.",
        ["locate_person"],
        {},
        [],
    ),
    Case(
        1,
        "uscis",
        "USCIS officer asks an officer to interpret and ask about status at an interview.",
        ["interpreter", "immigration_status_inquiry"],
        {},
        [],
    ),
    Case(
        2,
        "ice-ero",
        "ERO asks for a unit to meet agents on a warrant service; called back "
        "to withdraw before review.",
        ["serve_criminal_warrant"],
        {},
        [],
        cancelled=True,
    ),
]


@dataclass(order=True)
class _Step:
    at: dt.datetime
    order: int
    run: Callable[[Session], None] = field(compare=False)


def _people(app: App) -> None:
    with app.transaction() as session:
        for username, name, role, extension in PEOPLE:
            add_user(session, username=username, display_name=name, roles=[role],
                     extension=extension)  # fmt: skip


def _month(index: int) -> dt.date:
    """Return the first day of month number `index` (year * 12 + month - 1)."""
    return dt.date(index // 12, index % 12 + 1, 1)


def _arrivals(rng: random.Random, zone: ZoneInfo, end: dt.datetime) -> list[dt.datetime]:
    """Return request times over the MONTHS before `end`: 2 to 6 a month, busier by day."""
    times: list[dt.datetime] = []
    last = end.astimezone(zone).date()
    now_index = last.year * 12 + last.month - 1
    for index in range(now_index - MONTHS, now_index + 1):
        month = _month(index)
        days_in = (_month(index + 1) - month).days
        for _ in range(rng.randint(2, 6)):
            day = month + dt.timedelta(days=rng.randrange(days_in))
            if day >= last:
                continue
            hour = rng.choice([6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 19, 22, 2])
            local = dt.datetime(
                day.year,
                day.month,
                day.day,
                hour,
                rng.randrange(60),
                rng.randrange(60),
                tzinfo=zone,
            )
            times.append(local.astimezone(dt.UTC))
    return sorted(times)


def build_history(app: App, recordings_dir: Path, *, end: dt.datetime | None = None) -> int:
    """Fill an empty register with the 18 months before `end` (default now); return the count.

    The last requests are left open (awaiting or under review), as on a live system.
    """
    rng = random.Random(SEED)
    _people(app)
    d = app.deployment
    zone = app.settings.zone
    until = end or dt.datetime.now(dt.UTC)
    steps: list[_Step] = []
    arrivals = _arrivals(rng, zone, until)
    refs: dict[int, str] = {}
    for n, received in enumerate(arrivals):
        case = rng.choices(CASES, weights=[c.weight for c in CASES])[0]
        steps += _plan(
            rng, n, case, received, refs, d, recordings_dir, open_at_end=n >= len(arrivals) - 2
        )
    for s in sorted(steps):
        if s.at > until:
            break
        with app.transaction() as session:
            s.run(session)
    return len(arrivals)


def _plan(
    rng: random.Random,
    n: int,
    case: Case,
    received: dt.datetime,
    refs: dict[int, str],
    d: Deployment,
    recordings_dir: Path,
    *,
    open_at_end: bool,
) -> list[_Step]:
    """Plan one request's steps with realistic gaps between them."""
    street, district = rng.choice(STREETS)
    taker = rng.choice(CALL_TAKERS)
    commander = rng.choice(COMMANDERS)
    minutes = received

    def later(low: float, high: float) -> dt.datetime:
        nonlocal minutes
        minutes = minutes + dt.timedelta(minutes=rng.uniform(low, high))
        return minutes

    def by(session: Session, username: str) -> User:
        return session.query(User).filter_by(username=username).one()

    def create(session: Session) -> None:
        r = service.create_request(
            session, d, actor=by(session, taker), received_at=received, now=received,
            agency=case.agency, official_name=rng.choice(OFFICIALS[case.agency]),
            official_badge=f"{case.agency.upper()} Louisville", callback_number=
            f"502-555-01{rng.randrange(100):02d}", identity_check="cad_interface"
            if taker == "cad" else "callback_known_number",
            location=f"{rng.randrange(1, 60) * 100 + rng.randrange(100)} {street}",
            district=district, caller_words=case.words, requested_actions=case.actions,
            cad_incident_id=f"P{received:%y%j}{n:04d}" if taker == "cad" else None,
        )  # fmt: skip
        refs[n] = r.ref

    plan = [_Step(received, n * 100, create)]

    def add(at: dt.datetime, fn: Callable[..., Any], who: str, **kwargs: Any) -> None:
        def run(session: Session) -> None:
            fn(session, d, actor=by(session, who), ref=refs[n], now=at, **kwargs)

        plan.append(_Step(at, n * 100 + len(plan), run))

    if case.cancelled:
        add(
            later(2, 9),
            service.cancel,
            "cad",
            reason="Agency called back to withdraw the request; subject not at the address.",
        )
        return plan
    add(later(0.5, 4), service.claim, commander)
    if open_at_end:
        return plan
    add(
        later(2, 9),
        service.decide,
        commander,
        facts=case.facts,
        approve=case.approve,
        note=_note(case),
    )
    dispatched = bool(case.approve)
    if dispatched:
        add(
            later(1, 5),
            service.record_dispatch,
            "cad",
            units=[f"{district}A{rng.randrange(10, 40)}" for _ in range(rng.randint(1, 3))],
        )
        if rng.random() < 0.1:
            add(
                later(15, 30),
                service.record_exception,
                "maj.chen",
                kind="no_commander_arrival",
                reason="Commander held at a shooting scene in another division; sergeant "
                "supervised and reported by radio.",
            )
        else:
            add(later(8, 25), service.record_arrival, "cad")
        add(later(25, 90), service.clear, "cad")
    if rng.random() < 0.06:
        add(
            later(30, 240),
            service.record_exception,
            "maj.chen",
            kind="no_recording",
            reason="Recorder outage on the command line; ticket opened with MetroSafe IT.",
        )
    else:
        kind = "dispatch" if dispatched else rng.choice(["decline", "check"])
        add(later(30, 240), attach_call, commander, vault=Vault.in_data_dir(recordings_dir.parent),
            kind=kind, n=n)  # fmt: skip
    add(later(600, 2400), service.close, commander, outcome={
        "officer_actions": case.approve if dispatched else [],
        "police_arrests": [{"offense_category": a} for a in case.arrests],
        "agency_arrests": case.agency_arrests,
        "immigration_status_asked": False,
        "summary": "Officers handled the call under the commander's direction." if dispatched
        else "No officers sent; the agency was told why.",
    })  # fmt: skip
    return plan


def _note(case: Case) -> str:
    if not case.approve:
        return "No ground under the policy; the agency was told officers will not be sent."
    return "Ground confirmed; officers sent only for the permitted actions."
