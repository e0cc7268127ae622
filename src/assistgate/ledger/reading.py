"""Reading the stored ledger for proofs: its signed head and the leaf hashes below it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.ledger.checkpoint import SignedCheckpoint
from assistgate.ledger.models import LedgerEntryRow, LedgerHead
from assistgate.ledger.store import HEAD_ID, LedgerNotInitialised


class EntryMissing(LookupError):
    """A signed checkpoint covers an entry the database no longer holds."""

    def __init__(self, seq: int, message: str) -> None:
        super().__init__(message)
        self.seq = seq


def head_checkpoint(session: Session) -> SignedCheckpoint | None:
    """Return the head's signed checkpoint (None while the ledger is empty)."""
    head = session.get(LedgerHead, HEAD_ID)
    if head is None:
        raise LedgerNotInitialised("the ledger head row is missing; run 'assistgate db upgrade'")
    return None if head.checkpoint is None else SignedCheckpoint.from_json(head.checkpoint)


def stored_leaves(session: Session, size: int) -> list[bytes]:
    """Return the stored leaf hashes of the first `size` entries; raise `EntryMissing`."""
    query = select(LedgerEntryRow.seq, LedgerEntryRow.leaf_hash).where(LedgerEntryRow.seq < size)
    leaves = []
    for expected, (seq, leaf) in enumerate(session.execute(query.order_by(LedgerEntryRow.seq))):
        if seq != expected:
            raise EntryMissing(expected, f"seq {expected}: the entry is missing from the database")
        leaves.append(bytes(leaf))
    if len(leaves) != size:
        raise EntryMissing(len(leaves), f"seq {len(leaves)}: the signed checkpoint covers "
                           f"{size} entries but only {len(leaves)} are stored")  # fmt: skip
    return leaves
