"""The public section over the demo's fictional register, served on loopback."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistgate.app import App, open_app
from assistgate.demo.history import build_history
from assistgate.ledger.keys import MemoryKeyStore
from assistgate.requests.models import Decision, Request
from assistgate.settings import Settings
from assistgate.web.app import create_web_app
from tests.conftest import DATABASE_BACKENDS, _fresh_postgres_database
from tests.web.conftest import free_port

# The demo's 18 months end here; the pages are asked for periods inside them.
DEMO_END = dt.datetime(2019, 6, 1, tzinfo=dt.UTC)
YEAR = "2018"


@pytest.fixture(scope="module", params=DATABASE_BACKENDS, ids=DATABASE_BACKENDS)
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[str]:  # fmt: skip
    """One database per module and backend: the public pages only read, so tests share it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('public') / 'assistgate.sqlite3'}"
        return
    yield from _fresh_postgres_database(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="module")
def web_app(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The demo register (about 18 months to June 2019), built through the service."""
    folder = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=folder, database_url=demo_url, environment="demo")
    app = open_app(settings, keys=MemoryKeyStore())
    build_history(app, folder / "recordings", end=DEMO_END)
    yield app
    app.close()


@pytest.fixture
def client(web_app: App) -> Iterator[TestClient]:
    """A fresh client (no cookie) for each test."""
    with TestClient(create_web_app(web_app), base_url="http://127.0.0.1") as c:
        yield c


def personal_strings(app: App) -> set[str]:
    """Every name, badge, phone number, address and free text the register holds."""
    found: set[str] = set()
    with app.sessions() as db:
        for r in db.scalars(select(Request)):
            found.update([r.official_name, r.official_badge, r.callback_number, r.location,
                          r.caller_words, r.identity_note, r.cancel_reason])  # fmt: skip
            if r.outcome:
                found.add(str(r.outcome.get("summary", "")))
        found.update(n for n in db.scalars(select(Decision.note)))
    # Short values ("", "n/a") would match anywhere and prove nothing.
    return {s.strip() for s in found if s and len(s.strip()) >= 6}


@pytest.fixture(scope="module")
def public_server(web_app: App) -> Iterator[str]:
    """Serve the app on a free loopback port for the module; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_web_app(web_app), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
