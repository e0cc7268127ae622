"""Merkle tree roots, inclusion proofs and consistency proofs (RFC 6962, RFC 9162 section 2.1).

Pure functions over a sequence of leaf hashes, plus `TreeBuilder`, which keeps only the roots
of the perfect subtrees so far (a compact range) and so takes O(log n) memory and time per
leaf. Proofs are lists of 32-byte hashes in RFC order: the hash nearest the leaf first.

Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2. Before hashing, each verifier
works out how many hashes the sizes call for, so a proof of the wrong length fails with
`BadProofLengthError` naming both numbers instead of a bare root mismatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

from assistgate.ledger.errors import (
    BadProofLengthError,
    IndexOutOfRangeError,
    MalformedHashError,
    ProofError,
    RootMismatchError,
)
from assistgate.ledger.hashing import EMPTY_ROOT, HASH_SIZE, NODE_PREFIX, node_hash


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the RFC 6962 Merkle tree hash (MTH) of the leaf hashes.

    Precondition: every leaf hash is 32 bytes (`MalformedHashError` otherwise).
    """
    _check_hashes(leaf_hashes, "leaf hash")
    return _mth(leaf_hashes)


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the RFC 6962 audit path of leaf `index` in the tree of `leaf_hashes`.

    Precondition: 0 <= index < len(leaf_hashes) (`IndexOutOfRangeError` otherwise). Costs O(n)
    hashes: it recomputes sibling subtrees from the leaves, which a store of interior nodes
    would avoid.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise IndexOutOfRangeError(f"leaf {index} is not in a tree of {size} leaves")
    _check_hashes(leaf_hashes, "leaf hash")
    top_down: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            top_down.append(_mth(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            top_down.append(_mth(leaf_hashes[lo : lo + k]))
            lo += k
    top_down.reverse()
    return top_down


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the RFC 6962 consistency proof from the first `old_size` leaves to all of them.

    Precondition: 0 <= old_size <= len(leaf_hashes) (`IndexOutOfRangeError` otherwise). The proof
    is empty when old_size is 0 or equals the new size.
    """
    new_size = len(leaf_hashes)
    if not 0 <= old_size <= new_size:
        raise IndexOutOfRangeError(f"old size {old_size} is not between 0 and new size {new_size}")
    _check_hashes(leaf_hashes, "leaf hash")
    if old_size in (0, new_size):
        return []
    # RFC 6962 SUBPROOF(m, D[lo:hi], b), unrolled: each step keeps the half holding the old
    # tree's edge and records the other half's root; the recorded roots come out reversed.
    top_down: list[bytes] = []
    lo, hi, m, whole_old_tree = 0, new_size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            top_down.append(_mth(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            top_down.append(_mth(leaf_hashes[lo : lo + k]))
            lo, m, whole_old_tree = lo + k, m - k, False
    # When the old tree is itself a subtree reached this way, the verifier already holds its
    # root (the old root), so RFC 6962 leaves it out.
    base = [] if whole_old_tree else [_mth(leaf_hashes[lo:hi])]
    top_down.reverse()
    return base + top_down


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`.

    Preconditions: hashes are 32 bytes (`MalformedHashError`); 0 <= index < size
    (`IndexOutOfRangeError`); the proof has exactly the length the sizes call for
    (`BadProofLengthError`). Raises `RootMismatchError` when the proof leads to another root.
    """
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root")
    _check_hashes(proof, "proof hash")
    if not 0 <= index < size:
        raise IndexOutOfRangeError(f"leaf {index} is not in a tree of {size} leaves")
    expected = _inclusion_length(index, size)
    if len(proof) != expected:
        raise BadProofLengthError(
            f"inclusion proof for leaf {index} of {size} has {len(proof)} hashes, "
            f"expected {expected}"
        )
    computed = _root_from_inclusion(index, size, leaf_hash, proof)
    if computed != root:
        raise RootMismatchError(
            f"inclusion proof for leaf {index} of {size} leads to root {computed.hex()}, "
            f"expected {root.hex()}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of `new_size` leaves extends the tree of `old_size` leaves.

    Preconditions: hashes are 32 bytes (`MalformedHashError`); 0 <= old_size <= new_size
    (`IndexOutOfRangeError`); the proof has exactly the length the sizes call for
    (`BadProofLengthError`): empty when the sizes are equal or old_size is 0. Raises
    `RootMismatchError` when either root does not follow from the proof. Unlike
    transparency-dev/merkle, an empty old tree must have the empty root: our checkpoints of
    an empty ledger always carry it, so any other value is a forgery or a bug.
    """
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    _check_hashes(proof, "proof hash")
    if not 0 <= old_size <= new_size:
        raise IndexOutOfRangeError(f"old size {old_size} is not between 0 and new size {new_size}")
    expected = _consistency_length(old_size, new_size)
    if len(proof) != expected:
        raise BadProofLengthError(
            f"consistency proof from {old_size} to {new_size} has {len(proof)} hashes, "
            f"expected {expected}"
        )
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise RootMismatchError(
            f"old root of an empty tree is {old_root.hex()}, expected {EMPTY_ROOT.hex()}"
        )
    if old_size == new_size and old_root != new_root:
        raise RootMismatchError(
            f"trees of equal size {old_size} have different roots "
            f"{old_root.hex()} and {new_root.hex()}"
        )
    if old_size in (0, new_size):
        return
    old_computed, new_computed = _roots_from_consistency(old_size, new_size, old_root, proof)
    if old_computed != old_root:
        raise RootMismatchError(
            f"consistency proof from {old_size} to {new_size} leads to old root "
            f"{old_computed.hex()}, expected {old_root.hex()}"
        )
    if new_computed != new_root:
        raise RootMismatchError(
            f"consistency proof from {old_size} to {new_size} leads to new root "
            f"{new_computed.hex()}, expected {new_root.hex()}"
        )


class TreeBuilder:
    """Append leaf hashes one at a time and read the root at any size, in O(log n) each.

    Holds one root per set bit of the size: the perfect subtrees the leaves so far form,
    largest (leftmost) first.
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._size = 0
        self._stack: list[bytes] = []

    @property
    def size(self) -> int:
        """Return the number of leaves appended."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash at the right edge of the tree."""
        if type(leaf_hash) is not bytes or len(leaf_hash) != HASH_SIZE:
            _check_hash(leaf_hash, "leaf hash")
        node = leaf_hash
        stack = self._stack
        # Each trailing 1 bit of the old size is a perfect subtree the new leaf completes.
        # (node_hash inlined: verification appends millions of leaves.)
        n = self._size
        while n & 1:
            node = sha256(NODE_PREFIX + stack.pop() + node).digest()
            n >>= 1
        stack.append(node)
        self._size += 1

    def root(self) -> bytes:
        """Return the RFC 6962 root of the leaves appended so far."""
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            root = node_hash(left, root)
        return root

    def state(self) -> list[bytes]:
        """Return the roots of the perfect subtrees, largest first (enough to resume)."""
        return list(self._stack)

    @classmethod
    def restore(cls, size: int, state: Sequence[bytes]) -> TreeBuilder:
        """Resume a builder from `size` and the `state()` it had at that size.

        Precondition: `state` has one hash per set bit of `size`.
        """
        if size < 0 or len(state) != size.bit_count():
            raise ProofError(
                f"a tree of {size} leaves has {max(size, 0).bit_count()} subtree "
                f"roots, not {len(state)}"
            )
        _check_hashes(state, "subtree root")
        builder = cls()
        builder._size, builder._stack = size, list(state)
        return builder


def _mth(leaf_hashes: Sequence[bytes]) -> bytes:
    # Level by level, carrying an odd last node up unchanged: this gives exactly RFC 6962's
    # largest-power-of-two split, without recursion or copying slices.
    if not leaf_hashes:
        return EMPTY_ROOT
    hash_fn, prefix = sha256, NODE_PREFIX
    level = leaf_hashes
    while len(level) > 1:
        pairs = iter(level)
        upper = [
            hash_fn(prefix + left + right).digest()
            for left, right in zip(pairs, pairs, strict=False)
        ]
        if len(level) & 1:
            upper.append(level[-1])
        level = upper
    return bytes(level[0])


def _split(n: int) -> int:
    """Return the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_length(index: int, size: int) -> int:
    # Below the level where the paths to `index` and to the last leaf part, every level
    # contributes a sibling; above it, only the levels where `index` is a right child do.
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_length(old_size: int, new_size: int) -> int:
    if old_size in (0, new_size):
        return 0
    # The proof is the inclusion proof of the old tree's last perfect subtree, seen as one
    # leaf of a tree `shift` levels up, preceded by that subtree's root unless the old tree
    # is that subtree.
    shift = (old_size & -old_size).bit_length() - 1
    index = (old_size - 1) >> shift
    size = ((new_size - 1) >> shift) + 1
    seed = 0 if old_size == 1 << shift else 1
    return seed + _inclusion_length(index, size)


def _root_from_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]) -> bytes:
    # RFC 9162 section 2.1.3.2, step by step; the length was checked by the caller.
    fn, sn = index, size - 1
    result = leaf_hash
    for sibling in proof:
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return result


def _roots_from_consistency(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    # RFC 9162 section 2.1.4.2, step by step; the length was checked by the caller.
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_computed = new_computed = path[0]
    for node in path[1:]:
        if fn & 1 or fn == sn:
            old_computed = node_hash(node, old_computed)
            new_computed = node_hash(node, new_computed)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new_computed = node_hash(new_computed, node)
        fn >>= 1
        sn >>= 1
    return old_computed, new_computed


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise MalformedHashError(f"{what} must be {HASH_SIZE} bytes, got {size}")


def _check_hashes(values: Sequence[bytes], what: str) -> None:
    for i, value in enumerate(values):
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            _check_hash(value, f"{what} {i}")
