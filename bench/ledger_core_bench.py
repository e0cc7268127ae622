"""Benchmark the ledger's pure core: Merkle root, export verification, inclusion proofs.

    python bench/ledger_core_bench.py               # 1,000,000 entries
    python bench/ledger_core_bench.py --n 100000 --repeat 5

What it does, in one run:

1. makes `--n` entries in memory (four steps per request, data like the service writes) and
   their leaf hashes;
2. times the RFC 6962 root of the leaf hashes with `root_hash` (level by level) and with a
   `TreeBuilder` fed one leaf at a time (as a verifier streaming an export does), best and
   median of --repeat runs, and checks both give the same root;
3. writes the export (every entry's canonical JSON line, then the signed checkpoint) into an
   in-memory list of lines, drops the entries, and times `verify_export` over the list: every
   line parsed, checked canonical and valid, hashed into the tree, the root compared with the
   checkpoint and the Ed25519 signature checked;
4. builds inclusion proofs for --proofs leaves spread over the tree (each costs O(n) hashes,
   as `inclusion_proof` recomputes sibling subtrees from the leaves) and times
   `verify_inclusion`, averaged over --verifications calls.

The garbage collector stays on; it is run before every timed run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assistgate.ledger import (
    Checkpoint,
    Entry,
    TreeBuilder,
    export_lines,
    inclusion_proof,
    root_hash,
    sign_checkpoint,
    utc_timestamp,
    verify_export,
    verify_inclusion,
)

DEFAULT_N = 1_000_000
DEFAULT_REPEAT = 3
DEFAULT_PROOFS = 8
DEFAULT_VERIFICATIONS = 20_000
SEED = 20170922
START = dt.datetime(2017, 10, 2, 14, 3, 7, 123456, tzinfo=dt.UTC)
EVENTS = ("request:created", "request:claimed", "request:assessed", "request:declined")
ORIGIN = "assistgate.example/louisville-lmpd"


def make_entries(n: int) -> list[Entry]:
    """Return entries 0..n-1, a second apart, four steps per request."""
    return [
        Entry(
            seq=seq,
            at=utc_timestamp(START + dt.timedelta(seconds=seq)),
            actor=f"officer:{400 + seq % 37}",
            event=EVENTS[seq % 4],
            subject=f"LMPD-2017-{seq // 4:07d}",
            data={"agency": "ICE", "step": seq % 4, "note": f"étape {seq}"},
        )
        for seq in range(n)
    ]


def timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    """Run `fn` `repeat` times; return the seconds of each run and the last result."""
    times: list[float] = []
    result: object = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def build_with_tree_builder(leaves: Sequence[bytes]) -> bytes:
    builder = TreeBuilder()
    for leaf in leaves:
        builder.append(leaf)
    return builder.root()


def describe(times: list[float]) -> str:
    return f"best {min(times):.3f} s, median {statistics.median(times):.3f} s"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected a positive integer")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=positive_int, default=DEFAULT_N, help="entries in the ledger")
    p.add_argument("--repeat", type=positive_int, default=DEFAULT_REPEAT, help="timed runs")
    p.add_argument(
        "--proofs", type=positive_int, default=DEFAULT_PROOFS, help="inclusion proofs built"
    )
    p.add_argument(
        "--verifications",
        type=positive_int,
        default=DEFAULT_VERIFICATIONS,
        help="inclusion proof verifications averaged",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    n: int = args.n
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"cryptography {importlib.metadata.version('cryptography')}, n = {n:,}"
    )

    t0 = time.perf_counter()
    entries = make_entries(n)
    print(f"made {n:,} entries in {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    leaves = [entry.leaf() for entry in entries]
    leaf_s = time.perf_counter() - t0
    print(f"leaf hashes (canonical JSON + SHA-256): {leaf_s:.3f} s, {leaf_s / n * 1e6:.2f} µs each")

    root_times, root = timed(lambda: root_hash(leaves), args.repeat)
    print(f"root_hash of {n:,} leaf hashes: {describe(root_times)}")
    builder_times, builder_root = timed(lambda: build_with_tree_builder(leaves), args.repeat)
    print(f"TreeBuilder, {n:,} appends + root: {describe(builder_times)}")
    if builder_root != root:
        print("TreeBuilder and root_hash disagree", file=sys.stderr)
        return 1
    assert isinstance(root, bytes)

    key = Ed25519PrivateKey.generate()
    checkpoint = sign_checkpoint(
        Checkpoint(origin=ORIGIN, size=n, root=root, at=utc_timestamp(dt.datetime.now(dt.UTC))),
        key,
    )
    t0 = time.perf_counter()
    lines = list(export_lines(entries, checkpoint))
    print(f"wrote the export ({len(lines):,} lines in memory) in {time.perf_counter() - t0:.2f} s")
    entries = []  # free them: the verifier gets only the lines
    verify_times, report = timed(lambda: verify_export(lines, key.public_key()), args.repeat)
    best = min(verify_times)
    print(
        f"verify_export of {n:,} entries: {describe(verify_times)}, "
        f"{best / n * 1e6:.2f} µs per line"
    )
    lines = []

    rng = random.Random(SEED)
    indexes = sorted({0, n - 1, *(rng.randrange(n) for _ in range(args.proofs - 2))})
    t0 = time.perf_counter()
    proofs = [(i, inclusion_proof(i, leaves)) for i in indexes]
    build_s = (time.perf_counter() - t0) / len(proofs)
    print(f"inclusion_proof over {n:,} leaves: {build_s * 1e3:.1f} ms each (O(n), no node cache)")
    calls = [proofs[i % len(proofs)] for i in range(args.verifications)]
    gc.collect()
    t0 = time.perf_counter()
    for index, proof in calls:
        verify_inclusion(index, n, leaves[index], proof, root)
    per_call = (time.perf_counter() - t0) / len(calls)
    print(
        f"verify_inclusion ({len(proofs[0][1])} hashes in the proof): "
        f"{per_call * 1e6:.1f} µs per call, average of {len(calls):,}"
    )
    assert report is not None
    return 0


if __name__ == "__main__":
    sys.exit(main())
