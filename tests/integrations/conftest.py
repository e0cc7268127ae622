"""Fixtures for the integrations: an app on each database, and the CLI as an operator runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistgate.app import App
from tests.cli.conftest import cli, staffed
from tests.factories import make_app

__all__ = ["app", "cli", "staffed"]


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(database_url, tmp_path)
    yield app
    app.close()
