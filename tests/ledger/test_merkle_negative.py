"""Proofs that must not verify, each refused with the error that names what is wrong.

The corruptions are those transparency-dev/merkle applies to every published proof in
proof/verify_test.go (`corruptInclusionProof`, `corruptConsistencyProof`, commit
02194e9afb6c1d95b5381350007963aa70fff472): wrong index or size, wrong leaf or root, garbage
or a root added before or after the proof, one bit flipped in each element, an element
removed or inserted. The valid proofs they start from are the published ones (vectors.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from assistgate.ledger import (
    EMPTY_ROOT,
    BadProofLengthError,
    IndexOutOfRangeError,
    MalformedHashError,
    ProofError,
    RootMismatchError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

from .vectors import CONSISTENCY_PROOFS, INCLUSION_PROOFS, LEAF_INPUTS, ROOTS

LEAVES = [leaf_hash(data) for data in LEAF_INPUTS]
# transparency-dev's `sha256SomeHash`: 32 bytes that are no node of any tree here.
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

Probe = tuple[str, int, int, bytes, list[bytes], bytes, type[ProofError]]


def _flip(proof: Sequence[bytes], i: int, mask: int) -> list[bytes]:
    changed = list(proof)
    changed[i] = bytes([changed[i][0] ^ mask]) + changed[i][1:]
    return changed


def _inclusion_probes() -> list[Probe]:
    probes: list[Probe] = []
    for index, size, published in INCLUSION_PROOFS:
        proof, leaf, root = list(published), LEAVES[index], ROOTS[size]
        name = f"{index}of{size}"
        probes += [
            (f"{name}: index - 1", index - 1, size, leaf, proof, root, ProofError),
            (f"{name}: index + 1", index + 1, size, leaf, proof, root, ProofError),
            (f"{name}: index ^ 2", index ^ 2, size, leaf, proof, root, ProofError),
            (f"{name}: size * 2", index, size * 2, leaf, proof, root, ProofError),
            (f"{name}: size // 2", index, size // 2, leaf, proof, root, ProofError),
            (f"{name}: wrong leaf", index, size, SOME_HASH, proof, root, RootMismatchError),
            (f"{name}: empty root", index, size, leaf, proof, EMPTY_ROOT, RootMismatchError),
            (f"{name}: random root", index, size, leaf, proof, SOME_HASH, RootMismatchError),
            (f"{name}: short leaf", index, size, b"WrongLeaf", proof, root, MalformedHashError),
            (
                f"{name}: trailing garbage",
                index,
                size,
                leaf,
                [*proof, b""],
                root,
                MalformedHashError,
            ),
            (
                f"{name}: trailing root",
                index,
                size,
                leaf,
                [*proof, root],
                root,
                BadProofLengthError,
            ),
            (
                f"{name}: preceding garbage",
                index,
                size,
                leaf,
                [b"", *proof],
                root,
                MalformedHashError,
            ),
            (
                f"{name}: preceding root",
                index,
                size,
                leaf,
                [root, *proof],
                root,
                BadProofLengthError,
            ),
        ]
        probes += [
            (
                f"{name}: proof[{i}] bit 3",
                index,
                size,
                leaf,
                _flip(proof, i, 8),
                root,
                RootMismatchError,
            )
            for i in range(len(proof))
        ]
        if proof:
            probes.append(
                (f"{name}: removed last", index, size, leaf, proof[:-1], root, BadProofLengthError)
            )
        if len(proof) > 1:
            inserted = [proof[0], SOME_HASH, *proof[1:]]
            probes.append(
                (
                    f"{name}: inserted element",
                    index,
                    size,
                    leaf,
                    inserted,
                    root,
                    BadProofLengthError,
                )
            )
            swapped = [proof[1], proof[0], *proof[2:]]
            probes.append(
                (f"{name}: swapped elements", index, size, leaf, swapped, root, RootMismatchError)
            )
    return probes


INCLUSION_PROBES = _inclusion_probes()


@pytest.mark.parametrize(
    ("index", "size", "leaf", "proof", "root", "error"),
    [p[1:] for p in INCLUSION_PROBES],
    ids=[p[0] for p in INCLUSION_PROBES],
)
def test_a_corrupted_inclusion_proof_is_refused(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes, error: type[ProofError]
) -> None:
    with pytest.raises(error):
        verify_inclusion(index, size, leaf, proof, root)


def test_an_inclusion_proof_in_an_empty_tree_names_the_index_and_size() -> None:
    with pytest.raises(IndexOutOfRangeError, match="leaf 0 is not in a tree of 0 leaves"):
        verify_inclusion(0, 0, LEAVES[0], [], EMPTY_ROOT)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (8, 8), (-1, 8)])
def test_a_leaf_outside_the_tree_is_refused(index: int, size: int) -> None:
    with pytest.raises(IndexOutOfRangeError):
        verify_inclusion(index, size, SOME_HASH, [], EMPTY_ROOT)


def test_a_single_leaf_tree_needs_its_root_to_be_the_leaf() -> None:
    leaf = leaf_hash(b"data")
    verify_inclusion(0, 1, leaf, [], leaf)
    with pytest.raises(RootMismatchError):
        verify_inclusion(0, 1, leaf, [], SOME_HASH)
    with pytest.raises(MalformedHashError):
        verify_inclusion(0, 1, b"", [], leaf)
    with pytest.raises(MalformedHashError):
        verify_inclusion(0, 1, leaf, [], b"")


def test_a_proof_of_the_wrong_length_says_how_many_hashes_were_expected() -> None:
    with pytest.raises(BadProofLengthError, match="has 2 hashes, expected 3"):
        verify_inclusion(5, 8, LEAVES[5], list(INCLUSION_PROOFS[2][2])[:2], ROOTS[8])


def test_a_root_mismatch_names_both_roots() -> None:
    with pytest.raises(RootMismatchError) as caught:
        verify_inclusion(5, 8, LEAVES[5], INCLUSION_PROOFS[2][2], ROOTS[7])
    assert ROOTS[7].hex() in str(caught.value)


ConsistencyProbe = tuple[str, int, int, bytes, bytes, list[bytes], type[ProofError]]


def _consistency_probes() -> list[ConsistencyProbe]:
    probes: list[ConsistencyProbe] = []
    for old, new, published in CONSISTENCY_PROOFS:
        if not published:
            continue  # as upstream: only proofs with something to corrupt
        proof, r1, r2 = list(published), ROOTS[old], ROOTS[new]
        name = f"{old}to{new}"
        probes += [
            (f"{name}: old - 1", old - 1, new, r1, r2, proof, ProofError),
            (f"{name}: old + 1", old + 1, new, r1, r2, proof, ProofError),
            (f"{name}: old ^ 2", old ^ 2, new, r1, r2, proof, ProofError),
            (f"{name}: new * 2", old, new * 2, r1, r2, proof, ProofError),
            (f"{name}: new // 2", old, new // 2, r1, r2, proof, ProofError),
            (f"{name}: wrong old root", old, new, SOME_HASH, r2, proof, RootMismatchError),
            (f"{name}: wrong new root", old, new, r1, SOME_HASH, proof, RootMismatchError),
            (f"{name}: swapped roots", old, new, r2, r1, proof, RootMismatchError),
            (f"{name}: short root", old, new, b"WrongRoot", r2, proof, MalformedHashError),
            (f"{name}: empty proof", old, new, r1, r2, [], BadProofLengthError),
            (f"{name}: trailing garbage", old, new, r1, r2, [*proof, b""], MalformedHashError),
            (f"{name}: trailing old root", old, new, r1, r2, [*proof, r1], BadProofLengthError),
            (f"{name}: trailing new root", old, new, r1, r2, [*proof, r2], BadProofLengthError),
            (f"{name}: preceding garbage", old, new, r1, r2, [b"", *proof], MalformedHashError),
            (f"{name}: preceding old root", old, new, r1, r2, [r1, *proof], BadProofLengthError),
            (f"{name}: preceding new root", old, new, r1, r2, [r2, *proof], BadProofLengthError),
            (
                f"{name}: preceding proof[0]",
                old,
                new,
                r1,
                r2,
                [proof[0], *proof],
                BadProofLengthError,
            ),
            (f"{name}: truncated", old, new, r1, r2, proof[:-1], BadProofLengthError),
        ]
        probes += [
            (f"{name}: proof[{i}] bit 4", old, new, r1, r2, _flip(proof, i, 16), RootMismatchError)
            for i in range(len(proof))
        ]
        if len(proof) > 1:
            swapped = [proof[1], proof[0], *proof[2:]]
            probes.append(
                (f"{name}: swapped elements", old, new, r1, r2, swapped, RootMismatchError)
            )
    return probes


CONSISTENCY_PROBES = _consistency_probes()


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof", "error"),
    [p[1:] for p in CONSISTENCY_PROBES],
    ids=[p[0] for p in CONSISTENCY_PROBES],
)
def test_a_corrupted_consistency_proof_is_refused(
    old: int,
    new: int,
    old_root: bytes,
    new_root: bytes,
    proof: list[bytes],
    error: type[ProofError],
) -> None:
    with pytest.raises(error):
        verify_consistency(old, new, old_root, new_root, proof)


OTHER_HASH = leaf_hash(b"other")


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof"),
    [
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, []),
        (0, 1, EMPTY_ROOT, SOME_HASH, []),
        (1, 1, SOME_HASH, SOME_HASH, []),
        (8, 8, ROOTS[8], ROOTS[8], []),
    ],
    ids=["0 to 0", "0 to 1", "1 to 1", "8 to 8"],
)
def test_sizes_that_are_always_consistent_need_an_empty_proof(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    verify_consistency(old, new, old_root, new_root, proof)


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof", "error"),
    [
        # Time travel to the past.
        (1, 0, SOME_HASH, OTHER_HASH, [], IndexOutOfRangeError),
        (2, 1, SOME_HASH, OTHER_HASH, [], IndexOutOfRangeError),
        (8, 5, ROOTS[8], ROOTS[5], [], IndexOutOfRangeError),
        (-1, 5, SOME_HASH, ROOTS[5], [], IndexOutOfRangeError),
        # A proof is needed and missing.
        (1, 2, ROOTS[1], ROOTS[2], [], BadProofLengthError),
        # Equal sizes, different roots: the log forked.
        (0, 0, EMPTY_ROOT, OTHER_HASH, [], RootMismatchError),
        (1, 1, SOME_HASH, OTHER_HASH, [], RootMismatchError),
        (8, 8, ROOTS[8], ROOTS[7], [], RootMismatchError),
        # Equal roots but a proof where none belongs.
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], BadProofLengthError),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], BadProofLengthError),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], BadProofLengthError),
        # Ours, stricter than upstream: an empty old tree must have the empty root.
        (0, 8, SOME_HASH, ROOTS[8], [], RootMismatchError),
    ],
    ids=[
        "1 to 0",
        "2 to 1",
        "8 to 5",
        "-1 to 5",
        "1 to 2 without proof",
        "0 to 0 other root",
        "1 to 1 other root",
        "8 to 8 other root",
        "0 to 0 with proof",
        "0 to 1 with proof",
        "1 to 1 with proof",
        "0 to 8 non-empty old root",
    ],
)
def test_inconsistent_sizes_or_roots_are_refused(
    old: int,
    new: int,
    old_root: bytes,
    new_root: bytes,
    proof: list[bytes],
    error: type[ProofError],
) -> None:
    with pytest.raises(error):
        verify_consistency(old, new, old_root, new_root, proof)


def test_an_old_size_past_the_new_one_is_named() -> None:
    with pytest.raises(IndexOutOfRangeError, match="old size 9 is not between 0 and new size 8"):
        verify_consistency(9, 8, ROOTS[8], ROOTS[8], [])


def test_a_consistency_mismatch_says_which_root_failed() -> None:
    proof = CONSISTENCY_PROOFS[2][2]
    with pytest.raises(RootMismatchError, match="leads to old root"):
        verify_consistency(6, 8, ROOTS[5], ROOTS[8], proof)
    with pytest.raises(RootMismatchError, match="leads to new root"):
        verify_consistency(6, 8, ROOTS[6], ROOTS[7], proof)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (8, 8), (-1, 8)])
def test_no_inclusion_proof_is_built_for_a_leaf_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(IndexOutOfRangeError):
        inclusion_proof(index, LEAVES[:size])


@pytest.mark.parametrize("old", [-1, 9])
def test_no_consistency_proof_is_built_from_a_size_outside_the_tree(old: int) -> None:
    with pytest.raises(IndexOutOfRangeError):
        consistency_proof(old, LEAVES)


def test_leaf_hashes_of_the_wrong_size_are_refused_when_building() -> None:
    with pytest.raises(MalformedHashError, match="leaf hash 3 must be 32 bytes, got 31"):
        inclusion_proof(0, [*LEAVES[:3], LEAVES[3][:31]])
