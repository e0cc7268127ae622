"""Fixtures of the recordings tests: spoken audio in every format, made once per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistgate.app import App
from assistgate.recordings.service import Archive
from assistgate.recordings.wiring import archive_for
from tests.cli.conftest import PEOPLE, Cli
from tests.factories import make_app
from tests.recordings.audio import every_format


@pytest.fixture(scope="session")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same spoken call in WAV, MP3, FLAC, Ogg Vorbis, Ogg Opus and M4A (AAC)."""
    return every_format(tmp_path_factory.mktemp("audio"))


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    """An app with the test people, its data folder in `tmp_path / "data"`."""
    application = make_app(database_url, tmp_path / "data")
    yield application
    application.close()


@pytest.fixture
def archive(app: App) -> Archive:
    return archive_for(app)


@pytest.fixture
def staffed(database_url: str, tmp_path: Path) -> Cli:
    """A deployment run through the CLI: its key, a shift of people, an administrator."""
    work = tmp_path / "work"
    work.mkdir()
    cli = Cli(data_dir=tmp_path / "data", database_url=database_url, work=work)
    cli.ok("keys", "init")
    for username, role, name in PEOPLE:
        extra = ["--extension", "4101"] if username == "lt.okafor" else []
        cli.ok("user", "add", username, "--role", role, "--name", name, *extra)
    cli.ok("user", "add", "admin.kim", "--role", "admin", "--name", "D. Kim (fictional)")
    return cli
