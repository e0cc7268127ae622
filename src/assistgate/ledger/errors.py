"""Typed errors of the ledger's pure core: each says what failed and where."""

from __future__ import annotations


class ProofError(ValueError):
    """A Merkle inclusion or consistency proof does not verify, or cannot be built."""


class MalformedHashError(ProofError):
    """A hash (leaf, root or proof element) is not a 32-byte SHA-256 digest."""


class IndexOutOfRangeError(ProofError):
    """A leaf index or tree size lies outside the tree it is said to belong to."""


class BadProofLengthError(ProofError):
    """A proof has more or fewer hashes than the tree sizes call for."""


class RootMismatchError(ProofError):
    """A proof recomputes a root other than the one given."""


class CanonicalError(ValueError):
    """A value or a byte string is not canonical JSON as the ledger writes it."""


class UnsupportedValueError(CanonicalError):
    """A value has no canonical encoding: a float, NaN, a non-string key, a huge integer."""


class MalformedJsonError(CanonicalError):
    """Bytes are not UTF-8 JSON holding one object."""


class NotCanonicalError(CanonicalError):
    """Bytes decode to a valid object but are not exactly its canonical encoding."""


class EntryError(ValueError):
    """A ledger entry has a missing, extra or invalid field."""


class CheckpointError(ValueError):
    """A checkpoint is malformed, signed by another key, or its signature does not verify."""


class MalformedCheckpointError(CheckpointError):
    """A checkpoint field is missing or invalid."""


class KeyMismatchError(CheckpointError):
    """A checkpoint names a signing key other than the one it is checked against."""


class BadSignatureError(CheckpointError):
    """A checkpoint's signature does not verify with the ledger's public key."""


class KeyStoreError(Exception):
    """The ledger's signing key cannot be created or loaded."""


class KeyExistsError(KeyStoreError):
    """A key file is already there; creating another would orphan every earlier checkpoint."""


class KeyNotFoundError(KeyStoreError):
    """A key file is missing."""


class KeyFileInsecureError(KeyStoreError):
    """The private key file can be read by users other than its owner."""


class ExportError(ValueError):
    """An export does not verify; `seq` names the first entry shown to be wrong or missing.

    The rule for `seq` is in `assistgate.ledger.export`. `line` is the 1-based number of the
    line where the problem shows.
    """

    def __init__(self, *, seq: int, line: int, message: str) -> None:
        self.seq = seq
        self.line = line
        self.message = message
        super().__init__(f"line {line} (seq {seq}): {message}")
