"""The append-only ledger's pure core: hashing, Merkle proofs, entries, checkpoints, exports.

Every step of every request becomes an `Entry`; its canonical JSON is a leaf of an RFC 6962
Merkle tree; signed `Checkpoint`s commit to the tree's size and root; an export of all
entries and the last checkpoint can be verified offline with the published public key.
This package does no I/O except `FileKeyStore`, and imports no web framework and no ORM.
"""

from assistgate.ledger.canonical import canonical_json, check_canonical, parse_canonical
from assistgate.ledger.checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from assistgate.ledger.entry import Entry, parse_timestamp, utc_timestamp
from assistgate.ledger.errors import (
    BadProofLengthError,
    BadSignatureError,
    CanonicalError,
    CheckpointError,
    EntryError,
    ExportError,
    IndexOutOfRangeError,
    KeyExistsError,
    KeyFileInsecureError,
    KeyMismatchError,
    KeyNotFoundError,
    KeyStoreError,
    MalformedCheckpointError,
    MalformedHashError,
    MalformedJsonError,
    NotCanonicalError,
    ProofError,
    RootMismatchError,
    UnsupportedValueError,
)
from assistgate.ledger.export import (
    ExportReport,
    entry_leaves,
    export_lines,
    first_divergence,
    verify_export,
)
from assistgate.ledger.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from assistgate.ledger.keys import (
    FileKeyStore,
    KeyStore,
    MemoryKeyStore,
    key_id,
    load_private_key,
    load_public_key,
    public_key_pem,
)
from assistgate.ledger.merkle import (
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "BadProofLengthError",
    "BadSignatureError",
    "CanonicalError",
    "Checkpoint",
    "CheckpointError",
    "Entry",
    "EntryError",
    "ExportError",
    "ExportReport",
    "FileKeyStore",
    "IndexOutOfRangeError",
    "KeyExistsError",
    "KeyFileInsecureError",
    "KeyMismatchError",
    "KeyNotFoundError",
    "KeyStore",
    "KeyStoreError",
    "MalformedCheckpointError",
    "MalformedHashError",
    "MalformedJsonError",
    "MemoryKeyStore",
    "NotCanonicalError",
    "ProofError",
    "RootMismatchError",
    "SignedCheckpoint",
    "TreeBuilder",
    "UnsupportedValueError",
    "canonical_json",
    "check_canonical",
    "consistency_proof",
    "entry_leaves",
    "export_lines",
    "first_divergence",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "load_private_key",
    "load_public_key",
    "node_hash",
    "parse_canonical",
    "parse_timestamp",
    "public_key_pem",
    "root_hash",
    "sign_checkpoint",
    "utc_timestamp",
    "verify_checkpoint",
    "verify_consistency",
    "verify_export",
    "verify_inclusion",
]
