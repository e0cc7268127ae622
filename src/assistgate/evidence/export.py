"""Write the evidence bundle of one request (see bundle.py for what it holds and why).

The bundle is proved against the ledger's latest signed checkpoint; the export itself is then
recorded in the ledger (who, when, the bundle's manifest hash), so the request's timeline
shows every copy of its evidence that left the system.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.db.base import utcnow
from assistgate.evidence.bundle import (
    CHECKPOINT,
    FORMAT,
    MANIFEST,
    README,
    entry_path,
    readme,
    recording_path,
    sha256_hex,
)
from assistgate.ledger.checkpoint import SignedCheckpoint
from assistgate.ledger.entry import Entry, utc_timestamp
from assistgate.ledger.errors import EntryError, ProofError
from assistgate.ledger.hashing import leaf_hash
from assistgate.ledger.merkle import inclusion_proof, verify_inclusion
from assistgate.ledger.models import LedgerEntryRow
from assistgate.ledger.reading import EntryMissing, head_checkpoint, stored_leaves
from assistgate.recordings.service import Archive, evidence_recordings, subject_of
from assistgate.requests.errors import NotPermitted, RuleNotMet
from assistgate.requests.service import get_request

EXPORTED = "request:evidence_exported"
# Who may take evidence out of the system: the commanders who handle requests and the
# auditors who oversee them (a court's subpoena goes through one of them).
MAY_EXPORT = frozenset({Role.COMMANDER, Role.AUDITOR})


class EvidenceError(RuntimeError):
    """The evidence cannot be exported as it stands; the message says why."""


@dataclass(frozen=True)
class Exported:
    ref: str
    path: Path
    entries: int
    recordings: int
    tree_size: int
    manifest_sha256: str


def _head(session: Session) -> SignedCheckpoint:
    signed = head_checkpoint(session)
    if signed is None:
        raise EvidenceError("the ledger has no signed checkpoint yet")
    return signed


def _leaves(session: Session, size: int) -> list[bytes]:
    try:
        return stored_leaves(session, size)
    except EntryMissing as exc:
        raise EvidenceError(f"{exc}; run 'assistgate ledger verify'") from None


def _proof_documents(
    session: Session, subjects: list[str], signed: SignedCheckpoint
) -> dict[str, bytes]:
    """Return {bundle path: inclusion proof document} for every entry about `subjects`."""
    size, root = signed.checkpoint.size, signed.checkpoint.root
    rows = session.execute(select(LedgerEntryRow.seq, LedgerEntryRow.body)
                           .where(LedgerEntryRow.subject.in_(subjects), LedgerEntryRow.seq < size)
                           .order_by(LedgerEntryRow.seq)).all()  # fmt: skip
    leaves = _leaves(session, size) if rows else []
    documents = {}
    for seq, body in rows:
        try:
            entry = Entry.from_bytes(bytes(body))
            proof = inclusion_proof(seq, leaves)
            verify_inclusion(seq, size, leaf_hash(bytes(body)), proof, root)
        except (EntryError, ProofError) as exc:
            raise EvidenceError(f"ledger entry {seq} does not match the signed checkpoint "
                                f"({exc}); run 'assistgate ledger verify'") from None  # fmt: skip
        document = {"entry": entry.to_json(), "leaf_index": seq, "tree_size": size,
                    "proof": [h.hex() for h in proof], "checkpoint": signed.to_json()}  # fmt: skip
        documents[entry_path(seq)] = _json(document)
    return documents


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _write_zip(path: Path, files: dict[str, bytes]) -> None:
    """Write the ZIP to a temporary file beside `path`, sync it, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_STORED) as archive:
                for name, data in files.items():
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    # Audio is already compressed; JSON is small: store everything as it is.
                    archive.writestr(info, data)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_evidence(
    session: Session,
    archive: Archive,
    *,
    actor: User,
    ref: str,
    out: Path,
    now: dt.datetime | None = None,
) -> Exported:
    """Write the evidence bundle of request `ref` to `out` and record the export."""
    if not actor.has_any(MAY_EXPORT):
        raise NotPermitted(f"{actor.username} may not export evidence: only commanding "
                           "officers and auditors may")  # fmt: skip
    now = now or utcnow()
    get_request(session, ref)
    recordings = evidence_recordings(session, archive, ref)
    signed = _head(session)
    subjects = [ref, *(subject_of(r) for r in recordings)]
    files: dict[str, bytes] = {CHECKPOINT: _json(signed.to_json()), README: readme(ref).encode()}
    files.update(_proof_documents(session, subjects, signed))
    listed: list[dict[str, Any]] = []
    for recording in recordings:
        if recording.purged_at is not None:
            continue  # its hash and metadata stay in the ledger entries above
        try:
            data = b"".join(recording.chunks())
        except Exception as exc:  # missing, altered or unreadable: never export a bad copy
            raise RuleNotMet(f"recording {recording.sha256[:16]}… cannot be read whole "
                             f"({exc}); run 'assistgate recordings verify'") from exc  # fmt: skip
        path = recording_path(recording.sha256, recording.format)
        files[path] = data
        # `chunks()` checked these bytes against the recording's SHA-256 as it read them.
        listed.append({"path": path, "sha256": recording.sha256,
                       "duration_seconds": recording.duration_seconds, "format": recording.format,
                       "codec": recording.codec,
                       "original_name": recording.original_name})  # fmt: skip
    extra = {item["path"]: item for item in listed}
    manifest = {
        "format": FORMAT, "request": ref, "exported_at": utc_timestamp(now),
        "exported_by": actor.username, "tree_size": signed.checkpoint.size,
        "root": signed.checkpoint.root.hex(),
        "files": [(extra.get(name) or {"path": name, "sha256": sha256_hex(data)})
                  | {"size": len(data)} for name, data in files.items()],
    }  # fmt: skip
    manifest_bytes = _json(manifest)
    _write_zip(out, {MANIFEST: manifest_bytes, **files})
    entries = sum(1 for name in files if name.startswith("ledger/"))
    exported = Exported(ref, out, entries, len(listed), signed.checkpoint.size,
                        sha256_hex(manifest_bytes))  # fmt: skip
    archive.deployment.ledger.append(
        session, actor=actor.username, event=EXPORTED, subject=ref, now=now,
        data={"manifest_sha256": exported.manifest_sha256, "tree_size": exported.tree_size,
              "entries": entries, "recordings": len(listed)},
    )  # fmt: skip
    return exported
