"""`assistgate backup` refuses what it must, and `verify` names every file that changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.backup.test_drill import another_database
from tests.cli.conftest import Cli

PASSPHRASE = "correct horse battery staple 2026"


def passphrase(cli: Cli, text: str = PASSPHRASE) -> str:
    return cli.file("passphrase.txt", text + "\n")


def test_keys_are_sealed_or_left_out_on_purpose_never_by_accident(staffed: Cli) -> None:
    staffed.create()
    folder = str(staffed.work / "backup")
    out = staffed.refused(2, "backup", "create", folder)
    assert "give --passphrase-file FILE" in out
    assert "--without-private-keys" in out
    short = staffed.refused(2, "backup", "create", folder, "--passphrase-file",
                            passphrase(staffed, "too short"))  # fmt: skip
    assert "at least 12 characters" in short
    assert not Path(folder).exists(), "nothing written"

    made = staffed.ok("backup", "create", folder, "--without-private-keys")
    assert "private keys: not included" in made
    assert not (Path(folder) / "keys.sealed").exists()
    assert "backup OK" in staffed.ok("backup", "verify", folder)
    none = staffed.refused(1, "backup", "verify", folder, "--passphrase-file", passphrase(staffed))
    assert "holds no private keys" in none
    again = staffed.refused(1, "backup", "create", folder, "--without-private-keys")
    assert "already exists and is not empty" in again


def test_verify_names_every_changed_added_or_missing_file_and_a_wrong_passphrase(
    request: pytest.FixtureRequest, staffed: Cli, tmp_path: Path
) -> None:
    staffed.create()
    folder = staffed.work / "backup"
    made = staffed.ok("backup", "create", str(folder), "--passphrase-file", passphrase(staffed))
    manifest = json.loads((folder / "manifest.json").read_text())
    size = staffed.ledger_size()
    assert f"ledger checkpoint: {size} entries" in made
    assert manifest["ledger"]["size"] == size
    with another_database(request, staffed.database_url, tmp_path, "scratch") as scratch:
        key = passphrase(staffed)
        verified = staffed.ok("backup", "verify", str(folder), "--passphrase-file", key,
                              "--restore-check", "--scratch-url", scratch)  # fmt: skip
    assert "the passphrase opens the sealed keys (ledger-ed25519.pem)" in verified
    assert f"the ledger verifies ({size} entries)" in verified

    wrong = staffed.refused(2, "backup", "verify", str(folder), "--passphrase-file",
                            passphrase(staffed, "not the passphrase at all"))  # fmt: skip
    assert "the passphrase does not open the sealed keys" in wrong

    dump = folder / manifest["database"]["file"]
    original = dump.read_bytes()
    dump.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    (folder / "notes.txt").write_text("left here")
    (folder / "keys" / "ledger-ed25519.pub.pem").unlink()
    out = staffed.refused(1, "backup", "verify", str(folder))
    assert f"{dump.name}: changed" in out
    assert "notes.txt: added" in out
    assert "keys/ledger-ed25519.pub.pem: missing" in out


def test_a_restore_refuses_an_installation_that_is_not_empty(staffed: Cli) -> None:
    staffed.create()
    folder = str(staffed.work / "backup")
    staffed.ok("backup", "create", folder, "--passphrase-file", passphrase(staffed))
    before = staffed.ledger_size()
    out = staffed.refused(1, "backup", "restore", folder, "--passphrase-file", passphrase(staffed))
    assert "already holds files: a restore only fills an empty installation" in out
    assert staffed.ledger_size() == before
