"""Roots, inclusion proofs and consistency proofs against the published RFC 6962 vectors.

Where each expected value comes from is in tests/ledger/vectors.py. The proof shapes in the
`*_SHAPES` tables are the node lists of transparency-dev/merkle proof/proof_test.go
(`TestInclusion`, `TestConsistency`), commit 02a3e2029520f515596d5238c54fb0ac9e19bff4: there
a node is (level, index) and a "rehash" pair (i, j) stands for node_hash(i, j); here each
node is looked up in the published NODES table, so the expected hashes are published values.
"""

from __future__ import annotations

import pytest

from assistgate.ledger import (
    EMPTY_ROOT,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

from .vectors import CONSISTENCY_PROOFS, INCLUSION_PROOFS, LEAF_INPUTS, NODES, ROOTS

LEAVES = [leaf_hash(data) for data in LEAF_INPUTS]


def _node(level: int, index: int) -> bytes:
    return NODES[level][index]


# proof_test.go names the nodes of the 7-leaf tree a..j; `l` is its rehashed node(i, j).
L_OF_7 = node_hash(_node(1, 2), _node(0, 6))

INCLUSION_SHAPES: list[tuple[int, int, list[bytes]]] = [
    (0, 1, []),
    (0, 2, [_node(0, 1)]),  # b
    (1, 2, [_node(0, 0)]),  # a
    (1, 3, [_node(0, 0), _node(0, 2)]),  # a c
    (0, 7, [_node(0, 1), _node(1, 1), L_OF_7]),  # b h l
    (1, 7, [_node(0, 0), _node(1, 1), L_OF_7]),  # a h l
    (2, 7, [_node(0, 3), _node(1, 0), L_OF_7]),  # d g l
    (3, 7, [_node(0, 2), _node(1, 0), L_OF_7]),  # c g l
    (4, 7, [_node(0, 5), _node(0, 6), _node(2, 0)]),  # f j k
    (5, 7, [_node(0, 4), _node(0, 6), _node(2, 0)]),  # e j k
    (6, 7, [_node(1, 2), _node(2, 0)]),  # i k
    (2, 4, [_node(0, 3), _node(1, 0)]),  # d g
    (3, 5, [_node(0, 2), _node(1, 0), _node(0, 4)]),  # c g e
    (3, 6, [_node(0, 2), _node(1, 0), _node(1, 2)]),  # c g i
    (4, 6, [_node(0, 5), _node(2, 0)]),  # f k
]

CONSISTENCY_SHAPES: list[tuple[int, int, list[bytes]]] = [
    (1, 2, [_node(0, 1)]),  # b
    (1, 4, [_node(0, 1), _node(1, 1)]),  # b h
    (1, 6, [_node(0, 1), _node(1, 1), _node(1, 2)]),  # b h i
    (2, 3, [_node(0, 2)]),  # c
    (2, 8, [_node(1, 1), _node(2, 1)]),  # h l
    (3, 7, [_node(0, 2), _node(0, 3), _node(1, 0), L_OF_7]),  # c d g l
    (4, 7, [L_OF_7]),  # l
    (5, 7, [_node(0, 4), _node(0, 5), _node(0, 6), _node(2, 0)]),  # e f j k
    (6, 7, [_node(1, 2), _node(0, 6), _node(2, 0)]),  # i j k
    (7, 8, [_node(0, 6), _node(0, 7), _node(1, 2), _node(2, 0)]),  # j leaf7 i k
    (2, 4, [_node(1, 1)]),  # h
    (3, 5, [_node(0, 2), _node(0, 3), _node(1, 0), _node(0, 4)]),  # c d g e
    (3, 6, [_node(0, 2), _node(0, 3), _node(1, 0), _node(1, 2)]),  # c d g i
    (4, 6, [_node(1, 2)]),  # i
    (1, 7, [_node(0, 1), _node(1, 1), L_OF_7]),  # b h l
    *((size, size, []) for size in (1, 2, 3, 4, 5, 7, 8)),
]


@pytest.mark.parametrize("size", range(9))
def test_the_root_of_the_first_n_leaves_is_the_published_root(size: int) -> None:
    assert root_hash(LEAVES[:size]) == ROOTS[size]


def test_the_tree_builder_reaches_every_published_root_one_leaf_at_a_time() -> None:
    builder = TreeBuilder()
    assert builder.root() == ROOTS[0] == EMPTY_ROOT
    for size, leaf in enumerate(LEAVES, start=1):
        builder.append(leaf)
        assert (builder.size, builder.root()) == (size, ROOTS[size])


def test_the_leaf_hashes_are_the_published_level_zero_nodes() -> None:
    assert tuple(LEAVES) == NODES[0]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_a_published_inclusion_proof_is_rebuilt_and_verifies(
    index: int, size: int, proof: tuple[bytes, ...]
) -> None:
    assert inclusion_proof(index, LEAVES[:size]) == list(proof)
    verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
def test_a_published_consistency_proof_is_rebuilt_and_verifies(
    old: int, new: int, proof: tuple[bytes, ...]
) -> None:
    assert consistency_proof(old, LEAVES[:new]) == list(proof)
    verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_SHAPES)
def test_an_inclusion_proof_has_the_published_shape(
    index: int, size: int, proof: list[bytes]
) -> None:
    assert inclusion_proof(index, LEAVES[:size]) == proof
    verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_SHAPES)
def test_a_consistency_proof_has_the_published_shape(
    old: int, new: int, proof: list[bytes]
) -> None:
    assert consistency_proof(old, LEAVES[:new]) == proof
    verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


def test_the_root_of_seven_leaves_is_k_over_l() -> None:
    # Cross-check of the rehash convention used above: RFC 6962 MTH(D[0:7]) = node(k, l).
    assert node_hash(_node(2, 0), L_OF_7) == ROOTS[7]
