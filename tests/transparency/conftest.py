"""A hand-built register whose figures are known, and the demo register, on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistgate.app import App, open_app
from assistgate.demo.history import build_history
from assistgate.ledger.keys import MemoryKeyStore
from assistgate.requests import service
from assistgate.settings import Settings
from tests.factories import WARRANT_FACTS, make_app, new_request

ZONE = ZoneInfo("America/Kentucky/Louisville")
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
DEMO_END = dt.datetime(2019, 6, 1, tzinfo=dt.UTC)


def local(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    """A wall-clock time in Louisville."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=ZONE)


def step(app: App, fn: Any, username: str, at: dt.datetime, **kwargs: Any) -> Any:
    with app.transaction() as session:
        return fn(session, app.deployment, actor=app.user(session, username), now=at, **kwargs)


def outcome(
    *arrests: str, agency: int = 0, actions: tuple[str, ...] = (), asked: bool = False
) -> dict[str, Any]:
    return {
        "officer_actions": list(actions),
        "police_arrests": [{"offense_category": a} for a in arrests],
        "agency_arrests": agency,
        "immigration_status_asked": asked,
        "summary": "Handled as the commander directed; a summary no public file may show.",
    }


def minutes(at: dt.datetime, n: float) -> dt.datetime:
    return at + dt.timedelta(minutes=n)


def build_march_2018(app: App) -> dict[str, str]:
    """Six requests around March 2018 (Louisville time), each taken through the service.

    March: A dispatched with arrival, recording and a police arrest (decided after 10 min,
    commander on scene 22 min after the decision); B declined after 4 min (administrative
    warrant), recorded, closed; C withdrawn; D received 23:30 on 31 March (April in UTC),
    still under review; F dispatched on a crime, decided after 30 min, the commander never
    arrived (exception), no recording (exception), one agency arrest. April: E, declined.
    """
    refs: dict[str, str] = {}

    a_at = local(2018, 3, 6, 9, 41)
    refs["A"] = a = new_request(app, received_at=a_at).ref
    step(app, service.claim, "lt.okafor", minutes(a_at, 2), ref=a)
    step(app, service.decide, "lt.okafor", minutes(a_at, 10), ref=a, facts=WARRANT_FACTS,
         approve=["serve_criminal_warrant"], note="Warrant confirmed with the clerk.")  # fmt: skip
    step(app, service.record_dispatch, "cad", minutes(a_at, 12), ref=a, units=["4A21"])
    step(app, service.record_arrival, "cad", minutes(a_at, 32), ref=a)
    step(app, service.clear, "cad", minutes(a_at, 80), ref=a)
    step(app, service.attach_recording, "lt.okafor", minutes(a_at, 90), ref=a, sha256=SHA)
    step(app, service.close, "lt.okafor", minutes(a_at, 600), ref=a,
         outcome=outcome("theft", actions=("serve_criminal_warrant",)))  # fmt: skip

    b_at = local(2018, 3, 10, 14, 5)
    refs["B"] = b = new_request(
        app, received_at=b_at, agency="ice-ero", requested_actions=["traffic_stop"], district="6"
    ).ref
    step(app, service.claim, "lt.brandt", minutes(b_at, 1), ref=b)
    step(app, service.decide, "lt.brandt", minutes(b_at, 4), ref=b, approve=[],
         facts={"warrant": {"kind": "administrative_immigration", "verified": True}})  # fmt: skip
    step(app, service.attach_recording, "lt.brandt", minutes(b_at, 30), ref=b, sha256=SHA)
    step(app, service.close, "lt.brandt", minutes(b_at, 60), ref=b, outcome=outcome())

    c_at = local(2018, 3, 20, 8, 0)
    refs["C"] = c = new_request(
        app, received_at=c_at, agency="ice-hsi", requested_actions=["backup"]
    ).ref
    step(app, service.cancel, "cad", minutes(c_at, 5), ref=c, reason="Agency withdrew.")

    d_at = local(2018, 3, 31, 23, 30)
    refs["D"] = d = new_request(
        app, received_at=d_at, agency="cbp", requested_actions=["locate_person"]
    ).ref
    step(app, service.claim, "lt.okafor", minutes(d_at, 3), ref=d)

    f_at = local(2018, 3, 25, 16, 0)
    refs["F"] = f = new_request(
        app, received_at=f_at, agency="ice-hsi", requested_actions=["respond_to_crime", "backup"]
    ).ref
    step(app, service.claim, "maj.chen", minutes(f_at, 5), ref=f)
    step(app, service.decide, "maj.chen", minutes(f_at, 30), ref=f,
         facts={"crime": {"status": "occurring", "description": "assault on an agent"},
                "violence_risk": {"articulated": True, "description": "subject armed"}},
         approve=["respond_to_crime"])  # fmt: skip
    step(app, service.record_dispatch, "cad", minutes(f_at, 31), ref=f, units=["2B11"])
    step(app, service.record_exception, "maj.chen", minutes(f_at, 50), ref=f,
         kind="no_commander_arrival", reason="Commander at another scene.")  # fmt: skip
    step(app, service.clear, "cad", minutes(f_at, 90), ref=f)
    step(app, service.record_exception, "maj.chen", minutes(f_at, 95), ref=f,
         kind="no_recording", reason="Recorder outage.")  # fmt: skip
    step(app, service.close, "maj.chen", minutes(f_at, 200), ref=f,
         outcome=outcome(agency=1, actions=("respond_to_crime",)))  # fmt: skip

    e_at = local(2018, 4, 1, 0, 30)
    refs["E"] = e = new_request(app, received_at=e_at, requested_actions=["knock_and_talk"]).ref
    step(app, service.claim, "lt.okafor", minutes(e_at, 1), ref=e)
    step(app, service.decide, "lt.okafor", minutes(e_at, 6), ref=e, facts={}, approve=[])
    return refs


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(database_url, tmp_path)
    yield app
    app.close()


@pytest.fixture
def march(app: App) -> dict[str, str]:
    return build_march_2018(app)


@pytest.fixture
def demo(database_url: str, tmp_path: Path) -> Iterator[App]:
    """The demo's fictional register (about 18 months), built through the service."""
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    app = open_app(settings, keys=MemoryKeyStore())
    build_history(app, tmp_path / "recordings", end=DEMO_END)
    yield app
    app.close()
