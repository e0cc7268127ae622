"""Verify the stored ledger: every entry, every checkpoint, and the tables it describes.

The ledger is recomputed from the database row by row: gap-free sequence numbers, canonical
bodies whose columns agree with them, leaf hashes, time that never runs backwards, the root
at every stored checkpoint and its signature, and the head. Then every request and decision
row is compared with what the entries say it should be, so that an edit of a request made
directly in the database shows up as well as an edit of the ledger.

A finding names the first bad sequence number: the entry that is missing, altered or out of
place; for a row that disagrees with the ledger, the entry that last set the disagreeing
field; for a row no entry describes, none (it is named by its reference instead).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.ledger.checkpoint import SignedCheckpoint, verify_checkpoint
from assistgate.ledger.entry import Entry
from assistgate.ledger.errors import CheckpointError, EntryError
from assistgate.ledger.hashing import leaf_hash
from assistgate.ledger.merkle import TreeBuilder
from assistgate.ledger.models import CheckpointRow, LedgerEntryRow, LedgerHead
from assistgate.ledger.store import HEAD_ID
from assistgate.requests.models import Decision, Request
from assistgate.requests.snapshot import decision_snapshot, request_snapshot

BATCH = 20_000


@dataclass(frozen=True, slots=True)
class Finding:
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"seq {self.seq}: " if self.seq is not None else ""
        return f"{where}{self.message}"


@dataclass
class VerifyReport:
    entries: int = 0
    root: str = ""
    checkpoints: int = 0
    requests: int = 0
    decisions: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def first(self) -> Finding | None:
        """Return the finding with the lowest sequence number (rows without one last)."""
        if not self.findings:
            return None
        return min(self.findings, key=lambda f: (f.seq is None, f.seq or 0))


@dataclass
class _Replay:
    """What the entries say each request and decision row should hold."""

    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    set_by: dict[str, dict[str, int]] = field(default_factory=dict)
    first_seq: dict[str, int] = field(default_factory=dict)
    decisions: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def apply(self, entry: Entry) -> None:
        changes = entry.data.get("request")
        subject = entry.subject
        if isinstance(changes, dict):
            self.first_seq.setdefault(subject, entry.seq)
            self.requests.setdefault(subject, {}).update(changes)
            fields = self.set_by.setdefault(subject, {})
            for name in changes:
                fields[name] = entry.seq
        decision = entry.data.get("decision")
        if isinstance(decision, dict):
            self.decisions[subject] = (entry.seq, decision)


def _rows(session: Session) -> Iterator[LedgerEntryRow]:
    query = select(LedgerEntryRow).order_by(LedgerEntryRow.seq).execution_options(yield_per=BATCH)
    yield from session.scalars(query)


def verify_database(session: Session, public_key: Ed25519PublicKey) -> VerifyReport:
    """Recompute and check the whole stored ledger and the rows it describes."""
    report = VerifyReport()
    found = report.findings
    checkpoints = {row.size: row for row in session.scalars(select(CheckpointRow))}
    tree = TreeBuilder()
    replay = _Replay()
    last_at = ""
    for expected, row in enumerate(_rows(session)):
        if row.seq != expected:
            found.append(
                Finding(
                    expected,
                    f"entry {expected} is missing (the next stored entry "
                    f"is {row.seq}): deleted, or the ledger was reordered",
                )
            )
            return report
        try:
            entry = Entry.from_bytes(row.body)
        except EntryError as exc:
            found.append(
                Finding(expected, f"the stored entry is not a valid canonical entry: {exc}")
            )
            return report
        columns = (row.seq, row.at, row.actor, row.event, row.subject)
        if columns != (entry.seq, entry.at, entry.actor, entry.event, entry.subject):
            found.append(Finding(expected, "the entry's columns disagree with its hashed body"))
        leaf = leaf_hash(row.body)
        if leaf != row.leaf_hash:
            found.append(
                Finding(
                    expected,
                    "the stored leaf hash is not the hash of the body: "
                    "the entry was changed after it was written",
                )
            )
        if entry.at < last_at:
            found.append(Finding(expected, f"time runs backwards ({entry.at} after {last_at})"))
        last_at = entry.at
        tree.append(leaf)
        replay.apply(entry)
        if tree.size in checkpoints:
            _check_checkpoint(report, checkpoints.pop(tree.size).signed, tree, public_key)
    report.entries = tree.size
    report.root = tree.root().hex()
    for size in sorted(checkpoints):
        found.append(
            Finding(
                report.entries,
                f"a checkpoint covers {size} entries but only "
                f"{report.entries} are stored: entries were deleted",
            )
        )
    _check_head(session, report, tree, public_key)
    _check_rows(session, report, replay)
    return report


def _check_checkpoint(
    report: VerifyReport,
    signed_json: dict[str, Any] | None,
    tree: TreeBuilder,
    public_key: Ed25519PublicKey,
) -> None:
    at = tree.size
    if signed_json is None:
        report.findings.append(Finding(at, "the head carries no signed checkpoint"))
        return
    try:
        checkpoint = verify_checkpoint(SignedCheckpoint.from_json(signed_json), public_key)
    except CheckpointError as exc:
        report.findings.append(Finding(at, f"checkpoint at size {at} does not verify: {exc}"))
        return
    report.checkpoints += 1
    if checkpoint.size != tree.size or checkpoint.root != tree.root():
        # The root cannot say which entry changed; the checkpoint's place is where it fails.
        report.findings.append(
            Finding(
                min(checkpoint.size, tree.size),
                f"the signed checkpoint (size {checkpoint.size}, "
                f"root {checkpoint.root.hex()[:16]}…) "
                f"does not match the entries (size {tree.size}, root {tree.root().hex()[:16]}…): "
                f"entries were changed, added or removed",
            )
        )


def _check_head(
    session: Session, report: VerifyReport, tree: TreeBuilder, public_key: Ed25519PublicKey
) -> None:
    head = session.get(LedgerHead, HEAD_ID)
    if head is None:
        report.findings.append(Finding(None, "the ledger head row is missing"))
        return
    if head.size != tree.size or head.stack != [h.hex() for h in tree.state()]:
        report.findings.append(
            Finding(
                min(head.size, tree.size),
                f"the head says {head.size} entries but {tree.size} are "
                f"stored, or its tree state differs",
            )
        )
    if tree.size:
        _check_checkpoint(report, head.checkpoint, tree, public_key)


def _check_rows(session: Session, report: VerifyReport, replay: _Replay) -> None:
    found = report.findings
    seen: set[str] = set()
    for request in session.scalars(select(Request)):
        report.requests += 1
        ref = request.ref
        seen.add(ref)
        expected = replay.requests.get(ref)
        if expected is None:
            found.append(
                Finding(
                    None,
                    f"request {ref} is in the register but no ledger entry "
                    f"describes it: it was added outside the application",
                )
            )
            continue
        actual = request_snapshot(request)
        wrong = sorted(k for k in actual if actual[k] != expected.get(k))
        if wrong:
            seq = min(replay.set_by[ref].get(k, replay.first_seq[ref]) for k in wrong)
            found.append(
                Finding(
                    seq,
                    f"request {ref} differs from its ledger entries in "
                    f"{', '.join(wrong)}: the row was changed directly",
                )
            )
        decision = session.get(Decision, request.decision_id) if request.decision_id else None
        recorded = replay.decisions.get(ref)
        if (decision is None) != (recorded is None):
            found.append(
                Finding(
                    recorded[0] if recorded else None,
                    f"request {ref}: decision row and ledger disagree on whether a decision exists",
                )
            )
        elif decision is not None and recorded is not None:
            report.decisions += 1
            if decision_snapshot(decision) != recorded[1]:
                found.append(
                    Finding(
                        recorded[0],
                        f"the decision on {ref} differs from the one recorded in the ledger",
                    )
                )
    for ref in sorted(set(replay.requests) - seen):
        found.append(
            Finding(
                replay.first_seq[ref],
                f"request {ref} is described by the ledger but missing from the register: deleted",
            )
        )
