"""What a report is built from: the period's figures, its public log, and the checkpoint.

`gather` reads the register once; everything in a report comes from the `ReportData` it
returns. The checkpoint is the signed one in the ledger's head when the data was gathered:
the head is re-signed at every entry, so it is the latest checkpoint and covers every step
recorded until then. It is checked with the deployment's public key before it is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from assistgate.ledger.checkpoint import SignedCheckpoint, verify_checkpoint
from assistgate.ledger.models import LedgerHead
from assistgate.ledger.store import HEAD_ID
from assistgate.transparency.figures import Figures, calls_by_month, figures_from
from assistgate.transparency.periods import Period
from assistgate.transparency.public_log import PublicRow, public_rows
from assistgate.transparency.records import RequestRecord, load_records

CHECKPOINT_FILE = "ledger-checkpoint.json"


class ReportError(ValueError):
    """A report cannot be built as asked (a period that does not fit the format, say)."""


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything a report is built from; nothing else may enter the files."""

    origin: str  # the ledger's name: which deployment this is
    figures: Figures
    rows: tuple[PublicRow, ...]
    records: tuple[RequestRecord, ...]  # for the oversight formats; only public fields leave
    checkpoint: SignedCheckpoint | None
    # Who reports, for the oversight formats (Oregon's table names the public body and county).
    public_body: str = ""
    county: str = ""

    @property
    def period(self) -> Period:
        return self.figures.period

    @property
    def stem(self) -> str:
        return "report-" + self.period.label.replace("..", "_to_")


def gather(
    session: Session,
    period: Period,
    *,
    public_key: Ed25519PublicKey,
    origin: str,
    public_body: str = "",
    county: str = "",
) -> ReportData:
    """Read what a report of `period` needs, and the verified checkpoint it is built from."""
    signed = head_checkpoint(session, public_key)
    records = load_records(session, period)
    calls = calls_by_month(session, period.months())
    return ReportData(
        origin=origin,
        figures=figures_from(records, period, calls),
        rows=tuple(public_rows(records, period.zone)),
        records=tuple(records),
        checkpoint=signed,
        public_body=public_body,
        county=county,
    )


def head_checkpoint(session: Session, public_key: Ed25519PublicKey) -> SignedCheckpoint | None:
    """Return the ledger head's signed checkpoint, checked with `public_key` (None if empty)."""
    head = session.get(LedgerHead, HEAD_ID)
    if head is None or head.checkpoint is None:
        return None
    signed = SignedCheckpoint.from_json(head.checkpoint)
    verify_checkpoint(signed, public_key)
    return signed


def checkpoint_json(data: ReportData) -> dict[str, Any] | None:
    """Return the checkpoint as published, with its root also in hexadecimal."""
    if data.checkpoint is None:
        return None
    out = data.checkpoint.to_json()
    out["root_hex"] = data.checkpoint.checkpoint.root.hex()
    return out


def checkpoint_sentence(data: ReportData) -> str:
    """Say, in one sentence, which ledger checkpoint the report was built from."""
    if data.checkpoint is None:
        return (
            f"Built from the register of {data.origin}, whose ledger was empty: "
            "no checkpoint exists yet."
        )
    cp = data.checkpoint.checkpoint
    return (
        f"Built from ledger {cp.origin} at its latest signed checkpoint, which covers every "
        f"step recorded when the report was built: tree size {cp.size}, root hash "
        f"{cp.root.hex()}, signed {cp.at} by key {data.checkpoint.key_id}."
    )


VERIFY_STEPS = (
    "export the ledger: assistgate ledger export ledger.jsonl",
    "check it with the city's public key and this report's checkpoint: assistgate ledger "
    "verify ledger.jsonl --key ledger-public.pem --trusted ledger-checkpoint.json",
)
