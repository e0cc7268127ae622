"""One step of one request, as the ledger stores, hashes and exports it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from assistgate.ledger.canonical import canonical_json, check_canonical, parse_canonical
from assistgate.ledger.errors import CanonicalError, EntryError
from assistgate.ledger.hashing import leaf_hash

FIELDS = ("seq", "at", "actor", "event", "subject", "data")
# Fixed width and always UTC, so timestamps compare correctly as plain strings.
TIMESTAMP_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
# "subject:action", as the audit event names are written (e.g. request:created).
EVENT_PATTERN = re.compile(r"[a-z][a-z0-9_.-]*:[a-z][a-z0-9_.:-]*")


def utc_timestamp(moment: dt.datetime) -> str:
    """Return `moment` in UTC as 2017-10-02T14:03:07.123456Z; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise EntryError(
            f"naive datetime {moment.isoformat()}: give a timezone, the ledger cannot guess one"
        )
    u = moment.astimezone(dt.UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"
    )


def parse_timestamp(text: str) -> dt.datetime:
    """Return the aware UTC datetime of a ledger timestamp, or raise `EntryError`."""
    if not isinstance(text, str) or not TIMESTAMP_PATTERN.fullmatch(text):
        raise EntryError(f"timestamp {text!r} is not of the form 2017-10-02T14:03:07.123456Z")
    try:
        return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise EntryError(f"timestamp {text!r} is not a real moment: {exc}") from None


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry; its leaf hash is the hash of its canonical JSON.

    `data` must hold only what canonical JSON allows (strings, integers, booleans, null,
    lists, objects with string keys). Do not mutate it after construction: the entry's hash
    would silently change.
    """

    seq: int
    at: str
    actor: str
    event: str
    subject: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.seq, int) or isinstance(self.seq, bool) or self.seq < 0:
            raise EntryError(f"seq must be a non-negative integer, got {self.seq!r}")
        parse_timestamp(self.at)
        if not isinstance(self.actor, str) or not self.actor:
            raise EntryError(f"actor must be a non-empty string, got {self.actor!r}")
        if not isinstance(self.event, str) or not EVENT_PATTERN.fullmatch(self.event):
            raise EntryError(f"event must look like subject:action, got {self.event!r}")
        if not isinstance(self.subject, str):
            raise EntryError(f"subject must be a string, got {self.subject!r}")
        if not isinstance(self.data, dict):
            raise EntryError(f"data must be an object, got {type(self.data).__name__}")
        try:
            check_canonical(self.data)
        except CanonicalError as exc:
            raise EntryError(f"data: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        """Return the entry as a JSON-ready dict of all its fields."""
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "event": self.event,
            "subject": self.subject,
            "data": self.data,
        }

    def to_bytes(self) -> bytes:
        """Return the canonical JSON of all the entry's fields."""
        # Every field was checked at construction, so this cannot fail unless `data` was
        # mutated since.
        return canonical_json(self.to_json())

    def leaf(self) -> bytes:
        """Return the entry's Merkle leaf hash."""
        return leaf_hash(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        """Decode an entry, refusing bytes that are not its exact canonical JSON."""
        try:
            obj = parse_canonical(data)
        except CanonicalError as exc:
            raise EntryError(str(exc)) from None
        return cls.from_json(obj)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Entry:
        """Build an entry from a decoded JSON object holding exactly its fields."""
        if obj.keys() != set(FIELDS):
            missing = sorted(set(FIELDS) - obj.keys())
            extra = sorted(obj.keys() - set(FIELDS))
            raise EntryError(f"entry fields wrong: missing {missing}, unexpected {extra}")
        return cls(
            seq=obj["seq"],
            at=obj["at"],
            actor=obj["actor"],
            event=obj["event"],
            subject=obj["subject"],
            data=obj["data"],
        )
