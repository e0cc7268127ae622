"""Factories for tests: an opened app on a given database, people, and requests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from assistgate.app import App, open_app
from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.auth.service import add_user
from assistgate.ledger.keys import MemoryKeyStore
from assistgate.requests import service
from assistgate.requests.models import Request
from assistgate.settings import Settings

LOUISVILLE = dt.timezone(dt.timedelta(hours=-5))

PEOPLE = {
    "ct.alvarez": ("Call taker R. Alvarez (fictional)", Role.CALL_TAKER, None),
    "lt.okafor": ("Lt. J. Okafor (fictional)", Role.COMMANDER, "4101"),
    "lt.brandt": ("Lt. S. Brandt (fictional)", Role.COMMANDER, "4102"),
    "maj.chen": ("Maj. L. Chen (fictional)", Role.COMMANDER, None),
    "cad": ("CAD interface", Role.DISPATCH_SYSTEM, None),
    "ig.rowe": ("Inspector General's auditor (fictional)", Role.AUDITOR, None),
    "admin.kim": ("D. Kim, administrator (fictional)", Role.ADMIN, None),
}


def make_app(database_url: str, data_dir: Path, **overrides: Any) -> App:
    """Open an app on `database_url` with a fresh in-memory signing key and the people above."""
    settings = Settings(data_dir=data_dir, database_url=database_url, **overrides)
    app = open_app(settings, keys=MemoryKeyStore())
    with app.transaction() as session:
        for username, (name, role, extension) in PEOPLE.items():
            add_user(
                session, username=username, display_name=name, roles=[role], extension=extension
            )
    return app


def actor(app: App, username: str) -> User:
    with app.sessions() as session:
        return app.user(session, username)


def new_request(
    app: App, *, received_at: dt.datetime | None = None, by: str = "ct.alvarez", **fields: Any
) -> Request:
    """Register a request with realistic defaults; `fields` override them."""
    received = received_at or dt.datetime(2018, 3, 6, 9, 41, tzinfo=LOUISVILLE)
    values: dict[str, Any] = {
        "agency": "ice-ero",
        "official_name": "Deportation Officer K. Marsh (fictional)",
        "official_badge": "ERO Louisville sub-office",
        "callback_number": "502-555-0142",
        "identity_check": "callback_known_number",
        "location": "1234 S 4th St",
        "district": "4",
        "caller_words": "Agents on scene at an apartment, asking for a unit to serve a "
        "circuit court warrant and to knock on the door with them.",
        "requested_actions": ["serve_criminal_warrant", "knock_and_talk"],
    }
    values.update(fields)
    with app.transaction() as session:
        return service.create_request(
            session,
            app.deployment,
            actor=app.user(session, by),
            received_at=received,
            now=received,
            **values,
        )


WARRANT_FACTS = {
    "warrant": {
        "kind": "judicial_criminal",
        "verified": True,
        "description": "Jefferson Circuit Court bench warrant, theft",
    }
}
