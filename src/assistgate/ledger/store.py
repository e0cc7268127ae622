"""Appending to the stored ledger, in the caller's transaction, with a signed head.

Every append locks the single head row, so entries get gap-free sequence numbers in commit
order on every database. The head keeps the compact tree state (one root per perfect subtree)
and a checkpoint signed at the new size: whoever changes the entries without the signing key
cannot produce a matching signature. A copy of the checkpoint is kept every HISTORY_EVERY
entries, so that verification can also show the ledger only grew.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from assistgate.db.base import utcnow
from assistgate.ledger.checkpoint import Checkpoint, SignedCheckpoint, sign_checkpoint
from assistgate.ledger.entry import Entry, utc_timestamp
from assistgate.ledger.hashing import leaf_hash
from assistgate.ledger.keys import KeyStore
from assistgate.ledger.merkle import TreeBuilder
from assistgate.ledger.models import CheckpointRow, LedgerEntryRow, LedgerHead

HEAD_ID = 1
HISTORY_EVERY = 1024


class LedgerNotInitialised(RuntimeError):
    """The database has no ledger head: it was not created by the migrations."""


def builder_from_head(head: LedgerHead) -> TreeBuilder:
    """Rebuild the O(log n) tree state stored in the head row."""
    return TreeBuilder.restore(head.size, [bytes.fromhex(h) for h in head.stack])


@dataclass
class LedgerWriter:
    """Appends entries for one deployment: its ledger's name and its signing key.

    The private key is read from the key store once, on first use, not at every step.
    """

    origin: str
    keys: KeyStore
    _private_key: Ed25519PrivateKey | None = field(default=None, repr=False)

    def private_key(self) -> Ed25519PrivateKey:
        if self._private_key is None:
            self._private_key = self.keys.ledger_private_key()
        return self._private_key

    def lock(self, session: Session) -> LedgerHead:
        """Lock the head row for the rest of the transaction and return it."""
        head = session.scalars(
            select(LedgerHead).where(LedgerHead.id == HEAD_ID).with_for_update()
        ).one_or_none()
        if head is None:
            raise LedgerNotInitialised("the ledger head row is missing; run the migrations")
        return head

    def append(
        self,
        session: Session,
        *,
        actor: str,
        event: str,
        subject: str,
        data: dict[str, Any],
        now: dt.datetime | None = None,
    ) -> Entry:
        """Append one entry and re-sign the head; commits or rolls back with the caller."""
        head = self.lock(session)
        at = utc_timestamp(now or utcnow())
        # Entries are in commit order; a clock that steps back must not make time run backwards.
        at = max(at, head.last_at)
        entry = Entry(seq=head.size, at=at, actor=actor, event=event, subject=subject, data=data)
        body = entry.to_bytes()
        leaf = leaf_hash(body)
        tree = builder_from_head(head)
        tree.append(leaf)
        # A Core insert: the entry is never read back in this transaction, so the unit of
        # work's bookkeeping would be spent for nothing on the hot path.
        session.execute(insert(LedgerEntryRow), [{
            "seq": entry.seq, "at": at, "actor": actor, "event": event, "subject": subject,
            "body": body, "leaf_hash": leaf}])  # fmt: skip
        signed = self.sign(tree, at)
        head.size, head.stack, head.last_at = tree.size, [h.hex() for h in tree.state()], at
        head.checkpoint = signed.to_json()
        if tree.size % HISTORY_EVERY == 0:
            session.add(CheckpointRow(size=tree.size, signed=head.checkpoint,
                                      created_at=utcnow()))  # fmt: skip
        return entry

    def sign(self, tree: TreeBuilder, at: str) -> SignedCheckpoint:
        """Sign a checkpoint of `tree` as it stands."""
        checkpoint = Checkpoint(origin=self.origin, size=tree.size, root=tree.root(), at=at)
        return sign_checkpoint(checkpoint, self.private_key())

    def keep_checkpoint(self, session: Session) -> SignedCheckpoint:
        """Store the head's current signed checkpoint in history (for publication, say)."""
        head = self.lock(session)
        tree = builder_from_head(head)
        signed = self.sign(tree, head.last_at or utc_timestamp(utcnow()))
        head.checkpoint = signed.to_json()
        session.add(CheckpointRow(size=tree.size, signed=head.checkpoint, created_at=utcnow()))
        return signed
