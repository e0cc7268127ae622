"""RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256.

The one-byte prefixes keep a leaf from ever hashing like an interior node, so nobody can
present two leaf hashes as one leaf (second-preimage resistance, RFC 6962 section 2.1).
"""

from __future__ import annotations

from hashlib import sha256

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return SHA-256(0x00 || data), the hash of one leaf."""
    return sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), the hash of an interior node."""
    return sha256(NODE_PREFIX + left + right).digest()
