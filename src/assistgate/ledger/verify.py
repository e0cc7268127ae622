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

import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.ledger.checkpoint import SignedCheckpoint, verify_checkpoint
from assistgate.ledger.entry import FIELDS
from assistgate.ledger.errors import CheckpointError
from assistgate.ledger.hashing import LEAF_PREFIX
from assistgate.ledger.merkle import TreeBuilder
from assistgate.ledger.models import CheckpointRow, LedgerHead
from assistgate.ledger.store import HEAD_ID
from assistgate.requests.snapshot import (
    DECISION_FIELDS,
    LATER_FIELDS,
    REQUEST_FIELDS,
    json_value,
)

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
    history: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    decisions: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def apply(self, seq: int, subject: str, data: dict[str, Any]) -> None:
        changes = data.get("request")
        if type(changes) is dict:
            state = self.requests.get(subject)
            if state is None:
                self.requests[subject] = {**LATER_FIELDS, **changes}
                self.history[subject] = [(seq, changes)]
            else:
                state.update(changes)
                self.history[subject].append((seq, changes))
        decision = data.get("decision")
        if type(decision) is dict:
            self.decisions[subject] = (seq, decision)

    def first_seq(self, subject: str) -> int:
        return self.history[subject][0][0]

    def last_set(self, subject: str, name: str) -> int:
        """Return the seq of the entry that last set field `name` of request `subject`."""
        for seq, changes in reversed(self.history[subject]):
            if name in changes:
                return int(seq)
        return self.first_seq(subject)


_ENTRY_SQL = (
    "SELECT seq, at, actor, event, subject, body, leaf_hash FROM ledger_entries ORDER BY seq"
)
_JSON_COLUMNS = frozenset({"requested_actions", "units", "exceptions", "outcome"})
_TIME_COLUMNS = frozenset(
    {"received_at", "dispatched_at", "arrived_at", "cleared_at", "closed_at", "decided_at"}
)
_BOOL_COLUMNS = frozenset({"flagged_for_review"})
_DECISION_JSON = frozenset({"assessment", "answer", "approved_actions"})


def _raw_rows(session: Session, sql: str) -> Iterator[tuple[Any, ...]]:
    """Stream rows straight from the driver, in batches, with bounded memory.

    Verification reads every row once; the ORM's per-row processing would cost more than all
    the checks, so rows come raw and `_normalise` turns them into the ORM's JSON values.
    """
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    server_side = session.bind is not None and session.bind.dialect.name == "postgresql"
    cursor = dbapi.cursor(name="assistgate_verify") if server_side else dbapi.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(BATCH):
            yield from batch
    finally:
        cursor.close()


def _normalise(
    fields: tuple[str, ...], values: Sequence[Any], json_fields: frozenset[str], sqlite: bool
) -> dict[str, Any]:
    """Return a raw row as the snapshot the ledger recorded (same values as `snapshot_values`)."""
    row = dict(zip(fields, values, strict=True))
    for name, value in row.items():
        if value is None:
            continue
        if name in _TIME_COLUMNS:
            # SQLite keeps naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff"; PostgreSQL a timestamptz.
            row[name] = value.replace(" ", "T") + "Z" if sqlite else json_value(value)
        elif name in json_fields and sqlite:
            row[name] = orjson.loads(value)
        elif name in _BOOL_COLUMNS and sqlite:
            row[name] = bool(value)
    return row


_FIELDS = frozenset(FIELDS)


def _parse(body: bytes) -> dict[str, Any] | None:
    """Decode a stored body, or None if it is not a JSON object with the entry's fields.

    The full canonical-form check of an export line is not needed here: the body's bytes are
    bound by their leaf hash to the signed root, so any rewriting already fails those checks.
    """
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict or obj.keys() != _FIELDS or type(obj["data"]) is not dict:
        return None
    return obj


def verify_database(session: Session, public_key: Ed25519PublicKey) -> VerifyReport:
    """Recompute and check the whole stored ledger and the rows it describes."""
    # Millions of short-lived dicts would set off the cycle collector again and again; none of
    # them forms a cycle, so it waits until the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _verify(session, public_key)
    finally:
        if collecting:
            gc.enable()


def _verify(session: Session, public_key: Ed25519PublicKey) -> VerifyReport:
    report = VerifyReport()
    found = report.findings
    # Several checkpoints may share a size (kept on demand and every HISTORY_EVERY entries).
    checkpoints: dict[int, list[CheckpointRow]] = {}
    for kept in session.scalars(select(CheckpointRow)):
        checkpoints.setdefault(kept.size, []).append(kept)
    tree = TreeBuilder()
    append = tree.append
    replay = _Replay()
    last_at = ""
    rows = _raw_rows(session, _ENTRY_SQL)
    for expected, (seq, at, actor, event, subject, body, stored_leaf) in enumerate(rows):
        if seq != expected:
            found.append(
                Finding(
                    expected,
                    f"entry {expected} is missing (the next stored entry "
                    f"is {seq}): deleted, or the ledger was reordered",
                )
            )
            return report
        if type(body) is not bytes:
            body = bytes(body)
        obj = _parse(body)
        if obj is None:
            found.append(Finding(expected, "the stored entry is not a valid entry"))
            return report
        if (obj["seq"], obj["at"], obj["actor"], obj["event"], obj["subject"]) != (
            seq,
            at,
            actor,
            event,
            subject,
        ):
            found.append(Finding(expected, "the entry's columns disagree with its hashed body"))
        leaf = sha256(LEAF_PREFIX + body).digest()  # leaf_hash, inlined on this hot path
        if leaf != stored_leaf and leaf != bytes(stored_leaf):
            found.append(
                Finding(
                    expected,
                    "the stored leaf hash is not the hash of the body: "
                    "the entry was changed after it was written",
                )
            )
        if at < last_at:
            found.append(Finding(expected, f"time runs backwards ({at} after {last_at})"))
        last_at = at
        append(leaf)
        replay.apply(expected, subject, obj["data"])
        if expected + 1 in checkpoints:
            for kept in checkpoints.pop(expected + 1):
                _check_checkpoint(report, kept.signed, tree, public_key)
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
    sqlite = session.bind is not None and session.bind.dialect.name == "sqlite"
    decision_sql = f"SELECT id, {', '.join(DECISION_FIELDS)} FROM decisions"
    decisions = {
        row[0]: _normalise(DECISION_FIELDS, row[1:], _DECISION_JSON, sqlite)
        for row in _raw_rows(session, decision_sql)
    }
    request_sql = f"SELECT decision_id, {', '.join(REQUEST_FIELDS)} FROM requests"
    for row in _raw_rows(session, request_sql):
        decision_id = row[0]
        actual = _normalise(REQUEST_FIELDS, row[1:], _JSON_COLUMNS, sqlite)
        ref = actual["ref"]
        seen.add(ref)
        report.requests += 1
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
        if actual != expected:
            wrong = sorted(k for k in actual if actual[k] != expected.get(k))
            seq = min(replay.last_set(ref, k) for k in wrong)
            found.append(
                Finding(
                    seq,
                    f"request {ref} differs from its ledger entries in "
                    f"{', '.join(wrong)}: the row was changed directly",
                )
            )
        decision = decisions.get(decision_id) if decision_id else None
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
            if decision != recorded[1]:
                found.append(
                    Finding(
                        recorded[0],
                        f"the decision on {ref} differs from the one recorded in the ledger",
                    )
                )
    for ref in sorted(set(replay.requests) - seen):
        found.append(
            Finding(
                replay.first_seq(ref),
                f"request {ref} is described by the ledger but missing from the register: deleted",
            )
        )
