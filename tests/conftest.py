"""Fixtures shared by all tests: database URLs for SQLite and for a real PostgreSQL server.

`bash scripts/test.sh` starts a throwaway PostgreSQL server (`scripts/postgres.sh`) and exports
its URL as ``ASSISTGATE_TEST_POSTGRES_URL``. To run pytest by hand against one::

    bash scripts/postgres.sh start
    ASSISTGATE_TEST_POSTGRES_URL=$(bash scripts/postgres.sh url) .venv/bin/pytest
    bash scripts/postgres.sh stop
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

POSTGRES_URL_ENV = "ASSISTGATE_TEST_POSTGRES_URL"

DATABASE_BACKENDS = ["sqlite", "postgresql"]


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the test PostgreSQL server (its `assistgate_test` database).

    Fails under CI (``CI=true``) when the server is missing, so that CI can never pass without
    having tested PostgreSQL; elsewhere the test is skipped with how to start the server.
    """
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if url:
        return url
    message = (
        f"{POSTGRES_URL_ENV} is not set, so there is no PostgreSQL server to test against. "
        "`bash scripts/test.sh` starts one itself; to run pytest by hand, start one with "
        "`bash scripts/postgres.sh start` and run with "
        f"{POSTGRES_URL_ENV}=$(bash scripts/postgres.sh url)"
    )
    if _running_in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Create an empty database on the server, yield its URL, then drop it."""
    name = f"assistgate_t_{uuid.uuid4().hex[:20]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                # FORCE ends connections a test left open (an engine not disposed of).
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=DATABASE_BACKENDS, ids=DATABASE_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for each test, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'assistgate.sqlite3'}"
        return
    # Asked for only here, so that the SQLite half runs even where PostgreSQL is missing.
    server_url: str = request.getfixturevalue("postgres_url")
    yield from _fresh_postgres_database(server_url)


CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic",
                  "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched by Playwright (never its own download).

    Per module, and defined once, here: a running sync Playwright keeps its event loop in the
    main thread, so while one is alive every `asyncio.run` (and a second Playwright) fails;
    a session-wide one broke every later test module that runs asyncio.
    """
    executable = os.environ.get("ASSISTGATE_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()
