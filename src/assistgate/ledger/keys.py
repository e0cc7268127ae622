"""The ledger's Ed25519 signing key: an interface, a file-backed store and an in-memory fake.

The file store keeps the private key unencrypted (PKCS8 PEM) and relies on mode 0600 and the
host's disk encryption; a store backed by an HSM or a cloud KMS can implement `KeyStore`
without touching the rest of the ledger.
"""

from __future__ import annotations

import os
import stat
from hashlib import sha256
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assistgate.ledger.errors import (
    KeyExistsError,
    KeyFileInsecureError,
    KeyNotFoundError,
    KeyStoreError,
)

PRIVATE_KEY_FILE = "ledger-ed25519.pem"
PUBLIC_KEY_FILE = "ledger-ed25519.pub.pem"


class KeyStore(Protocol):
    """Where the ledger's signing key lives."""

    def ledger_private_key(self) -> Ed25519PrivateKey:
        """Return the key that signs checkpoints."""
        ...

    def ledger_public_key(self) -> Ed25519PublicKey:
        """Return the key that verifies checkpoints."""
        ...


def key_id(public_key: Ed25519PublicKey) -> str:
    """Return the key's id: the first 8 bytes, in hex, of SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256(raw).digest()[:8].hex()


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """Return the public key as SubjectPublicKeyInfo PEM, the form to publish."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read an Ed25519 public key from a PEM file."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise KeyNotFoundError(f"{path}: no such public key file") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyStoreError(f"{path}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyStoreError(f"{path}: expected an Ed25519 key, got {type(key).__name__}")
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an unencrypted PKCS8 PEM Ed25519 private key, refusing a file others can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyNotFoundError(f"{path}: no such private key file") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileInsecureError(f"{path}: mode {stat.S_IMODE(mode):04o}, expected 0600")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyStoreError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyStoreError(f"{path}: expected an Ed25519 key, got {type(key).__name__}")
    return key


class FileKeyStore:
    """The signing key as two PEM files in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.private_path = directory / PRIVATE_KEY_FILE
        self.public_path = directory / PUBLIC_KEY_FILE

    def init(self) -> Path:
        """Create a new key pair and return the private key's path; never overwrite one."""
        for path in (self.private_path, self.public_path):
            if path.exists():
                raise KeyExistsError(
                    f"{path} already exists; a new key would not verify earlier checkpoints"
                )
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_new(self.private_path, pem, 0o600)
        _write_new(self.public_path, public_key_pem(key.public_key()).encode("ascii"), 0o644)
        return self.private_path

    def ledger_private_key(self) -> Ed25519PrivateKey:
        """Return the signing key, checked against the published public key if present."""
        key = load_private_key(self.private_path)
        if self.public_path.exists() and key_id(key.public_key()) != key_id(
            load_public_key(self.public_path)
        ):
            raise KeyStoreError(f"{self.private_path} does not match {self.public_path}")
        return key

    def ledger_public_key(self) -> Ed25519PublicKey:
        """Return the published public key."""
        return load_public_key(self.public_path)

    def public_key_pem(self) -> str:
        """Return the public key PEM to publish."""
        return public_key_pem(self.ledger_public_key())


class MemoryKeyStore:
    """An in-memory key store for tests, behaving as `FileKeyStore` does once initialised."""

    def __init__(self, private_key: Ed25519PrivateKey | None = None) -> None:
        self._key = private_key or Ed25519PrivateKey.generate()

    def ledger_private_key(self) -> Ed25519PrivateKey:
        """Return the signing key."""
        return self._key

    def ledger_public_key(self) -> Ed25519PublicKey:
        """Return the verifying key."""
        return self._key.public_key()


def _write_new(path: Path, content: bytes, mode: int) -> None:
    # O_EXCL makes the refusal to overwrite atomic: two concurrent inits cannot both win.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise KeyExistsError(f"{path} already exists") from None
    with os.fdopen(fd, "wb") as file:
        # The umask may have narrowed `mode`; set it exactly.
        os.fchmod(fd, mode)
        file.write(content)
        file.flush()
        os.fsync(fd)
