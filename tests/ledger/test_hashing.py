"""RFC 6962 leaf and node hashing against published known answers.

Expected values: transparency-dev/merkle rfc6962/rfc6962_test.go (`TestRFC6962Hasher`),
commit 78493b07ef9b552e3379abf9e23d4da26fbe797c, where each is produced by the shell command
quoted next to it (e.g. `echo -n 004C313233343536 | xxd -r -p | sha256sum`).
"""

from __future__ import annotations

from assistgate.ledger import EMPTY_ROOT, leaf_hash, node_hash


def test_the_empty_root_is_the_sha256_of_nothing() -> None:
    # echo -n | sha256sum
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_an_empty_leaf_hashes_to_sha256_of_the_leaf_prefix_alone() -> None:
    # echo -n 00 | xxd -r -p | sha256sum
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_a_leaf_is_hashed_with_the_0x00_prefix() -> None:
    # echo -n 004C313233343536 | xxd -r -p | sha256sum
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )


def test_a_node_is_hashed_with_the_0x01_prefix() -> None:
    # echo -n 014E3132334E343536 | xxd -r -p | sha256sum
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_a_node_is_not_the_leaf_of_its_children_concatenated() -> None:
    left, right = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert node_hash(left, right) != leaf_hash(left + right)
    assert node_hash(left, right) != node_hash(right, left)
