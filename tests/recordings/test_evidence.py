"""The evidence bundle: exported for one request, checked offline, and failing on any change.

A court, a defence lawyer or a reporter receives the ZIP and the department's public key; the
checks below are what they would try: a changed byte in a recording, a recording swapped with
its manifest line rewritten to match, a file taken out or slipped in, a ledger entry edited, a
checkpoint signed by some other key.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assistgate.evidence.bundle import sha256_hex
from assistgate.ledger.keys import public_key_pem
from tests.cli.conftest import Cli
from tests.recordings.test_cli import sha_of


@pytest.fixture
def exported(staffed: Cli, audio: dict[str, Path]) -> tuple[Cli, str, Path]:
    """A dispatched request with two recordings (WAV and MP3), exported by its commander."""
    ref = staffed.dispatched()
    for kind in ("wav", "mp3"):
        staffed.ok("recordings", "ingest", str(audio[kind]), "--as", "lt.okafor", "--ref", ref)
    bundle = staffed.work / f"{ref}.zip"
    out = staffed.ok("evidence", "export", ref, str(bundle), "--as", "lt.okafor")
    assert f"request {ref}, 2 recording(s)" in out
    return staffed, ref, bundle


def verify(cli: Cli, bundle: Path, key: str | None = None) -> tuple[int, str]:
    result = cli.run("evidence", "verify", str(bundle), "--public-key", key or cli.public_key)
    return result.exit_code, result.stdout + result.stderr


def rewritten(bundle: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """Copy the bundle with `change` applied to its files (name -> bytes)."""
    with zipfile.ZipFile(bundle) as z:
        files = {name: z.read(name) for name in z.namelist()}
    change(files)
    out = bundle.with_name(f"altered-{bundle.name}")
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out


def manifest_follows(files: dict[str, bytes], path: str) -> None:
    """Rewrite the manifest's line for `path` to match its (altered) bytes, as a forger would."""
    manifest = json.loads(files["manifest.json"])
    for item in manifest["files"]:
        if item["path"] == path:
            item["sha256"], item["size"] = sha256_hex(files[path]), len(files[path])
    files["manifest.json"] = json.dumps(manifest).encode()


def recording_in(files: dict[str, bytes], suffix: str) -> str:
    return next(n for n in files if n.startswith("recordings/") and n.endswith(suffix))


def test_a_bundle_holds_the_originals_and_every_entry_and_verifies_offline(
    exported: tuple[Cli, str, Path], audio: dict[str, Path]
) -> None:
    cli, ref, bundle = exported
    code, said = verify(cli, bundle)
    assert code == 0, said
    assert f"verified: request {ref}, 2 recording(s)" in said
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        wav = z.read(recording_in(dict.fromkeys(names, b""), ".wav"))
        manifest = json.loads(z.read("manifest.json"))
    assert wav == audio["wav"].read_bytes()  # the original, byte for byte
    entries = [n for n in names if n.startswith("ledger/entry-")]
    # created, alerted, claimed, decided, dispatched, two recordings attached
    assert len(entries) >= 7
    assert {f["path"] for f in manifest["files"]} == set(names) - {"manifest.json"}
    assert (manifest["request"], manifest["exported_by"]) == (ref, "lt.okafor")
    # Each proof file stands alone for `ledger check-proof`.
    with zipfile.ZipFile(bundle) as z:
        (cli.work / "one.json").write_bytes(z.read(entries[0]))
    checked = cli.ok("ledger", "check-proof", str(cli.work / "one.json"), "--key", cli.public_key)
    assert checked.startswith("proof OK: entry ")


def test_the_export_is_on_the_request_timeline(exported: tuple[Cli, str, Path]) -> None:
    cli, ref, _ = exported
    rows = cli.sql("SELECT actor, event FROM ledger_entries WHERE subject = :ref "
                   "ORDER BY seq DESC LIMIT 1", ref=ref)  # fmt: skip
    assert [tuple(r) for r in rows] == [("lt.okafor", "request:evidence_exported")]


def flip_recording(files: dict[str, bytes]) -> None:
    path = recording_in(files, ".wav")
    data = bytearray(files[path])
    data[len(data) // 2] ^= 0x01
    files[path] = bytes(data)


def swap_recording_and_manifest(files: dict[str, bytes]) -> None:
    flip_recording(files)
    manifest_follows(files, recording_in(files, ".wav"))


def drop_an_entry(files: dict[str, bytes]) -> None:
    del files[sorted(n for n in files if n.startswith("ledger/"))[2]]


def add_a_file(files: dict[str, bytes]) -> None:
    files["recordings/extra.wav"] = b"RIFF" + bytes(100)


def edit_an_entry(files: dict[str, bytes]) -> None:
    path = sorted(n for n in files if n.startswith("ledger/"))[0]
    document = json.loads(files[path])
    document["entry"]["actor"] = "someone.else"
    files[path] = json.dumps(document).encode()
    manifest_follows(files, path)


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (flip_recording, "recordings/", "changed"),
        (swap_recording_and_manifest, "recordings/", "not a recording the ledger attaches"),
        (drop_an_entry, "ledger/entry-", "missing"),
        (add_a_file, "recordings/extra.wav", "added"),
        (edit_an_entry, "ledger/entry-", "the proof does not hold"),
    ],
    ids=[
        "a changed byte",
        "a swapped recording with a matching manifest",
        "a removed entry",
        "an added file",
        "an edited entry with a matching manifest",
    ],
)
def test_any_change_to_a_bundle_is_named(
    exported: tuple[Cli, str, Path],
    change: Callable[[dict[str, bytes]], None],
    where: str,
    words: str,
) -> None:
    cli, _, bundle = exported
    code, said = verify(cli, rewritten(bundle, change))
    assert code == 1
    failures = [line for line in said.splitlines() if line.startswith("FAIL ")]
    assert failures, said
    assert any(where in line and words in line for line in failures), failures
    assert "does NOT verify" in said


def test_a_bundle_checked_with_another_key_fails_at_the_checkpoint(
    exported: tuple[Cli, str, Path],
) -> None:
    cli, _, bundle = exported
    other = cli.work / "other.pub.pem"
    other.write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    code, said = verify(cli, bundle, str(other))
    assert code == 1
    assert "FAIL checkpoint.json: not signed by this key" in said


def test_a_recording_altered_in_storage_is_never_exported(
    staffed: Cli, audio: dict[str, Path]
) -> None:
    ref = staffed.dispatched()
    staffed.ok("recordings", "ingest", str(audio["flac"]), "--as", "lt.okafor", "--ref", ref)
    sealed = staffed.data_dir / "recordings" / sha_of(staffed, ref)[:2]
    stored = next(sealed.iterdir())
    data = bytearray(stored.read_bytes())
    data[-40] ^= 0x01
    stored.write_bytes(bytes(data))
    bundle = staffed.work / "bad.zip"
    error = staffed.refused(1, "evidence", "export", ref, str(bundle), "--as", "lt.okafor")
    assert "cannot be read whole" in error
    assert not bundle.exists()
    assert not list(staffed.work.glob(".bad.zip*"))  # no temporary file left behind


def test_only_commanders_and_auditors_export_and_nothing_is_overwritten(
    exported: tuple[Cli, str, Path],
) -> None:
    cli, ref, bundle = exported
    error = cli.refused(1, "evidence", "export", ref, str(cli.work / "x.zip"), "--as",
                        "ct.alvarez")  # fmt: skip
    assert "only commanding officers and auditors" in error
    before = bundle.read_bytes()
    assert "already exists" in cli.refused(2, "evidence", "export", ref, str(bundle), "--as",
                                           "lt.okafor")  # fmt: skip
    assert bundle.read_bytes() == before
    copy = cli.work / "copy.zip"
    shutil.copyfile(bundle, copy)
    assert verify(cli, copy)[0] == 0
