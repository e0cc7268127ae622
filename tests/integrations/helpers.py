"""Shared by the API, EIDO and webhook tests: tokens, requests through the register, decisions,
and the web app served on loopback.

The API tests open the app with `tests.factories.make_app` rather than the screens' `web_app`
fixture: they need no passwords, and hashing them with Argon2 is most of that fixture's time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from assistgate.app import App
from assistgate.auth.models import User
from assistgate.auth.sessions import create_token
from assistgate.requests import service
from assistgate.web.app import create_web_app
from tests.factories import WARRANT_FACTS

READ_WRITE = ["requests:read", "requests:write"]

NEW_REQUEST: dict[str, Any] = {
    "cad_incident_id": "LMPD-2026-000123",
    "received_at": "2026-03-06T09:41:00-05:00",
    "agency": "ice-ero",
    "official_name": "Deportation Officer K. Marsh (fictional)",
    "official_badge": "ERO Louisville sub-office",
    "callback_number": "502-555-0142",
    "identity_check": "callback_known_number",
    "location": "1234 S 4th St",
    "district": "4",
    "caller_words": "Agents ask for a unit to serve a circuit court warrant and to knock "
    "on the door with them.",
    "requested_actions": ["serve_criminal_warrant", "knock_and_talk"],
}


def make_token(
    app: App, *, scopes: list[str] | None = None, username: str = "cad", name: str = "cad-main"
) -> str:
    """Create an API token for `username` and return it (as `token create` prints it)."""
    with app.transaction() as session:
        user = session.query(User).filter_by(username=username).one()
        return create_token(session, name=name, scopes=scopes or READ_WRITE, user=user)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def decide(app: App, ref: str, *, approve: tuple[str, ...] = ("serve_criminal_warrant",)) -> None:
    """Have a commanding officer claim and decide `ref` on the warrant facts."""
    with app.transaction() as session:
        okafor = app.user(session, "lt.okafor")
        service.claim(session, app.deployment, actor=okafor, ref=ref)
        service.decide(session, app.deployment, actor=okafor, ref=ref, facts=WARRANT_FACTS,
                       approve=list(approve))  # fmt: skip


def dispatch(app: App, ref: str, *, units: tuple[str, ...] = ("4A21",)) -> None:
    with app.transaction() as session:
        service.record_dispatch(session, app.deployment, actor=app.user(session, "cad"), ref=ref,
                                units=list(units))  # fmt: skip


def cancel(app: App, ref: str, *, now: dt.datetime | None = None) -> None:
    with app.transaction() as session:
        service.cancel(session, app.deployment, actor=app.user(session, "cad"), ref=ref,
                       reason="the agency withdrew the request", now=now)  # fmt: skip


def add_endpoint(app: App, *, name: str, url: str, secret: str | None = None) -> str:
    """Add an active endpoint (as `endpoint add` does); return its secret."""
    from assistgate.db.base import utcnow
    from assistgate.integrations.models import WebhookEndpoint

    secret = secret or f"whsec_test_{name}"
    with app.transaction() as session:
        session.add(WebhookEndpoint(name=name, url=url, secret=secret, active=True,
                                    created_at=utcnow()))  # fmt: skip
    return secret


@contextmanager
def serving_api(app: App) -> Iterator[str]:
    """Serve the web app on a free loopback port in a thread; yield its base URL."""
    from tests.web.conftest import serving

    with serving(create_web_app(app)) as base:
        yield base
