"""The ledger as stored: entries, the head (tree state and latest signed checkpoint), history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from assistgate.db.base import Base, UTCDateTime


class LedgerEntryRow(Base):
    """One entry. `body` is the canonical JSON that is hashed; the other columns index it."""

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(Base):
    """The single row that every append locks: size, compact tree state, signed checkpoint."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # Roots of the perfect subtrees that make up the tree (hex), largest first: enough to
    # append a leaf and compute the root in O(log n) without reading the entries.
    stack: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_at: Mapped[str] = mapped_column(String(32), default="")
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class CheckpointRow(Base):
    """A signed checkpoint kept in history (every `HISTORY_EVERY` entries, and on demand)."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    signed: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
