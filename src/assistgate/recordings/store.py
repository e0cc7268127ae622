"""Where sealed recordings live: a small blob-store interface, a folder on disk, and the vault.

`BlobStore` is what an object store (S3, Azure Blob, a recorder vendor's archive) would
implement; `FileBlobStore` keeps each sealed recording as `<root>/<first two hex digits>/
<sha256>.agrec`, written whole or not at all (temporary file, fsync, rename, fsync of the
folder). `Vault` joins a store and a key store: it seals originals on the way in and opens
them, whole or a byte range, on the way out. It never transcodes: the bytes that come out are
the bytes that went in.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from assistgate.recordings.crypto import (
    CHUNK,
    FileRecordingKeyStore,
    RecordingKeyError,
    RecordingKeyStore,
    SealedError,
    check_sealed,
    open_chunks,
    read_header,
    seal,
)

SUFFIX = ".agrec"
_NAME = re.compile(r"[0-9a-f]{64}")


class BlobMissing(FileNotFoundError):
    """No stored blob has this name."""


class BlobStore(Protocol):
    """A place to keep sealed recordings by name (their SHA-256 in hex)."""

    def put(self, name: str, chunks: Iterable[bytes]) -> None:
        """Store `chunks` under `name`, whole or not at all; replace nothing that exists."""
        ...

    def open(self, name: str) -> BinaryIO:
        """Open the blob for reading (seekable), or raise `BlobMissing`."""
        ...

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None:
        """Remove the blob for good (retention has run out)."""
        ...

    def names(self) -> Iterator[str]:
        """Yield every stored blob's name."""
        ...


class FileBlobStore:
    """Sealed recordings as files under one folder (the data directory's `recordings/`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a SHA-256 in lowercase hex: {name!r}")
        return self.root / name[:2] / f"{name}{SUFFIX}"

    def put(self, name: str, chunks: Iterable[bytes]) -> None:
        target = self.path(name)
        if target.exists():
            return  # content-addressed: the same name holds the same original
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=target.parent)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def open(self, name: str) -> BinaryIO:
        try:
            return self.path(name).open("rb")
        except FileNotFoundError:
            raise BlobMissing(f"no stored file for recording {name}") from None

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def delete(self, name: str) -> None:
        path = self.path(name)
        path.unlink(missing_ok=True)
        _fsync_dir(path.parent)

    def names(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for path in sorted(self.root.glob(f"??/*{SUFFIX}")):
            name = path.name.removesuffix(SUFFIX)
            if _NAME.fullmatch(name):
                yield name


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Vault:
    """Seals originals into a blob store and opens them again, checking every byte."""

    blobs: BlobStore
    keys: RecordingKeyStore
    chunk_size: int = CHUNK

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> Vault:
        """Return the default vault: `<data dir>/recordings` and the key in `<data dir>/keys`."""
        return cls(FileBlobStore(data_dir / "recordings"), FileRecordingKeyStore(data_dir / "keys"))

    def ensure_key(self) -> None:
        """Create the file key on first use, but never while recordings sealed under one exist."""
        if not isinstance(self.keys, FileRecordingKeyStore) or self.keys.exists():
            return
        if next(self.blobs.names(), None) is not None:
            raise RecordingKeyError(f"{self.keys.path} is missing but recordings are stored: "
                                    "restore the key from its backup")  # fmt: skip
        self.keys.init()

    def put(self, data: bytes) -> str:
        """Seal and store `data`; return its SHA-256 (hex). Storing it again changes nothing."""
        name = hashlib.sha256(data).hexdigest()
        self.ensure_key()
        if not self.blobs.exists(name):
            self.blobs.put(name, seal(data, self.keys.current(), chunk_size=self.chunk_size))
        return name

    def size(self, name: str) -> int:
        """Return the original's size, from the sealed file's header."""
        with self.blobs.open(name) as file:
            return read_header(file).size

    def read(self, name: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the original's bytes `start`..`end` (inclusive; default: all), decrypted.

        Each chunk is authenticated before any of it is yielded; a whole read also checks the
        SHA-256, so a reader never gets bytes that are not the original's.
        """
        with self.blobs.open(name) as file:
            header = read_header(file)
            file.seek(0)
            stop = header.size - 1 if end is None else min(end, header.size - 1)
            if start > stop:
                return
            whole = start == 0 and stop == header.size - 1
            digest = hashlib.sha256()
            first, last = start // header.chunk_size, stop // header.chunk_size
            for index, chunk in open_chunks(file, self.keys, first, last):
                if whole:
                    digest.update(chunk)
                base = index * header.chunk_size
                piece = chunk[max(start - base, 0) : stop - base + 1]
                if whole and index == last and digest.hexdigest() != name:
                    raise SealedError(f"recording {name} decrypts to different bytes")
                yield piece

    def check(self, name: str) -> int:
        """Decrypt and re-hash one stored recording; return its size or raise what is wrong."""
        with self.blobs.open(name) as file:
            return check_sealed(file, self.keys, name)
