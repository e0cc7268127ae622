"""A full disk while a recording is stored: refused with a clear error, nothing corrupt, no
partial file, no ledger entry, and the store works again once there is room.

As root the recordings folder is a real 256 KiB tmpfs, so the kernel itself answers ENOSPC;
the service-level test fills a disk through a store double instead, and runs everywhere.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistgate.app import App
from assistgate.auth.sessions import create_token
from assistgate.demo.wav import tone_wav
from assistgate.ledger.models import LedgerEntryRow
from assistgate.recordings.crypto import FileRecordingKeyStore
from assistgate.recordings.enums import Source
from assistgate.recordings.models import Recording
from assistgate.recordings.service import ingest
from assistgate.recordings.store import FileBlobStore, Vault
from assistgate.recordings.wiring import archive_for
from tests.cli.conftest import Cli
from tests.factories import new_request
from tests.web.conftest import client, web_app
from tests.web.test_recordings import held

ROOM = 256 * 1024
TOO_BIG = tone_wav(20, 440)  # 8 kHz 16-bit mono: 320 000 bytes of audio
FITS = tone_wav(2, 440)

__all__ = ["client", "web_app"]  # the web tests' fixtures, for the upload test


def small_disk(folder: Path) -> Iterator[Path]:
    """Mount a 256 KiB tmpfs at `folder` for the test (root only), then unmount it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root; the store-double test covers it")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={ROOM},mode=0700", "tmpfs",
                           str(folder)], capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def ledger_size(app: App) -> int:
    with app.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(LedgerEntryRow)) or 0)


def recordings(app: App) -> int:
    with app.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(Recording)) or 0)


@pytest.fixture
def full_cli_disk(staffed: Cli) -> Iterator[Path]:
    yield from small_disk(staffed.data_dir / "recordings")


def test_a_recording_too_big_for_the_disk_is_refused_by_the_cli_and_leaves_nothing(
    staffed: Cli, full_cli_disk: Path
) -> None:
    ref = staffed.create()
    entries = staffed.ledger_size()
    big = staffed.work / "long-call.wav"
    big.write_bytes(TOO_BIG)
    out = staffed.refused(2, "recordings", "ingest", str(big), "--as", "lt.okafor", "--ref", ref)
    assert "the recordings store is full (No space left on device): nothing was stored" in out
    assert files_in(full_cli_disk) == [], "no partial or temporary file is left"
    assert staffed.ledger_size() == entries
    assert staffed.sql("SELECT count(*) FROM recordings") == [(0,)]
    assert "ledger OK" in staffed.ok("ledger", "verify")
    assert staffed.ok("recordings", "verify").startswith("0 recordings decrypt")

    small = staffed.work / "short-call.wav"
    small.write_bytes(FITS)
    staffed.ok("recordings", "ingest", str(small), "--as", "lt.okafor", "--ref", ref)
    assert staffed.ok("recordings", "verify").startswith("1 recordings decrypt")


@pytest.fixture
def full_web_disk(web_app: App) -> Iterator[Path]:
    yield from small_disk(web_app.settings.data_dir / "recordings")


def test_an_upload_to_a_full_disk_is_answered_507_and_leaves_nothing(
    web_app: App, client: TestClient, full_web_disk: Path
) -> None:
    ref = held(web_app)
    with web_app.transaction() as db:
        recorder = create_token(db, name="nexlog", scopes=["recordings:write"],
                                user=web_app.user(db, "cad"))  # fmt: skip
    entries = ledger_size(web_app)
    url = f"/api/v1/requests/{ref}/recordings"
    auth = {"Authorization": f"Bearer {recorder}"}
    full = client.post(url, files={"file": ("long.wav", TOO_BIG, "audio/wav")}, headers=auth)
    assert full.status_code == 507, full.text
    assert full.json()["detail"].startswith("the recordings store is full: nothing was stored")
    assert files_in(full_web_disk) == []
    assert (ledger_size(web_app), recordings(web_app)) == (entries, 0)
    fits = client.post(url, files={"file": ("short.wav", FITS, "audio/wav")}, headers=auth)
    assert fits.status_code == 201, fits.text


class FillingStore(FileBlobStore):
    """A folder on a disk with `room` bytes left: a write past it fails as the kernel's would."""

    def __init__(self, root: Path, room: int) -> None:
        super().__init__(root)
        self.room = room

    def put(self, name: str, chunks: Iterable[bytes]) -> None:
        def until_full() -> Iterator[bytes]:
            for chunk in chunks:
                if len(chunk) > self.room:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                self.room -= len(chunk)
                yield chunk

        super().put(name, until_full())


def test_the_vault_leaves_no_partial_file_and_the_register_no_trace_when_the_disk_fills(
    database_url: str, tmp_path: Path, app: App
) -> None:
    del database_url
    store = FillingStore(tmp_path / "data" / "recordings", room=100_000)
    vault = Vault(store, FileRecordingKeyStore(tmp_path / "data" / "keys"), chunk_size=65_536)
    archive = archive_for(app, vault)
    ref = new_request(app).ref
    entries = ledger_size(app)
    with pytest.raises(OSError, match="No space left") as raised, app.transaction() as db:
        ingest(db, archive, actor=app.user(db, "lt.okafor"), data=TOO_BIG, name="long.wav",
               source=Source.UPLOAD, ref=ref)  # fmt: skip
    assert raised.value.errno == errno.ENOSPC
    assert files_in(store.root) == [], "the temporary file was removed"
    assert (ledger_size(app), recordings(app)) == (entries, 0)
    store.room = 10_000_000  # room again: the same recording is stored whole
    with app.transaction() as db:
        done = ingest(db, archive, actor=app.user(db, "lt.okafor"), data=TOO_BIG,
                      name="long.wav", source=Source.UPLOAD, ref=ref)  # fmt: skip
    assert vault.check(done.recording.sha256) == len(TOO_BIG)
