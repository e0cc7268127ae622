"""The evidence bundle of one request, and its offline check.

A bundle is a ZIP file anyone can check with nothing but it and the ledger's public key:

    manifest.json               what is inside: every other file with its SHA-256 and size,
                                the request, the checkpoint, who exported it and when
    checkpoint.json             the ledger's signed checkpoint the proofs lead to
    ledger/entry-<seq>.json     each ledger entry about the request and its recordings, with
                                its inclusion proof (the `assistgate ledger prove` format, so
                                `assistgate ledger check-proof` reads each one alone)
    recordings/<sha256>.<ext>   the original recordings, byte for byte as they were received
    README.txt                  how to check the bundle by hand

What binds a recording to the record is not the manifest (whoever alters a file can alter the
manifest too) but the ledger: its attachment entry, proved against the signed checkpoint,
carries the recording's SHA-256 and size. So a check passes only if every file matches the
manifest, the checkpoint is signed by the key, every entry is proved in the signed tree, and
every recording is the one an attachment entry names.

`check_bundle` reports every problem it finds, each naming the file, rather than stopping at
the first; a bundle is sound only when the list is empty. What no offline check can show is
that the bundle holds *every* entry about the request: compare `tree_size` with a later
checkpoint and the ledger export for that.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from assistgate.ledger.checkpoint import Checkpoint, SignedCheckpoint, verify_checkpoint
from assistgate.ledger.entry import Entry
from assistgate.ledger.errors import CheckpointError
from assistgate.ledger.proofs import ProofFileError, check_inclusion_document

FORMAT = "assistgate-evidence/1"
MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint.json"
README = "README.txt"
ATTACHED = "request:recording_attached"
PURGED = "recording:audio_purged"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle: the file (or part) and what is wrong with it."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class BundleCheck:
    """The outcome of checking a bundle: what it holds and every problem found."""

    ref: str = ""
    tree_size: int = 0
    root: str = ""
    entries: int = 0
    recordings: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems

    def problem(self, where: str, what: str) -> None:
        self.problems.append(Problem(where, what))


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of `data` in lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def entry_path(seq: int) -> str:
    """Return the bundle path of the proof of ledger entry `seq`."""
    return f"ledger/entry-{seq:09d}.json"


def recording_path(sha256: str, fmt: str) -> str:
    """Return the bundle path of a recording (named by its hash, with its format's suffix)."""
    return f"recordings/{sha256}.{fmt}"


def readme(ref: str) -> str:
    """Return the bundle's README: what it is and how to check it."""
    return (
        f"Evidence bundle for request {ref}, exported by assistgate ({FORMAT}).\n\n"
        "Check it with the ledger's public key (published by the police department):\n\n"
        "    assistgate evidence verify THIS.zip --public-key ledger-ed25519.pub.pem\n\n"
        "By hand: the SHA-256 of each file must equal the one listed in manifest.json; each\n"
        "ledger/entry-*.json is an inclusion proof that `assistgate ledger check-proof FILE\n"
        "--key KEY` checks on its own; the recording_attached entries name the SHA-256 and\n"
        "size of each file under recordings/.\n"
    )


def _load_json(data: bytes, where: str, check: BundleCheck) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        check.problem(where, f"not readable JSON ({exc})")
        return None


def _manifest(archive: zipfile.ZipFile, check: BundleCheck) -> dict[str, Any] | None:
    try:
        raw = archive.read(MANIFEST)
    except KeyError:
        check.problem(MANIFEST, "missing: this is not an assistgate evidence bundle")
        return None
    manifest = _load_json(raw, MANIFEST, check)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        check.problem(MANIFEST, f"expected an object with format {FORMAT!r}")
        return None
    files = manifest.get("files")
    good = isinstance(files, list) and all(
        isinstance(f, dict) and isinstance(f.get("path"), str)
        and isinstance(f.get("sha256"), str) and isinstance(f.get("size"), int)
        for f in files
    )  # fmt: skip
    if not good:
        check.problem(MANIFEST, "files: expected a list of {path, sha256, size}")
        return None
    check.ref = str(manifest.get("request", ""))
    return manifest


def _files(
    archive: zipfile.ZipFile, manifest: dict[str, Any], check: BundleCheck
) -> dict[str, bytes]:
    """Return the files that match the manifest; note every added, missing or changed one."""
    listed = {f["path"]: f for f in manifest["files"]}
    present = [n for n in archive.namelist() if not n.endswith("/")]
    if len(present) != len(set(present)):
        check.problem("(bundle)", "a file name appears twice in the ZIP")
    for name in sorted(set(present) - set(listed) - {MANIFEST}):
        check.problem(name, "added: the manifest does not list this file")
    good: dict[str, bytes] = {}
    for path, meta in sorted(listed.items()):
        try:
            data = archive.read(path)
        except KeyError:
            check.problem(path, "missing: listed in the manifest but not in the bundle")
            continue
        except (zipfile.BadZipFile, OSError) as exc:
            check.problem(path, f"unreadable ({exc})")
            continue
        digest = sha256_hex(data)
        if digest != meta["sha256"] or len(data) != meta["size"]:
            check.problem(path, f"changed: its SHA-256 is {digest} ({len(data)} bytes), the "
                          f"manifest lists {meta['sha256']} ({meta['size']} bytes)")  # fmt: skip
            continue
        good[path] = data
    return good


def _checkpoint(
    files: dict[str, bytes], key: Ed25519PublicKey, check: BundleCheck
) -> Checkpoint | None:
    if CHECKPOINT not in files:
        return None  # already reported as missing or changed
    document = _load_json(files[CHECKPOINT], CHECKPOINT, check)
    try:
        if not isinstance(document, dict):
            raise CheckpointError("expected a signed checkpoint object")
        checkpoint = verify_checkpoint(SignedCheckpoint.from_json(document), key)
    except CheckpointError as exc:
        check.problem(CHECKPOINT, f"not signed by this key: {exc}")
        return None
    check.tree_size, check.root = checkpoint.size, checkpoint.root.hex()
    return checkpoint


def _entries(
    files: dict[str, bytes], checkpoint: Checkpoint, key: Ed25519PublicKey, check: BundleCheck
) -> list[Entry]:
    """Return the entries whose proofs lead to the bundle's checkpoint; note the others."""
    entries = []
    for path in sorted(p for p in files if p.startswith("ledger/")):
        document = _load_json(files[path], path, check)
        if document is None:
            continue
        try:
            entry, proved_against = check_inclusion_document(document, key)
        except ProofFileError as exc:
            check.problem(path, f"the proof does not hold: {exc}")
            continue
        if proved_against != checkpoint:
            check.problem(path, "proved against another checkpoint than checkpoint.json")
            continue
        if path != entry_path(entry.seq):
            check.problem(path, f"holds entry {entry.seq}, not the one its name says")
            continue
        entries.append(entry)
    check.entries = len(entries)
    return entries


def _recorded(entries: Iterable[Entry], ref: str) -> tuple[dict[str, int], set[str]]:
    """Return {sha256: size} of the recordings attached to `ref`, and the purged hashes."""
    attached: dict[str, int] = {}
    purged: set[str] = set()
    for entry in entries:
        about = entry.data.get("recording") if isinstance(entry.data, dict) else None
        if entry.event == ATTACHED and entry.subject == ref and isinstance(about, dict):
            attached[str(about.get("sha256"))] = int(about.get("size", -1))
        elif entry.event == PURGED and isinstance(entry.data, dict):
            purged.add(str(entry.data.get("sha256", "")))
    return attached, purged


def _recordings(
    files: dict[str, bytes], manifest: dict[str, Any], entries: list[Entry], check: BundleCheck
) -> None:
    attached, purged = _recorded(entries, check.ref)
    found = set()
    for meta in manifest["files"]:
        path = meta["path"]
        if not path.startswith("recordings/") or path not in files:
            continue
        digest, size = sha256_hex(files[path]), len(files[path])
        if attached.get(digest) != size:
            check.problem(path, "not a recording the ledger attaches to this request "
                          f"(SHA-256 {digest}, {size} bytes)")  # fmt: skip
            continue
        found.add(digest)
    check.recordings = len(found)
    for digest in sorted(set(attached) - found - purged):
        if not any(m["path"].startswith(f"recordings/{digest}.") for m in manifest["files"]):
            check.problem(f"recordings/{digest}", "attached in the ledger but not in the bundle")


def check_bundle(bundle: Path | IO[bytes], key: Ed25519PublicKey) -> BundleCheck:
    """Check an evidence bundle against the ledger's public key; report every problem."""
    check = BundleCheck()
    try:
        with zipfile.ZipFile(bundle) as archive:
            manifest = _manifest(archive, check)
            if manifest is None:
                return check
            files = _files(archive, manifest, check)
    except (zipfile.BadZipFile, OSError) as exc:
        check.problem("(bundle)", f"not a readable ZIP file ({exc})")
        return check
    checkpoint = _checkpoint(files, key, check)
    if checkpoint is None:
        if not check.problems:
            check.problem(CHECKPOINT, "missing")
        return check
    entries = _entries(files, checkpoint, key, check)
    if manifest.get("tree_size") != checkpoint.size or manifest.get("root") != check.root:
        check.problem(MANIFEST, "names another checkpoint than checkpoint.json")
    _recordings(files, manifest, entries, check)
    return check
