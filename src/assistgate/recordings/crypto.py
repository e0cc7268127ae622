"""Recordings at rest: AES-256-GCM in authenticated chunks, under a key from a key store.

A stored recording is a header and the original bytes in chunks of CHUNK bytes, each sealed
with AES-256-GCM. Every chunk's associated data is the whole header (which names the key, the
original's size and its SHA-256) plus the chunk's number and whether it is the last: a chunk
changed, moved, dropped or added, a header edited, or a file cut short fails to decrypt. The
chunks let playback decrypt only the part a listener seeks to.

Header (68 bytes): MAGIC (8) | key id (8) | nonce prefix (8, random) | chunk size (4, big
endian) | original size (8) | SHA-256 of the original (32). Chunk i's nonce is the prefix
followed by i (4 bytes, big endian), so no nonce repeats under one key.

The key store follows the ledger's (`assistgate.ledger.keys`): an interface, a file in the
data directory's key folder (mode 0600) by default, and an in-memory store for tests; an HSM
or a cloud KMS can implement `RecordingKeyStore` without touching the rest.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"AGREC1\n\x00"
CHUNK = 1 << 20
TAG = 16
_HEADER = struct.Struct(">8s8s8sIQ32s")
HEADER_SIZE = _HEADER.size
KEY_FILE = "recordings-aes256.key"


class RecordingKeyError(Exception):
    """The recordings' key is missing, unreadable or exposed; the message says which."""


class SealedError(ValueError):
    """A stored recording does not decrypt or does not match its hash: altered or cut short."""


@dataclass(frozen=True)
class RecordingKey:
    key_id: bytes  # the first 8 bytes of SHA-256 of the key: names it without revealing it
    secret: bytes


def _key(secret: bytes) -> RecordingKey:
    return RecordingKey(hashlib.sha256(b"assistgate recordings key id\x00" + secret).digest()[:8],
                        secret)  # fmt: skip


class RecordingKeyStore(Protocol):
    """Where the key that encrypts recordings lives."""

    def current(self) -> RecordingKey:
        """Return the key new recordings are sealed under."""
        ...

    def by_id(self, key_id: bytes) -> RecordingKey:
        """Return the key named `key_id` (older recordings may use a retired one)."""
        ...


class FileRecordingKeyStore:
    """The key as 64 hex digits in `<keys>/recordings-aes256.key`, readable by its owner only."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / KEY_FILE

    def exists(self) -> bool:
        return self.path.exists()

    def init(self) -> RecordingKey:
        """Create a new random key; never overwrite one (its recordings would be lost)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        secret = secrets.token_bytes(32)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise RecordingKeyError(f"{self.path} already exists; a new key would not open "
                                    "the recordings sealed under it") from None  # fmt: skip
        with os.fdopen(fd, "w", encoding="ascii") as file:
            os.fchmod(fd, 0o600)
            file.write(secret.hex() + "\n")
            file.flush()
            os.fsync(fd)
        return _key(secret)

    def current(self) -> RecordingKey:
        """Read the key, refusing a file others can read or one that is not 32 bytes of hex."""
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            raise RecordingKeyError(f"{self.path}: the recordings' key is missing") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise RecordingKeyError(f"{self.path}: mode {stat.S_IMODE(mode):04o}, expected 0600")
        text = self.path.read_text(encoding="ascii", errors="replace").strip()
        try:
            secret = bytes.fromhex(text)
        except ValueError:
            secret = b""
        if len(secret) != 32:
            raise RecordingKeyError(f"{self.path}: expected 64 hexadecimal digits (256 bits)")
        return _key(secret)

    def by_id(self, key_id: bytes) -> RecordingKey:
        key = self.current()
        if key.key_id != key_id:
            raise RecordingKeyError(f"no key {key_id.hex()} in {self.directory} (the current "
                                    f"one is {key.key_id.hex()})")  # fmt: skip
        return key


class MemoryRecordingKeyStore:
    """Keys held in memory, for tests; `rotate` makes a new current key and keeps the old."""

    def __init__(self) -> None:
        self._keys: list[RecordingKey] = []
        self.rotate()

    def rotate(self) -> RecordingKey:
        self._keys.append(_key(secrets.token_bytes(32)))
        return self._keys[-1]

    def current(self) -> RecordingKey:
        return self._keys[-1]

    def by_id(self, key_id: bytes) -> RecordingKey:
        for key in self._keys:
            if key.key_id == key_id:
                return key
        raise RecordingKeyError(f"no key {key_id.hex()} in memory")


@dataclass(frozen=True)
class Header:
    key_id: bytes
    nonce_prefix: bytes
    chunk_size: int
    size: int
    sha256: bytes

    def pack(self) -> bytes:
        return _HEADER.pack(MAGIC, self.key_id, self.nonce_prefix, self.chunk_size, self.size,
                            self.sha256)  # fmt: skip

    @property
    def chunks(self) -> int:
        return max(1, -(-self.size // self.chunk_size))

    def sealed_size(self) -> int:
        return HEADER_SIZE + self.size + self.chunks * TAG


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">IB", index, last)


def seal(data: bytes, key: RecordingKey, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """Yield the sealed form of `data`: the header, then each encrypted chunk."""
    header = Header(key.key_id, secrets.token_bytes(8), chunk_size, len(data),
                    hashlib.sha256(data).digest())  # fmt: skip
    packed = header.pack()
    yield packed
    aes = AESGCM(key.secret)
    view = memoryview(data)
    for index in range(header.chunks):
        chunk = view[index * chunk_size : (index + 1) * chunk_size]
        nonce = header.nonce_prefix + struct.pack(">I", index)
        yield aes.encrypt(nonce, bytes(chunk), _aad(packed, index, index == header.chunks - 1))


def read_header(file: BinaryIO) -> Header:
    """Read and check the header at the start of a sealed file."""
    raw = file.read(HEADER_SIZE)
    if len(raw) != HEADER_SIZE:
        raise SealedError(f"the stored file is {len(raw)} bytes: shorter than its header")
    magic, key_id, prefix, chunk_size, size, digest = _HEADER.unpack(raw)
    if magic != MAGIC or chunk_size == 0:
        raise SealedError("the stored file does not start with a recording header")
    return Header(key_id, prefix, chunk_size, size, digest)


def open_chunks(file: BinaryIO, keys: RecordingKeyStore, first: int = 0,
                last: int | None = None) -> Iterator[tuple[int, bytes]]:  # fmt: skip
    """Yield (index, plaintext) for chunks `first`..`last` of a sealed file, each authenticated.

    Raises `SealedError` naming the first chunk that does not decrypt, and `RecordingKeyError`
    when the key it names is not in the store.
    """
    header = read_header(file)
    packed, aes = header.pack(), AESGCM(keys.by_id(header.key_id).secret)
    last = header.chunks - 1 if last is None else min(last, header.chunks - 1)
    file.seek(HEADER_SIZE + first * (header.chunk_size + TAG))
    for index in range(first, last + 1):
        plain_len = min(header.chunk_size, header.size - index * header.chunk_size)
        sealed = file.read(plain_len + TAG)
        nonce = header.nonce_prefix + struct.pack(">I", index)
        try:
            yield index, aes.decrypt(nonce, sealed, _aad(packed, index,
                                                         index == header.chunks - 1))  # fmt: skip
        except InvalidTag:
            raise SealedError(f"chunk {index} of {header.chunks} fails authentication: the "
                              "stored file was altered or cut short") from None  # fmt: skip


def check_sealed(file: BinaryIO, keys: RecordingKeyStore, sha256_hex: str) -> int:
    """Decrypt a whole sealed file and re-hash it; return its size or raise `SealedError`."""
    header = read_header(file)
    if header.sha256.hex() != sha256_hex:
        raise SealedError(f"the stored file's header names {header.sha256.hex()}, "
                          f"not {sha256_hex}")  # fmt: skip
    file.seek(0)
    digest, size = hashlib.sha256(), 0
    for _, chunk in open_chunks(file, keys):
        digest.update(chunk)
        size += len(chunk)
    if file.read(1):
        raise SealedError("the stored file has bytes after its last chunk")
    if size != header.size or digest.hexdigest() != sha256_hex:
        raise SealedError(f"decrypted, the recording hashes to {digest.hexdigest()}, not "
                          f"{sha256_hex}")  # fmt: skip
    return size
