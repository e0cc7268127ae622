"""Benchmark taking recordings in: the sealed store next to a plain file copy of the same files.

    python bench/recordings_bench.py                    # 24 files of 4 MB (96 MB)
    python bench/recordings_bench.py --files 8 --mb 32 --repeat 3

What it does, in one run, in a temporary folder on the same disk:

1. makes `--files` real WAV files (8 kHz 16-bit mono, a tone with noise) of about `--mb` MB;
2. baseline: copies each file into a folder as durably as the store writes (read the bytes,
   write a temporary file, fsync, rename, fsync the folder);
3. sealed: `Vault.put` on each file's bytes after `sniff` (format and duration read from the
   content, the whole container walked): SHA-256, AES-256-GCM in 1 MiB chunks, the same
   temporary file, fsync and rename; then `Vault.check` of every file (decrypt and re-hash,
   what `recordings verify` does);
4. prints MB/s for each (best and median of --repeat runs, a fresh folder each run).

The database row and ledger entry of a real ingest are not included: they cost the same for a
4 kB file as for a 4 GB one; `tests/recordings` covers them.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import random
import statistics
import struct
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

from assistgate.recordings.crypto import MemoryRecordingKeyStore
from assistgate.recordings.formats import sniff
from assistgate.recordings.store import FileBlobStore, Vault


def make_wav(megabytes: float, seed: int) -> bytes:
    """Return a real WAV of about `megabytes` MB: a soft tone with noise, 8 kHz 16-bit mono."""
    rng = random.Random(seed)
    frames = int(megabytes * 1_000_000 / 2)
    period = [int(3000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(8000)]
    noise = [rng.randint(-400, 400) for _ in range(8191)]
    samples = struct.pack(f"<{8000}h", *[period[i] + noise[i % 8191] for i in range(8000)])
    body = (samples * (frames // 8000 + 1))[: frames * 2]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(body)
    return out.getvalue()


def durable_copy(source: Path, folder: Path) -> None:
    data = source.read_bytes()
    target = folder / source.name
    temp = folder / f".{source.name}.tmp"
    with temp.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp, target)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def timed(run: Callable[[Path], None], root: Path, repeat: int) -> list[float]:
    times = []
    for n in range(repeat):
        folder = root / f"run-{run.__name__}-{n}"
        folder.mkdir()
        started = time.perf_counter()
        run(folder)
        times.append(time.perf_counter() - started)
    return times


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--mb", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: tmp)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as temp:
        root = Path(temp)
        sources = root / "sources"
        sources.mkdir()
        paths = []
        for n in range(args.files):
            path = sources / f"call-{n:03d}.wav"
            path.write_bytes(make_wav(args.mb, n))
            paths.append(path)
        total = sum(p.stat().st_size for p in paths) / 1_000_000
        keys = MemoryRecordingKeyStore()

        def plain_copy(folder: Path) -> None:
            for path in paths:
                durable_copy(path, folder)

        def sealed_store(folder: Path) -> None:
            vault = Vault(FileBlobStore(folder), keys)
            for path in paths:
                data = path.read_bytes()
                sniff(data)
                vault.put(data)

        def sealed_verify(folder: Path) -> None:
            vault = Vault(FileBlobStore(folder), keys)
            names = [vault.put(p.read_bytes()) for p in paths]
            started = time.perf_counter()
            for name in names:
                vault.check(name)
            verify_times.append(time.perf_counter() - started)

        verify_times: list[float] = []
        copy = timed(plain_copy, root, args.repeat)
        seal = timed(sealed_store, root, args.repeat)
        timed(sealed_verify, root, args.repeat)
    machine = f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    print(f"recordings_bench: {args.files} WAV files, {total:.1f} MB in all; {machine}")
    for label, times in (("plain durable copy (baseline)", copy),
                         ("sniff + seal (AES-256-GCM) + store", seal),
                         ("verify (decrypt + SHA-256)", verify_times)):  # fmt: skip
        print(f"  {label:36} best {total / min(times):8.1f} MB/s   "
              f"median {total / statistics.median(times):8.1f} MB/s")  # fmt: skip
    print(f"  sealed store / plain copy (best): {min(copy) / min(seal):.2f}x the copy's speed")


if __name__ == "__main__":
    main(sys.argv[1:])
