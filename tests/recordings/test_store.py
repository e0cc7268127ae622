"""Sealed at rest: what goes in comes out byte for byte; any change to the stored file is caught."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from assistgate.recordings.crypto import (
    HEADER_SIZE,
    FileRecordingKeyStore,
    MemoryRecordingKeyStore,
    RecordingKeyError,
    SealedError,
)
from assistgate.recordings.store import BlobMissing, FileBlobStore, Vault


def vault(tmp_path: Path, chunk_size: int = 4096) -> Vault:
    return Vault(FileBlobStore(tmp_path / "recordings"), FileRecordingKeyStore(tmp_path / "keys"),
                 chunk_size=chunk_size)  # fmt: skip


def test_a_recording_comes_back_whole_and_is_not_stored_in_the_clear(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    v = vault(tmp_path)
    original = audio["wav"].read_bytes()
    name = v.put(original)
    assert name == hashlib.sha256(original).hexdigest()
    assert b"".join(v.read(name)) == original
    stored = (tmp_path / "recordings" / name[:2] / f"{name}.agrec").read_bytes()
    assert original[:4096] not in stored
    assert original[-4096:] not in stored
    assert v.check(name) == len(original)
    key = tmp_path / "keys" / "recordings-aes256.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"


def test_storing_the_same_bytes_twice_keeps_one_file(tmp_path: Path) -> None:
    v = vault(tmp_path)
    first = v.put(b"RIFF same bytes")
    path = tmp_path / "recordings" / first[:2] / f"{first}.agrec"
    before = path.stat().st_mtime_ns
    assert v.put(b"RIFF same bytes") == first
    assert path.stat().st_mtime_ns == before
    assert list(v.blobs.names()) == [first]


@pytest.mark.parametrize(("start", "end"), [(0, 0), (0, 4095), (4095, 4096), (100, 20_000),
                                            (12_000, None), (30_000, 10**9)])  # fmt: skip
def test_any_byte_range_decrypts_to_the_same_bytes_as_the_original(
    tmp_path: Path, start: int, end: int | None
) -> None:
    v = vault(tmp_path)
    original = os.urandom(33_333)
    name = v.put(original)
    stop = len(original) if end is None else end + 1
    assert b"".join(v.read(name, start, end)) == original[start:stop]


@pytest.mark.parametrize("where", ["header", "first chunk", "last byte"])
def test_one_flipped_byte_anywhere_in_the_stored_file_is_caught(tmp_path: Path, where: str) -> None:
    v = vault(tmp_path)
    name = v.put(os.urandom(10_000))
    path = tmp_path / "recordings" / name[:2] / f"{name}.agrec"
    data = bytearray(path.read_bytes())
    at = {"header": 30, "first chunk": HEADER_SIZE + 5, "last byte": len(data) - 1}[where]
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(SealedError):
        v.check(name)
    with pytest.raises(SealedError):
        b"".join(v.read(name))


def test_a_stored_file_cut_short_or_extended_is_caught(tmp_path: Path) -> None:
    v = vault(tmp_path)
    name = v.put(os.urandom(10_000))
    path = tmp_path / "recordings" / name[:2] / f"{name}.agrec"
    whole = path.read_bytes()
    path.write_bytes(whole[: -4096 - 16])  # a whole last chunk gone
    with pytest.raises(SealedError):
        v.check(name)
    path.write_bytes(whole + b"\x00")
    with pytest.raises(SealedError, match="after its last chunk"):
        v.check(name)


def test_two_stored_files_swapped_are_caught(tmp_path: Path) -> None:
    v = vault(tmp_path)
    a, b = v.put(b"first recording" * 100), v.put(b"second recording" * 100)
    pa = tmp_path / "recordings" / a[:2] / f"{a}.agrec"
    pb = tmp_path / "recordings" / b[:2] / f"{b}.agrec"
    pa.write_bytes(pb.read_bytes())
    with pytest.raises(SealedError, match="names"):
        v.check(a)


def test_a_missing_stored_file_is_reported_as_missing(tmp_path: Path) -> None:
    v = vault(tmp_path)
    with pytest.raises(BlobMissing):
        v.check("ab" * 32)


def test_the_key_file_must_be_private_and_is_never_replaced(tmp_path: Path) -> None:
    v = vault(tmp_path)
    v.put(b"anything")
    keys = FileRecordingKeyStore(tmp_path / "keys")
    with pytest.raises(RecordingKeyError, match="already exists"):
        keys.init()
    keys.path.chmod(0o644)
    with pytest.raises(RecordingKeyError, match="0644"):
        keys.current()


def test_a_lost_key_is_not_silently_replaced_while_recordings_exist(tmp_path: Path) -> None:
    v = vault(tmp_path)
    v.put(b"sealed under the first key")
    (tmp_path / "keys" / "recordings-aes256.key").unlink()
    with pytest.raises(RecordingKeyError, match="restore the key"):
        v.put(b"another")


def test_recordings_sealed_under_a_retired_key_still_open(tmp_path: Path) -> None:
    keys = MemoryRecordingKeyStore()
    v = Vault(FileBlobStore(tmp_path), keys)
    old = v.put(b"before the rotation")
    keys.rotate()
    new = v.put(b"after the rotation")
    assert b"".join(v.read(old)) == b"before the rotation"
    assert b"".join(v.read(new)) == b"after the rotation"
    assert v.check(old)
    assert v.check(new)
