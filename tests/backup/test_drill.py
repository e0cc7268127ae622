"""The backup drill: back up a service taking intakes, check the backup, restore it into an
empty installation, and find there every request acknowledged before the backup began."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from assistgate.demo.wav import tone_wav
from tests.backup.serving import IntakeLoad, cli_env, run_cli, serving
from tests.conftest import _fresh_postgres_database
from tests.integrations.helpers import NEW_REQUEST

PASSPHRASE = "correct horse battery staple 2026"


@contextmanager
def another_database(request: pytest.FixtureRequest, database_url: str,
                     tmp_path: Path, name: str) -> Iterator[str]:  # fmt: skip
    """Yield an empty database of the same kind as `database_url`."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / name / 'assistgate.db'}"
        return
    yield from _fresh_postgres_database(request.getfixturevalue("postgres_url"))


def ok(env: dict[str, str], *args: str) -> str:
    done = run_cli(env, *args)
    assert done.returncode == 0, f"assistgate {' '.join(args)}: {done.returncode}\n{done.stderr}"
    return done.stdout


def incidents(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(sa.text("SELECT cad_incident_id FROM requests")))
    finally:
        engine.dispose()


def staff(env: dict[str, str]) -> str:
    """Create the key, a commander and the dispatch system's account; return its API token."""
    ok(env, "keys", "init")
    ok(env, "user", "add", "lt.okafor", "--role", "commander", "--name", "Lt. J. Okafor")
    ok(env, "user", "add", "cad", "--role", "dispatch_system", "--name", "CAD interface")
    return ok(env, "token", "create", "--name", "cad-main", "--scope", "requests:read",
              "--scope", "requests:write", "--as", "cad").strip()  # fmt: skip


def test_a_backup_made_under_load_restores_everything_acknowledged_before_it(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path / "live", database_url)
    token = staff(env)
    secret = tmp_path / "passphrase.txt"
    secret.write_text(PASSPHRASE + "\n")
    wav = tmp_path / "okafor-call.wav"
    wav.write_bytes(tone_wav(1.5, 440))
    folder = tmp_path / "backups" / "2026-03-06"

    with serving(env, tmp_path / "serve.log") as base:
        first = httpx.post(f"{base}/api/v1/requests", headers={"Authorization": f"Bearer {token}"},
                           json={**NEW_REQUEST, "cad_incident_id": "LMPD-FIRST"})  # fmt: skip
        assert first.status_code == 201, first.text
        ok(env, "recordings", "ingest", str(wav), "--as", "lt.okafor", "--ref", first.json()["ref"])
        load = IntakeLoad(base, token).start()
        time.sleep(1.5)
        backup_began = time.monotonic()
        made = run_cli(env, "backup", "create", str(folder), "--passphrase-file", str(secret))
        backup_ended = time.monotonic()
        time.sleep(1.0)  # intakes keep arriving after the backup too
        sent = load.finish()

    assert made.returncode == 0, made.stderr
    assert [i for i in sent if i.status != 201] == [], "the backup disturbed no intake"
    before = {i.incident for i in sent if i.answered < backup_began} | {"LMPD-FIRST"}
    after = {i.incident for i in sent if i.sent > backup_ended}
    assert len(before) >= 5, "the load was running when the backup began"
    assert after, "and still running after it ended"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["private_keys"] == "sealed"
    assert len(manifest["recordings"]) == 1

    with another_database(request, database_url, tmp_path, "scratch") as scratch:
        verified = ok(env, "backup", "verify", str(folder), "--passphrase-file", str(secret),
                      "--restore-check", "--scratch-url", scratch)  # fmt: skip
    assert "backup OK" in verified
    assert f"the ledger verifies ({manifest['ledger']['size']} entries)" in verified

    with another_database(request, database_url, tmp_path, "restored") as target:
        restored_env = cli_env(tmp_path / "restored", target)
        out = ok(restored_env, "backup", "restore", str(folder), "--passphrase-file", str(secret))
        assert "restored" in out
        ledger = ok(restored_env, "ledger", "verify")
        assert f"ledger OK: {manifest['ledger']['size']} entries, root " \
               f"{manifest['ledger']['root']}" in ledger  # fmt: skip
        recordings = ok(restored_env, "recordings", "verify")
        assert recordings.startswith("1 recordings decrypt and match their SHA-256")
        there = incidents(target)
        assert before <= there, f"acknowledged before the backup but lost: {before - there}"
        assert there <= {i.incident for i in sent} | {"LMPD-FIRST"}, "nothing invented"
        assert not there & after, "the copy is of one moment, not of later writes"
        assert len(there) == manifest["database"]["requests"]

        again = run_cli(restored_env, "backup", "restore", str(folder),
                        "--passphrase-file", str(secret))  # fmt: skip
        assert again.returncode == 1
        assert "a restore only fills an empty installation" in again.stderr
