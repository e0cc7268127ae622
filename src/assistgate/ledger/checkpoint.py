"""Signed checkpoints: the ledger's size and root at a moment, signed with Ed25519.

The signed text follows the transparency-dev / C2SP checkpoint note body: the origin line,
the tree size in decimal, the root in standard base64, then one extension line carrying the
UTC timestamp, each line ending in a newline:

    assistgate.example/louisville-lmpd
    8
    XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=
    2017-10-02T14:03:07.123456Z

The signature covers exactly these bytes. Only this key signs them, and no other message of
the ledger has this shape, so a signature cannot be replayed as anything else.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assistgate.ledger.canonical import MAX_SAFE_INTEGER
from assistgate.ledger.entry import TIMESTAMP_PATTERN
from assistgate.ledger.errors import BadSignatureError, KeyMismatchError, MalformedCheckpointError
from assistgate.ledger.hashing import HASH_SIZE
from assistgate.ledger.keys import key_id

SIGNATURE_SIZE = 64
JSON_FIELDS = ("origin", "size", "root", "at", "key_id", "signature")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The ledger named `origin` held `size` entries with Merkle root `root` at time `at`."""

    origin: str
    size: int
    root: bytes
    at: str

    def __post_init__(self) -> None:
        if (
            not isinstance(self.origin, str)
            or not self.origin
            or not self.origin.isprintable()
            or any(c.isspace() for c in self.origin)
        ):
            raise MalformedCheckpointError(
                f"origin must be non-empty printable text without spaces, got {self.origin!r}"
            )
        if (
            not isinstance(self.size, int)
            or isinstance(self.size, bool)
            or not 0 <= self.size <= MAX_SAFE_INTEGER
        ):
            raise MalformedCheckpointError(
                f"size must be a non-negative integer, got {self.size!r}"
            )
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise MalformedCheckpointError(f"root must be {HASH_SIZE} bytes, got {self.root!r}")
        if not isinstance(self.at, str) or not TIMESTAMP_PATTERN.fullmatch(self.at):
            raise MalformedCheckpointError(
                f"at must be a UTC timestamp like 2017-10-02T14:03:07.123456Z, got {self.at!r}"
            )

    def to_body(self) -> bytes:
        """Return the note body the signature covers."""
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n{self.at}\n".encode()

    @classmethod
    def from_body(cls, body: bytes) -> Checkpoint:
        """Parse a note body, refusing any other spelling of the same checkpoint."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedCheckpointError("checkpoint body is not UTF-8") from None
        lines = text.split("\n")
        if len(lines) != 5 or lines[4] != "":
            raise MalformedCheckpointError(
                "checkpoint body must be 4 lines, each ending in a newline"
            )
        origin, size, root, at = lines[:4]
        if not _DECIMAL.fullmatch(size):
            raise MalformedCheckpointError(f"size line {size!r} is not a decimal number")
        checkpoint = cls(origin=origin, size=int(size), root=_decode_b64(root, "root"), at=at)
        if checkpoint.to_body() != body:
            raise MalformedCheckpointError("checkpoint body is not in canonical form")
        return checkpoint


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint with the Ed25519 signature over its body and the signing key's id."""

    checkpoint: Checkpoint
    key_id: str
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        """Return the body fields, the key id and the base64 signature as a JSON-ready dict."""
        cp = self.checkpoint
        return {
            "origin": cp.origin,
            "size": cp.size,
            "root": base64.b64encode(cp.root).decode("ascii"),
            "at": cp.at,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SignedCheckpoint:
        """Build a signed checkpoint from its JSON form; the signature is not checked here."""
        if not isinstance(obj, Mapping) or obj.keys() != set(JSON_FIELDS):
            keys = sorted(obj) if isinstance(obj, Mapping) else type(obj).__name__
            raise MalformedCheckpointError(
                f"checkpoint must have fields {list(JSON_FIELDS)}: {keys}"
            )
        for name in ("root", "signature", "key_id"):
            if not isinstance(obj[name], str):
                raise MalformedCheckpointError(f"{name} must be a string")
        if not _KEY_ID.fullmatch(obj["key_id"]):
            raise MalformedCheckpointError(
                f"key_id must be 16 lowercase hex digits: {obj['key_id']!r}"
            )
        signature = _decode_b64(obj["signature"], "signature")
        if len(signature) != SIGNATURE_SIZE:
            raise MalformedCheckpointError(f"signature must be {SIGNATURE_SIZE} bytes")
        checkpoint = Checkpoint(
            origin=obj["origin"],
            size=obj["size"],
            root=_decode_b64(obj["root"], "root"),
            at=obj["at"],
        )
        return cls(checkpoint=checkpoint, key_id=obj["key_id"], signature=signature)


def sign_checkpoint(checkpoint: Checkpoint, private_key: Ed25519PrivateKey) -> SignedCheckpoint:
    """Sign the checkpoint's body with the ledger's key."""
    return SignedCheckpoint(
        checkpoint=checkpoint,
        key_id=key_id(private_key.public_key()),
        signature=private_key.sign(checkpoint.to_body()),
    )


def verify_checkpoint(signed: SignedCheckpoint, public_key: Ed25519PublicKey) -> Checkpoint:
    """Return the checkpoint if `public_key` signed it; raise a `CheckpointError` otherwise."""
    expected = key_id(public_key)
    if signed.key_id != expected:
        raise KeyMismatchError(f"checkpoint names key {signed.key_id}, expected key {expected}")
    try:
        public_key.verify(signed.signature, signed.checkpoint.to_body())
    except InvalidSignature:
        raise BadSignatureError(
            f"signature does not verify with key {expected} for checkpoint "
            f"{signed.checkpoint.origin} size {signed.checkpoint.size}"
        ) from None
    return signed.checkpoint


def _decode_b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedCheckpointError(f"{what} is not base64: {text!r}") from None
    # Refuse other spellings of the same bytes (e.g. non-zero padding bits).
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedCheckpointError(f"{what} is not canonical base64: {text!r}")
    return raw
