"""The proof files of `ledger prove` and `ledger consistency`, and their offline checks.

    inclusion:   {"entry": {...}, "leaf_index": N, "tree_size": M, "proof": ["<hex>", ...],
                  "checkpoint": {<signed checkpoint>}}
    consistency: {"old_size": M, "new_size": N, "proof": ["<hex>", ...],
                  "old_checkpoint": {...}, "new_checkpoint": {...}}

The checks are pure: a decoded document and a public key in, the verified checkpoint(s) out,
or a `ProofFileError` saying which part failed (the checkpoint, the entry, the proof).
"""

from __future__ import annotations

import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from assistgate.ledger.checkpoint import Checkpoint, SignedCheckpoint, verify_checkpoint
from assistgate.ledger.entry import Entry
from assistgate.ledger.errors import CheckpointError, EntryError, ProofError
from assistgate.ledger.merkle import verify_consistency, verify_inclusion

INCLUSION_FIELDS = frozenset({"entry", "leaf_index", "tree_size", "proof", "checkpoint"})
CONSISTENCY_FIELDS = frozenset(
    {"old_size", "new_size", "proof", "old_checkpoint", "new_checkpoint"}
)
_HEX_HASH = re.compile(r"[0-9a-f]{64}")


class ProofFileError(ValueError):
    """A proof file is malformed or does not verify; the message says which part failed."""


def _fields(document: Any, expected: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ProofFileError(f"expected a JSON object holding {what}")
    if document.keys() != expected:
        missing = sorted(expected - document.keys())
        extra = sorted(document.keys() - expected)
        raise ProofFileError(f"{what} fields wrong: missing {missing}, unexpected {extra}")
    return document


def _size(document: dict[str, Any], name: str) -> int:
    value = document[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofFileError(f"{name} must be a whole number, 0 or more; got {value!r}")
    return value


def _hashes(value: Any) -> list[bytes]:
    if not isinstance(value, list):
        raise ProofFileError("proof must be a list of hex hashes")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not _HEX_HASH.fullmatch(item):
            raise ProofFileError(f"proof[{i}] is not 64 lowercase hex digits: {item!r}")
    return [bytes.fromhex(item) for item in value]


def _checkpoint(value: Any, name: str, key: Ed25519PublicKey) -> Checkpoint:
    try:
        if not isinstance(value, dict):
            raise CheckpointError("expected a signed checkpoint object")
        return verify_checkpoint(SignedCheckpoint.from_json(value), key)
    except CheckpointError as exc:
        raise ProofFileError(f"{name}: {exc}") from None


def check_inclusion_document(document: Any, key: Ed25519PublicKey) -> tuple[Entry, Checkpoint]:
    """Check an inclusion proof file: the signature, the entry's leaf hash, the Merkle path."""
    doc = _fields(document, INCLUSION_FIELDS, "an inclusion proof")
    checkpoint = _checkpoint(doc["checkpoint"], "checkpoint", key)
    if not isinstance(doc["entry"], dict):
        raise ProofFileError("entry: expected a ledger entry object")
    try:
        entry = Entry.from_json(doc["entry"])
        leaf = entry.leaf()
    except EntryError as exc:
        raise ProofFileError(f"entry: {exc}") from None
    index, size = _size(doc, "leaf_index"), _size(doc, "tree_size")
    if size != checkpoint.size:
        raise ProofFileError(f"tree_size {size} is not the signed checkpoint's {checkpoint.size}")
    if entry.seq != index:
        raise ProofFileError(f"the entry is seq {entry.seq} but leaf_index is {index}")
    try:
        verify_inclusion(index, size, leaf, _hashes(doc["proof"]), checkpoint.root)
    except ProofError as exc:
        raise ProofFileError(f"entry {index} is not proved in the signed tree: {exc}") from None
    return entry, checkpoint


def check_consistency_document(
    document: Any, key: Ed25519PublicKey
) -> tuple[Checkpoint, Checkpoint]:
    """Check a consistency proof file: both signatures, one ledger, and the proof."""
    doc = _fields(document, CONSISTENCY_FIELDS, "a consistency proof")
    old = _checkpoint(doc["old_checkpoint"], "old_checkpoint", key)
    new = _checkpoint(doc["new_checkpoint"], "new_checkpoint", key)
    if old.origin != new.origin:
        raise ProofFileError(f"the checkpoints are of two ledgers: {old.origin!r}, {new.origin!r}")
    for name, checkpoint in (("old_size", old), ("new_size", new)):
        if _size(doc, name) != checkpoint.size:
            raise ProofFileError(f"{name} {doc[name]} is not its checkpoint's {checkpoint.size}")
    if new.at < old.at:
        raise ProofFileError(f"the new checkpoint ({new.at}) is dated before the old ({old.at})")
    try:
        verify_consistency(old.size, new.size, old.root, new.root, _hashes(doc["proof"]))
    except ProofError as exc:
        raise ProofFileError(
            f"the ledger of {new.size} entries does not extend the one of {old.size}: {exc}"
        ) from None
    return old, new
