"""For many tree sizes up to 300, every proof built verifies and matches RFC 6962's definitions.

The reference functions below transcribe RFC 6962 section 2.1 literally (recursion on
slices, the largest-power-of-two split): slow, but obviously the text of the RFC, so the fast
iterative code is checked against the definition, not against itself.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from assistgate.ledger import (
    EMPTY_ROOT,
    ProofError,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

RNG = random.Random(20170922)
SIZES = sorted(
    {*range(1, 34), 63, 64, 65, 127, 128, 129, 255, 256, 257, 300, *RNG.sample(range(34, 300), 12)}
)
LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(300)]


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if whole else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], whole), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def test_the_builder_root_equals_root_hash_at_every_size() -> None:
    builder = TreeBuilder()
    for size, leaf in enumerate(LEAVES, start=1):
        builder.append(leaf)
        assert builder.root() == root_hash(LEAVES[:size])


def test_a_builder_restored_from_its_state_carries_on_as_the_original() -> None:
    original = TreeBuilder()
    for size, leaf in enumerate(LEAVES[:100]):
        restored = TreeBuilder.restore(size, original.state())
        assert (restored.size, restored.root()) == (original.size, original.root())
        original.append(leaf)
        restored.append(leaf)
        assert restored.root() == original.root() == root_hash(LEAVES[: size + 1])


@pytest.mark.parametrize(("size", "count"), [(5, 1), (5, 3), (4, 0), (-1, 0)])
def test_a_builder_state_that_does_not_fit_its_size_is_refused(size: int, count: int) -> None:
    with pytest.raises(ProofError):
        TreeBuilder.restore(size, LEAVES[:count])


@pytest.mark.parametrize("size", [0, *SIZES])
def test_root_hash_is_rfc_6962_mth(size: int) -> None:
    assert root_hash(LEAVES[:size]) == ref_mth(LEAVES[:size])


@pytest.mark.parametrize("size", SIZES)
def test_every_inclusion_proof_is_the_rfc_path_and_verifies(size: int) -> None:
    leaves, root = LEAVES[:size], root_hash(LEAVES[:size])
    for index in range(size):
        proof = inclusion_proof(index, leaves)
        assert proof == ref_path(index, leaves)
        verify_inclusion(index, size, leaves[index], proof, root)


@pytest.mark.parametrize("size", SIZES)
def test_every_consistency_proof_is_the_rfc_proof_and_verifies(size: int) -> None:
    leaves, new_root = LEAVES[:size], root_hash(LEAVES[:size])
    for old in range(size + 1):
        proof = consistency_proof(old, leaves)
        expected = [] if old == 0 else ref_subproof(old, leaves, True)
        assert proof == expected
        verify_consistency(old, size, root_hash(leaves[:old]), new_root, proof)


@pytest.mark.parametrize("size", [s for s in SIZES if s > 1])
def test_a_proof_checked_against_a_neighbouring_leaf_or_size_fails(size: int) -> None:
    leaves, root = LEAVES[:size], root_hash(LEAVES[:size])
    for index in RNG.sample(range(size), min(size, 8)):
        proof = inclusion_proof(index, leaves)
        for wrong_index in {index - 1, index + 1} - {index}:
            with pytest.raises(ProofError):
                verify_inclusion(wrong_index, size, leaves[index], proof, root)
        # Not size + 1: when the path's shape is the same in both trees (index 0 of 5 and
        # of 6), the proof rightly leads to the same root; the checkpoint binds the size.
        with pytest.raises(ProofError):
            verify_inclusion(index, size * 2, leaves[index], proof, root)
        for i in range(len(proof)):
            flipped = [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]
            with pytest.raises(ProofError):
                verify_inclusion(index, size, leaves[index], flipped, root)


@pytest.mark.parametrize("size", [s for s in SIZES if s > 2])
def test_a_consistency_proof_fails_for_another_old_size_or_a_flipped_bit(size: int) -> None:
    leaves, new_root = LEAVES[:size], root_hash(LEAVES[:size])
    for old in RNG.sample(range(1, size), min(size - 1, 6)):
        proof, old_root = consistency_proof(old, leaves), root_hash(leaves[:old])
        for wrong_old in {old - 1, old + 1} - {0, size}:
            with pytest.raises(ProofError):
                verify_consistency(wrong_old, size, old_root, new_root, proof)
        for i in range(len(proof)):
            flipped = [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]
            with pytest.raises(ProofError):
                verify_consistency(old, size, old_root, new_root, flipped)
