"""`assistgate ledger ...`: verify the ledger, export it, publish checkpoints, prove entries.

Verification exits 1 when anything fails to verify and names the first bad sequence number;
the offline checks (`verify FILE`, `check-proof`, `check-consistency`) need only the file and
the ledger's public key, never the database.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.cli.common import (
    EXIT_REFUSED,
    echo_json,
    fail,
    key_store,
    load_settings,
    local_time,
    opened_app,
    read_json,
    reports_errors,
    write_atomically,
)
from assistgate.ledger.checkpoint import SignedCheckpoint
from assistgate.ledger.entry import Entry
from assistgate.ledger.errors import (
    CheckpointError,
    EntryError,
    ExportError,
    KeyStoreError,
    ProofError,
)
from assistgate.ledger.export import export_lines, verify_export
from assistgate.ledger.hashing import leaf_hash
from assistgate.ledger.keys import load_public_key
from assistgate.ledger.merkle import (
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from assistgate.ledger.models import CheckpointRow, LedgerEntryRow
from assistgate.ledger.proofs import (
    ProofFileError,
    check_consistency_document,
    check_inclusion_document,
)
from assistgate.ledger.reading import EntryMissing, head_checkpoint, stored_leaves
from assistgate.ledger.verify import BATCH, verify_database

KEY_HELP = (
    "The ledger's public key (PEM, as 'assistgate keys show' prints it); default: this "
    "deployment's key store."
)
RUN_VERIFY = "run 'assistgate ledger verify' to find what changed"


@click.group()
def ledger() -> None:
    """Verify, export and prove the append-only ledger of every step of every request."""


def _public_key(key_path: str | None) -> Ed25519PublicKey:
    """Load `--key`, or the deployment's public key; exit 2 if there is neither."""
    if key_path is not None:
        try:
            return load_public_key(Path(key_path))
        except KeyStoreError as exc:
            fail(f"--key: {exc}")
    store = key_store(load_settings())
    if not store.public_path.exists():
        fail(f"give --key PUBKEY.pem: this machine has no ledger key ({store.public_path})")
    return store.ledger_public_key()


def _head_checkpoint(session: Session) -> SignedCheckpoint:
    signed = head_checkpoint(session)
    if signed is None:
        fail(
            "the ledger has no signed checkpoint yet (it is empty); "
            "'assistgate ledger checkpoint' signs one",
            EXIT_REFUSED,
        )
    return signed


def _leaves(session: Session, size: int) -> list[bytes]:
    """Return the stored leaf hashes of the first `size` entries, or exit 1 if any is missing."""
    try:
        return stored_leaves(session, size)
    except EntryMissing as exc:
        fail(f"{exc}; {RUN_VERIFY}", EXIT_REFUSED)


def _utc(at: str) -> str:
    return local_time(at, dt.UTC)


def _emit(document: dict[str, Any], out: str | None, what: str) -> None:
    if out is None:
        echo_json(document)
        return
    write_atomically(Path(out), [json.dumps(document, indent=2, ensure_ascii=False) + "\n"])
    click.echo(f"wrote {what} to {out}")


@ledger.command()
@click.argument("file", required=False)
@click.option("--key", "key_path", metavar="PUBKEY.pem", help=KEY_HELP)
@click.option(
    "--trusted",
    multiple=True,
    metavar="CHECKPOINT.json",
    help="With FILE: a checkpoint you already hold (from 'ledger checkpoint'); the export "
    "must extend it (repeat for several).",
)
@reports_errors
def verify(file: str | None, key_path: str | None, trusted: tuple[str, ...]) -> None:
    """Verify the ledger in the database, or the offline export FILE.

    Without FILE: recompute every entry, leaf hash, root and signed checkpoint from the
    database, and check every request and decision row against its entries. With FILE:
    check an export made by 'ledger export' with the public key alone (--key, required
    where this machine has no key store). Exits 1 naming the first bad sequence number.
    """
    if file is None:
        if trusted:
            fail("--trusted applies to an export FILE only")
        _verify_database(key_path)
    else:
        _verify_file(file, key_path, trusted)


def _verify_database(key_path: str | None) -> None:
    with opened_app() as app, app.sessions() as session:
        key = _public_key(key_path) if key_path else app.keys.ledger_public_key()
        report = verify_database(session, key)
    if not report.ok:
        findings = sorted(report.findings, key=lambda f: (f.seq is None, f.seq or 0))
        for finding in findings:
            click.echo(str(finding))
        first = findings[0]
        where = f"first at seq {first.seq}" if first.seq is not None else "none names a seq"
        fail(f"the ledger does not verify: {len(findings)} finding(s), {where}", EXIT_REFUSED)
    click.echo(f"ledger OK: {report.entries} entries, root {report.root}")
    click.echo(f"  {report.checkpoints} signed checkpoint(s) verified")
    click.echo(
        f"  {report.requests} request(s) and {report.decisions} decision(s) match their "
        f"ledger entries"
    )


def _verify_file(file: str, key_path: str | None, trusted: tuple[str, ...]) -> None:
    key = _public_key(key_path)
    held = []
    for source in trusted:
        try:
            held.append(SignedCheckpoint.from_json(read_json(source, "--trusted")))
        except CheckpointError as exc:
            fail(f"--trusted {source}: {exc}")
    try:
        with open(file, "rb") as lines:
            report = verify_export(lines, key, trusted=held)
    except FileNotFoundError:
        fail(f"{file}: no such file")
    except IsADirectoryError:
        fail(f"{file} is a directory")
    except ExportError as exc:
        fail(f"{file} does not verify: {exc}", EXIT_REFUSED)
    except CheckpointError as exc:
        fail(f"a --trusted checkpoint does not verify: {exc}", EXIT_REFUSED)
    cp = report.checkpoint
    click.echo(f"export OK: {report.entries} entries of {cp.origin}, root {report.root_hex}")
    click.echo(f"  signed by key {report.key_id} at {_utc(cp.at)}")


@ledger.command()
@click.argument("file")
@reports_errors
def export(file: str) -> None:
    """Write the whole ledger to FILE as JSON Lines: every entry, then the signed checkpoint.

    The file is written whole or not at all (a temporary file renamed into place). Anyone can
    check it with 'assistgate ledger verify FILE --key PUBKEY.pem'.
    """
    with opened_app() as app, app.sessions() as session:
        signed = _head_checkpoint(session)
        # Entries below the head's size were committed with it, so a concurrent append
        # (whose entries have larger seqs) cannot make the export disagree with its checkpoint.
        bodies = session.scalars(
            select(LedgerEntryRow.body)
            .where(LedgerEntryRow.seq < signed.checkpoint.size)
            .order_by(LedgerEntryRow.seq)
            .execution_options(yield_per=BATCH)
        )
        try:
            write_atomically(
                Path(file), export_lines((Entry.from_bytes(b) for b in bodies), signed)
            )
        except (EntryError, ExportError) as exc:
            fail(f"the stored ledger cannot be exported: {exc}; {RUN_VERIFY}", EXIT_REFUSED)
    cp = signed.checkpoint
    click.echo(f"exported {cp.size} entries and the checkpoint signed at {_utc(cp.at)} to {file}")


@ledger.command()
@reports_errors
def checkpoint() -> None:
    """Keep the current signed checkpoint in history and print it as JSON, for publication.

    A published checkpoint lets anyone later check that the ledger only grew since
    ('ledger consistency SIZE'), and that an export extends it ('ledger verify FILE --trusted').
    """
    with opened_app() as app, app.transaction() as session:
        signed = app.deployment.ledger.keep_checkpoint(session)
    echo_json(signed.to_json())


@ledger.command()
@click.argument("seq", type=click.IntRange(min=0))
@click.option("--out", metavar="FILE", help="Write the proof to FILE instead of printing it.")
@reports_errors
def prove(seq: int, out: str | None) -> None:
    """Print a proof that entry SEQ is in the ledger, against the latest signed checkpoint.

    Check it anywhere with 'assistgate ledger check-proof FILE --key PUBKEY.pem'.
    """
    with opened_app() as app, app.sessions() as session:
        signed = _head_checkpoint(session)
        size = signed.checkpoint.size
        if seq >= size:
            fail(f"seq {seq} is not in the ledger of {size} entries (0 to {size - 1})")
        leaves = _leaves(session, size)
        body = session.scalars(select(LedgerEntryRow.body).where(LedgerEntryRow.seq == seq)).one()
    try:
        entry = Entry.from_bytes(body)
        proof = inclusion_proof(seq, leaves)
        verify_inclusion(seq, size, leaf_hash(body), proof, signed.checkpoint.root)
    except (EntryError, ProofError) as exc:
        fail(
            f"seq {seq}: the stored entry does not match the signed checkpoint ({exc}); "
            f"{RUN_VERIFY}",
            EXIT_REFUSED,
        )
    document = {
        "entry": entry.to_json(),
        "leaf_index": seq,
        "tree_size": size,
        "proof": [h.hex() for h in proof],
        "checkpoint": signed.to_json(),
    }
    _emit(document, out, f"the proof of entry {seq}")


@ledger.command("check-proof")
@click.argument("file", metavar="FILE|-")
@click.option("--key", "key_path", metavar="PUBKEY.pem", help=KEY_HELP)
@reports_errors
def check_proof(file: str, key_path: str | None) -> None:
    """Check a proof made by 'ledger prove', offline: signature, entry and Merkle path."""
    document = read_json(file, "proof file")
    key = _public_key(key_path)
    try:
        entry, cp = check_inclusion_document(document, key)
    except ProofFileError as exc:
        fail(f"the proof does not verify: {exc}", EXIT_REFUSED)
    click.echo(
        f"proof OK: entry {entry.seq} ({entry.event}, {entry.subject}) is in the ledger "
        f"of {cp.size} entries signed at {_utc(cp.at)}"
    )


@ledger.command()
@click.argument("old_size", type=click.IntRange(min=0))
@click.option("--out", metavar="FILE", help="Write the proof to FILE instead of printing it.")
@reports_errors
def consistency(old_size: int, out: str | None) -> None:
    """Prove that the ledger only grew since the kept checkpoint of OLD_SIZE entries.

    OLD_SIZE must be the size of a checkpoint kept in history (every 1,024 entries, and each
    'ledger checkpoint'). Check the proof with 'ledger check-consistency FILE --key ...'.
    """
    with opened_app() as app, app.sessions() as session:
        new = _head_checkpoint(session)
        kept = session.scalars(
            select(CheckpointRow)
            .where(CheckpointRow.size == old_size)
            .order_by(CheckpointRow.id.desc())
        ).first()
        if kept is None:
            sizes = sorted(set(session.scalars(select(CheckpointRow.size))))
            listed = ", ".join(str(s) for s in sizes[-10:]) or "none"
            fail(
                f"no checkpoint of {old_size} entries is kept (kept sizes: {listed}); "
                f"'assistgate ledger checkpoint' keeps the current one"
            )
        old = SignedCheckpoint.from_json(kept.signed)
        if old.checkpoint.size > new.checkpoint.size:
            fail(
                f"a kept checkpoint covers {old.checkpoint.size} entries but the ledger now "
                f"signs only {new.checkpoint.size}: entries were removed; {RUN_VERIFY}",
                EXIT_REFUSED,
            )
        leaves = _leaves(session, new.checkpoint.size)
    o, n = old.checkpoint, new.checkpoint
    proof = consistency_proof(o.size, leaves)
    try:
        verify_consistency(o.size, n.size, o.root, n.root, proof)
    except ProofError as exc:
        fail(
            f"the stored entries do not extend the checkpoint of {o.size} entries: {exc}; "
            f"{RUN_VERIFY}",
            EXIT_REFUSED,
        )
    document = {
        "old_size": o.size,
        "new_size": n.size,
        "proof": [h.hex() for h in proof],
        "old_checkpoint": old.to_json(),
        "new_checkpoint": new.to_json(),
    }
    _emit(document, out, f"the consistency proof from {o.size} to {n.size} entries")


@ledger.command("check-consistency")
@click.argument("file", metavar="FILE|-")
@click.option("--key", "key_path", metavar="PUBKEY.pem", help=KEY_HELP)
@reports_errors
def check_consistency(file: str, key_path: str | None) -> None:
    """Check a proof made by 'ledger consistency', offline: both signatures and the proof."""
    document = read_json(file, "proof file")
    key = _public_key(key_path)
    try:
        old, new = check_consistency_document(document, key)
    except ProofFileError as exc:
        fail(f"the consistency proof does not verify: {exc}", EXIT_REFUSED)
    click.echo(
        f"consistency OK: the ledger of {new.size} entries signed at {_utc(new.at)} "
        f"extends the ledger of {old.size} entries signed at {_utc(old.at)}: "
        f"it only grew"
    )
