"""The ledger's key store: created once with safe permissions, never overwritten."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistgate.ledger import (
    Checkpoint,
    FileKeyStore,
    KeyExistsError,
    KeyFileInsecureError,
    KeyNotFoundError,
    KeyStore,
    KeyStoreError,
    MemoryKeyStore,
    key_id,
    load_public_key,
    sign_checkpoint,
    verify_checkpoint,
)
from assistgate.ledger.keys import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE

from .vectors import ROOTS


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_a_private_key_only_its_owner_can_read(
    tmp_path: Path, permissive_umask: None
) -> None:
    store = FileKeyStore(tmp_path / "keys")
    private = store.init()
    assert private == tmp_path / "keys" / PRIVATE_KEY_FILE
    assert _mode(private) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (
        (tmp_path / "keys" / PUBLIC_KEY_FILE).read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    )


def test_a_second_init_refuses_to_overwrite_the_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    store.init()
    before = (tmp_path / PRIVATE_KEY_FILE).read_bytes()
    with pytest.raises(KeyExistsError, match="already exists"):
        FileKeyStore(tmp_path).init()
    assert (tmp_path / PRIVATE_KEY_FILE).read_bytes() == before


def test_init_refuses_when_only_the_public_key_is_there(tmp_path: Path) -> None:
    (tmp_path / PUBLIC_KEY_FILE).write_text("published\n")
    with pytest.raises(KeyExistsError):
        FileKeyStore(tmp_path).init()
    assert not (tmp_path / PRIVATE_KEY_FILE).exists()


def test_the_published_public_key_loads_and_matches_the_private_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    store.init()
    published = tmp_path / "published.pem"
    published.write_text(store.public_key_pem())
    public = load_public_key(published)
    assert key_id(public) == key_id(store.ledger_private_key().public_key())
    assert key_id(public) == key_id(store.ledger_public_key())


def test_a_private_key_others_can_read_is_refused(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    store.init()
    (tmp_path / PRIVATE_KEY_FILE).chmod(0o644)
    with pytest.raises(KeyFileInsecureError, match="mode 0644, expected 0600"):
        store.ledger_private_key()


def test_missing_keys_are_named(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path)
    with pytest.raises(KeyNotFoundError, match=PRIVATE_KEY_FILE):
        store.ledger_private_key()
    with pytest.raises(KeyNotFoundError, match=PUBLIC_KEY_FILE):
        store.ledger_public_key()


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.pem"
    path.write_text("not a key\n")
    with pytest.raises(KeyStoreError, match="not a PEM public key"):
        load_public_key(path)


def test_a_private_key_that_does_not_match_the_published_one_is_refused(tmp_path: Path) -> None:
    FileKeyStore(tmp_path / "a").init()
    FileKeyStore(tmp_path / "b").init()
    (tmp_path / "a" / PUBLIC_KEY_FILE).write_bytes((tmp_path / "b" / PUBLIC_KEY_FILE).read_bytes())
    with pytest.raises(KeyStoreError, match="does not match"):
        FileKeyStore(tmp_path / "a").ledger_private_key()


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_every_key_store_signs_what_its_public_key_verifies(tmp_path: Path, kind: str) -> None:
    store: KeyStore
    if kind == "file":
        file_store = FileKeyStore(tmp_path)
        file_store.init()
        store = file_store
    else:
        store = MemoryKeyStore()
    checkpoint = Checkpoint("assistgate.example/x", 8, ROOTS[8], "2017-10-02T14:03:07.123456Z")
    signed = sign_checkpoint(checkpoint, store.ledger_private_key())
    assert verify_checkpoint(signed, store.ledger_public_key()) == checkpoint
    assert signed.key_id == key_id(store.ledger_public_key())
