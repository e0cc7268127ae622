"""Benchmark the register's durability cost and the stored ledger's verification.

    python bench/ledger_bench.py                          # SQLite; add --postgres URL
    python bench/ledger_bench.py --steps 3000 --verify-entries 1000000

In one run, for each database:

1. **Durable steps per second.** A commanding officer claims and releases requests, each step
   one transaction that changes the request row and appends its signed ledger entry (SQLite in
   WAL mode with synchronous=FULL; PostgreSQL with fsync on), next to the **plain insert rate**
   of the same database: one small row per committed transaction, same durability settings.
   The ratio of the two is the figure: what the ledger costs on top of a durable commit.
2. **Verifying a ledger of N entries** (default 1,000,000) with `verify_database`: entries made
   in bulk exactly as the service makes them (a request created in full, then alerted,
   claimed, released and cancelled: five entries per request), their request rows, the signed
   head and history checkpoints; the timer covers reading every entry, checking it, hashing the
   tree, checking every signature and comparing every request row with its entries.
3. **Checking one inclusion proof** against the head, averaged over many calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text, update

from assistgate.app import App, open_app
from assistgate.auth.enums import Role
from assistgate.auth.service import add_user
from assistgate.db.session import make_engine
from assistgate.ledger.entry import Entry, utc_timestamp
from assistgate.ledger.hashing import leaf_hash
from assistgate.ledger.keys import MemoryKeyStore
from assistgate.ledger.merkle import TreeBuilder, inclusion_proof, verify_inclusion
from assistgate.ledger.models import CheckpointRow, LedgerEntryRow, LedgerHead
from assistgate.ledger.store import HEAD_ID, HISTORY_EVERY
from assistgate.ledger.verify import verify_database
from assistgate.requests import service
from assistgate.requests.models import Request
from assistgate.requests.snapshot import request_snapshot
from assistgate.settings import Settings

T0 = dt.datetime(2026, 1, 5, 14, 0, tzinfo=dt.UTC)


def open_bench_app(url: str, data_dir: Path) -> App:
    app = open_app(replace(Settings(), data_dir=data_dir, database_url=url), keys=MemoryKeyStore())
    with app.transaction() as session:
        add_user(session, username="ct.bench", display_name="bench", roles=[Role.CALL_TAKER])
        add_user(session, username="lt.bench", display_name="bench", roles=[Role.COMMANDER])
    return app


def durable_steps(app: App, steps: int) -> float:
    """Return committed register steps per second (claim, release, claim, ...)."""
    refs = []
    for i in range(20):
        with app.transaction() as session:
            r = service.create_request(
                session, app.deployment, actor=app.user(session, "ct.bench"), received_at=T0,
                agency="ice-ero", official_name="Bench (fictional)", location="100 Main St",
                caller_words=f"bench {i}", requested_actions=["backup"],
                identity_check="callback_known_number", now=T0)  # fmt: skip
            refs.append(r.ref)
    started = time.perf_counter()
    for i in range(steps):
        ref = refs[i % len(refs)]
        fn = service.claim if (i // len(refs)) % 2 == 0 else service.release
        with app.transaction() as session:
            fn(session, app.deployment, actor=app.user(session, "lt.bench"), ref=ref)
    return steps / (time.perf_counter() - started)


def plain_inserts(engine: Engine, count: int) -> float:
    """Return committed single-row inserts per second on the same database."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_plain (id INTEGER PRIMARY KEY, note VARCHAR(64))"))
    started = time.perf_counter()
    for i in range(count):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_plain (id, note) VALUES (:i, :n)"),
                         {"i": i, "n": f"row {i}"})  # fmt: skip
    rate = count / (time.perf_counter() - started)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_plain"))
    return rate


def fill_ledger(app: App, entries: int) -> None:
    """Write `entries` entries and their request rows in bulk, as the service would."""
    per_request = 5
    keys = app.keys.ledger_private_key()
    origin = app.deployment.ledger.origin
    tree = TreeBuilder()
    seq = 0
    at = T0
    batch_rows: list[dict[str, Any]] = []
    batch_requests: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    from assistgate.ledger.checkpoint import Checkpoint, sign_checkpoint

    def add(subject: str, event: str, data: dict[str, Any]) -> None:
        nonlocal seq, at
        at += dt.timedelta(milliseconds=250)
        stamp = utc_timestamp(at)
        body = Entry(seq=seq, at=stamp, actor="lt.bench", event=event, subject=subject,
                     data=data).to_bytes()  # fmt: skip
        leaf = leaf_hash(body)
        tree.append(leaf)
        batch_rows.append({"seq": seq, "at": stamp, "actor": "lt.bench", "event": event,
                           "subject": subject, "body": body, "leaf_hash": leaf})  # fmt: skip
        seq += 1
        if tree.size % HISTORY_EVERY == 0:
            cp = sign_checkpoint(Checkpoint(origin, tree.size, tree.root(), stamp), keys)
            history.append({"size": tree.size, "signed": cp.to_json(), "created_at": at})

    with app.engine.begin() as conn:
        for n in range(entries // per_request):
            ref = f"AG-2026-{n + 1:07d}"
            req = Request(
                ref=ref, cad_incident_id=None, received_at=T0, state="received",
                agency="ice-ero", official_name="Bench (fictional)", official_badge="",
                callback_number="", identity_check="callback_known_number", identity_note="",
                location="100 block of Main St", district="1", caller_words=f"bench {n}",
                requested_actions=["backup"], call_taker="ct.bench", commander=None, units=[],
                escalation_level=0,
                exceptions={}, flagged_for_review=False, cancel_reason="", outcome=None,
                dispatched_at=None, arrived_at=None, cleared_at=None, recording_sha256=None,
                closed_at=None,
            )  # fmt: skip
            add(ref, "request:created", {"request": request_snapshot(req)})
            add(ref, "request:alerted", {"request": {"state": "awaiting_review"}})
            add(
                ref,
                "request:claimed",
                {"request": {"state": "under_review", "commander": "lt.bench"}},
            )
            add(
                ref,
                "request:released",
                {"request": {"state": "awaiting_review", "commander": None}},
            )
            add(
                ref,
                "request:cancelled",
                {"request": {"state": "cancelled", "cancel_reason": "bench"}},
            )
            final = {**request_snapshot(req), "state": "cancelled", "cancel_reason": "bench"}
            final["received_at"] = T0
            batch_requests.append(final | {"created_at": T0})
            if len(batch_rows) >= 50_000:
                conn.execute(insert(Request), batch_requests)
                conn.execute(insert(LedgerEntryRow), batch_rows)
                batch_rows.clear()
                batch_requests.clear()
        if batch_rows:
            conn.execute(insert(Request), batch_requests)
            conn.execute(insert(LedgerEntryRow), batch_rows)
        if history:
            conn.execute(insert(CheckpointRow), history)
        head = sign_checkpoint(Checkpoint(origin, tree.size, tree.root(), utc_timestamp(at)),
                               keys).to_json()  # fmt: skip
        conn.execute(update(LedgerHead).where(LedgerHead.id == HEAD_ID).values(
            size=tree.size, stack=[h.hex() for h in tree.state()], last_at=utc_timestamp(at),
            checkpoint=head))  # fmt: skip


def verify_time(app: App) -> tuple[float, int]:
    started = time.perf_counter()
    with app.sessions() as session:
        report = verify_database(session, app.keys.ledger_public_key())
    took = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"the generated ledger does not verify: {report.first()}")
    return took, report.entries


def proof_check_us(app: App, calls: int) -> float:
    with app.engine.connect() as conn:
        leaves = [bytes(r[0]) for r in conn.execute(text(
            "SELECT leaf_hash FROM ledger_entries ORDER BY seq"))]  # fmt: skip
    tree = TreeBuilder()
    for leaf in leaves:
        tree.append(leaf)
    root, size = tree.root(), len(leaves)
    indexes = [size // 7 * k % size for k in range(1, 8)]
    proofs = {i: inclusion_proof(i, leaves) for i in indexes}
    started = time.perf_counter()
    for c in range(calls):
        i = indexes[c % len(indexes)]
        verify_inclusion(i, size, leaves[i], proofs[i], root)
    return (time.perf_counter() - started) / calls * 1e6


def bench_database(name: str, url: str, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    app = open_bench_app(fresh_database(name, url, data_dir, "steps"), data_dir)
    try:
        steps = [durable_steps(app, args.steps) for _ in range(args.repeat)]
        plain = [plain_inserts(app.engine, args.steps) for _ in range(args.repeat)]
    finally:
        app.close()
    result: dict[str, Any] = {
        "database": name,
        "steps_per_s": statistics.median(steps),
        "plain_inserts_per_s": statistics.median(plain),
    }
    result["ratio"] = result["steps_per_s"] / result["plain_inserts_per_s"]
    if args.verify_entries:
        fresh = fresh_database(name, url, data_dir, "verify")
        app = open_bench_app(fresh, data_dir)
        try:
            fill_ledger(app, args.verify_entries)
            result["verify_s"], result["verified_entries"] = verify_time(app)
            result["proof_check_us"] = proof_check_us(app, 20_000)
        finally:
            app.close()
    return result


def fresh_database(name: str, url: str, data_dir: Path, purpose: str) -> str:
    """Return the URL of a new, empty database of the same kind, named for `purpose`."""
    if name == "sqlite":
        return f"sqlite:///{data_dir / f'{purpose}.db'}"
    database = f"assistgate_bench_{purpose}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {database}"))
    admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{database}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--steps", type=int, default=3000, help="register steps to time")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is reported")
    parser.add_argument(
        "--verify-entries", type=int, default=1_000_000, help="ledger size to verify (0 to skip)"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run on this PostgreSQL database "
        "(its own database is created for the verify part)",
    )
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.platform()}")
    targets = [("sqlite", "")] + ([("postgresql", args.postgres)] if args.postgres else [])
    for name, url in targets:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            data_dir = Path(tmp)
            db_url = url or f"sqlite:///{data_dir / 'steps.db'}"
            r = bench_database(name, db_url, args, data_dir)
        print(f"\n{name}:")
        print(
            f"  durable register steps   {r['steps_per_s']:>10,.0f} /s  (claim or release, "
            f"each a transaction with its signed ledger entry)"
        )
        print(f"  plain committed inserts  {r['plain_inserts_per_s']:>10,.0f} /s  (same database)")
        print(f"  ratio                    {r['ratio']:>10.2f}")
        if "verify_s" in r:
            print(f"  verify {r['verified_entries']:,} entries   {r['verify_s']:>10.2f} s")
            print(f"  check one inclusion proof {r['proof_check_us']:>9.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
