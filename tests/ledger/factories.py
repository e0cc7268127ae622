"""Build ledger entries, checkpoints and exports for the tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assistgate.ledger import (
    Checkpoint,
    Entry,
    SignedCheckpoint,
    export_lines,
    root_hash,
    sign_checkpoint,
    utc_timestamp,
)

ORIGIN = "assistgate.example/louisville-lmpd"
START = dt.datetime(2017, 10, 2, 14, 3, 7, 123456, tzinfo=dt.UTC)
EVENTS = ("request:created", "request:claimed", "request:assessed", "request:declined")

# RFC 8032 section 7.1, TEST 1 secret key: a fixed key makes signatures reproducible.
FIXED_KEY = Ed25519PrivateKey.from_private_bytes(
    bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
)


def make_entry(seq: int, **changes: object) -> Entry:
    """Return entry `seq` of a plausible ledger: four steps per request, minutes apart."""
    fields: dict[str, object] = {
        "seq": seq,
        "at": utc_timestamp(START + dt.timedelta(minutes=seq, microseconds=seq)),
        "actor": f"officer:{400 + seq % 7}",
        "event": EVENTS[seq % 4],
        "subject": f"LMPD-2017-{seq // 4:04d}",
        "data": {"agency": "ICE", "step": seq % 4, "note": f"étape {seq}"},
    }
    fields.update(changes)
    return Entry(**fields)  # type: ignore[arg-type]


def make_entries(n: int) -> list[Entry]:
    """Return entries 0..n-1."""
    return [make_entry(seq) for seq in range(n)]


def checkpoint_for(
    entries: Sequence[Entry],
    key: Ed25519PrivateKey = FIXED_KEY,
    *,
    at: str = "2018-01-01T00:00:00.000000Z",
    origin: str = ORIGIN,
) -> SignedCheckpoint:
    """Return the checkpoint over exactly these entries, signed with `key`."""
    root = root_hash([e.leaf() for e in entries])
    return sign_checkpoint(Checkpoint(origin=origin, size=len(entries), root=root, at=at), key)


def make_export(n: int, key: Ed25519PrivateKey = FIXED_KEY) -> list[str]:
    """Return the export lines of a ledger of n entries, newline-terminated."""
    entries = make_entries(n)
    return list(export_lines(entries, checkpoint_for(entries, key)))
