"""The offline export: JSON Lines of every entry, closed by a signed checkpoint, and its verifier.

    {"actor":"...","at":"2017-10-02T14:03:07.123456Z","data":{...},"event":"request:created",...}
    ...
    {"checkpoint":{"at":"...","key_id":"...","origin":"...","root":"...","signature":"...",...}}

Every line is canonical JSON, so anyone holding the file and the ledger's public key can
recompute each leaf hash from the line's bytes, the root from the leaves, and check the
signature, with nothing else. The verifier streams: memory stays bounded however long the
export is.

Which sequence number `ExportError.seq` names (the first entry the verifier can show to be
wrong or missing):

- a bad line (not canonical JSON, not a valid entry, a sequence number out of order, time
  going backwards, anything after the checkpoint): the seq that line should have carried;
  when two different entries claim one seq, that seq, since either may be the forgery;
- a missing, malformed, misplaced, wrongly keyed or badly signed checkpoint: the seq after
  the last entry before it, the checkpoint's place;
- fewer entries than the checkpoint covers: the first missing seq;
- more entries than it covers: the checkpoint's size, once the first `size` entries are seen
  to hash to its root;
- a root that does not match: the root cannot say which entry changed, so the first seq past
  the longest prefix a trusted checkpoint vouches for (0 when none was given). To name the
  entry itself, compare the export's leaves with the ledger's using `first_divergence`.

A seq is where the export goes wrong, not a promise that the entries before it are genuine:
only a verification that passes proves anything.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise, zip_longest
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from assistgate.ledger.canonical import canonical_json, parse_canonical
from assistgate.ledger.checkpoint import Checkpoint, SignedCheckpoint, verify_checkpoint
from assistgate.ledger.entry import Entry
from assistgate.ledger.errors import (
    CanonicalError,
    CheckpointError,
    EntryError,
    ExportError,
)
from assistgate.ledger.hashing import EMPTY_ROOT, leaf_hash
from assistgate.ledger.merkle import TreeBuilder

CHECKPOINT_KEY = "checkpoint"
_CHECKPOINT_PREFIX = b'{"checkpoint":'
# How many of the latest leaves the verifier holds back from the tree, so that when the
# checkpoint turns out to cover fewer entries than the export has, the root at its size can
# still be computed. 4,096 leaf hashes are 128 KiB.
LOOKBACK = 4096


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What a verified export proves: this many entries, this root, signed by this key."""

    entries: int
    root_hex: str
    checkpoint: Checkpoint
    key_id: str


def export_lines(entries: Iterable[Entry], checkpoint: SignedCheckpoint) -> Iterator[str]:
    """Yield the export, one newline-terminated line per entry, then the checkpoint line.

    Precondition: `entries` are seq 0, 1, 2, ... and the checkpoint covers exactly them;
    `ExportError` otherwise, so a broken export is never written in full.
    """
    count = 0
    for entry in entries:
        if entry.seq != count:
            raise ExportError(
                seq=count, line=count + 1, message=f"entry has seq {entry.seq}, expected {count}"
            )
        yield entry.to_bytes().decode("utf-8") + "\n"
        count += 1
    if checkpoint.checkpoint.size != count:
        raise ExportError(
            seq=min(count, checkpoint.checkpoint.size),
            line=count + 1,
            message=f"checkpoint covers {checkpoint.checkpoint.size} entries, exported {count}",
        )
    yield canonical_json({CHECKPOINT_KEY: checkpoint.to_json()}).decode("utf-8") + "\n"


def verify_export(
    lines: Iterable[str | bytes],
    public_key: Ed25519PublicKey,
    *,
    origin: str | None = None,
    trusted: Iterable[SignedCheckpoint] = (),
) -> ExportReport:
    """Verify an export line by line and return what it proves, or raise `ExportError`.

    `lines` may keep or drop their final newline. `origin`, when given, is the ledger the
    export must come from. `trusted` are earlier checkpoints of the same ledger the caller
    already holds (from an earlier export, a witness, the public site): the export must
    extend each of them, and a root mismatch is then located after the longest of them that
    still matches. A trusted checkpoint that does not verify raises `CheckpointError`.
    """
    verifier = _Verifier(public_key, origin, trusted)
    for raw in lines:
        verifier.line(raw)
    return verifier.finish()


def entry_leaves(lines: Iterable[str | bytes]) -> Iterator[bytes]:
    """Yield the leaf hash of every entry line as it stands, valid or not, for comparison."""
    for raw in lines:
        data = _line_bytes(raw)
        if data is not None and not data.startswith(_CHECKPOINT_PREFIX):
            yield leaf_hash(data)


def first_divergence(expected: Iterable[bytes], actual: Iterable[bytes]) -> int | None:
    """Return the first index where two leaf sequences differ or one ends, or None if equal."""
    missing = object()
    for index, (want, got) in enumerate(zip_longest(expected, actual, fillvalue=missing)):
        if want != got:
            return index
    return None


class _Verifier:
    """The state of one streaming verification."""

    def __init__(
        self,
        public_key: Ed25519PublicKey,
        origin: str | None,
        trusted: Iterable[SignedCheckpoint],
    ) -> None:
        self.public_key = public_key
        self.origin = origin
        self.trusted = _trusted_checkpoints(trusted, public_key)
        self.next_trusted = 0
        self.agreed = 0  # entries vouched for by the longest matching trusted checkpoint
        self.tree = TreeBuilder()
        self.held_back: deque[bytes] = deque()
        self.count = 0
        self.line_no = 0
        self.last_at = ""
        self.last_bytes = b""
        self.signed: SignedCheckpoint | None = None
        self.checkpoint_line = 0
        self._check_trusted()

    def fail(self, seq: int, message: str, line: int | None = None) -> ExportError:
        return ExportError(seq=seq, line=self.line_no if line is None else line, message=message)

    def line(self, raw: str | bytes) -> None:
        self.line_no += 1
        data = _line_bytes(raw)
        if data is None:
            raise self.fail(self.count, "not UTF-8 text")
        if self.signed is not None:
            raise self.fail(
                self.count,
                f"a line follows the checkpoint on line {self.checkpoint_line}; "
                "the checkpoint must be the last line",
            )
        if not data:
            raise self.fail(self.count, "empty line")
        try:
            obj = parse_canonical(data)
        except CanonicalError as exc:
            hint = ""
            if data.endswith(b"\r"):
                hint = " (the line ends in a carriage return: was the file converted to CRLF?)"
            raise self.fail(self.count, f"not canonical JSON: {exc}{hint}") from None
        if CHECKPOINT_KEY in obj:
            self.checkpoint(obj)
        else:
            self.entry(obj, data)

    def entry(self, obj: dict[str, Any], data: bytes) -> None:
        try:
            entry = Entry.from_json(obj)
        except EntryError as exc:
            raise self.fail(self.count, f"not a valid entry: {exc}") from None
        if entry.seq != self.count:
            raise self._sequence_error(entry.seq, data)
        if entry.at < self.last_at:
            raise self.fail(
                self.count,
                f"time goes backwards: {entry.at} is before the previous entry's {self.last_at}",
            )
        self.held_back.append(leaf_hash(data))
        if len(self.held_back) > LOOKBACK:
            self._grow(self.held_back.popleft())
        self.count += 1
        self.last_at = entry.at
        self.last_bytes = data

    def checkpoint(self, obj: dict[str, Any]) -> None:
        try:
            if obj.keys() != {CHECKPOINT_KEY} or not isinstance(obj[CHECKPOINT_KEY], dict):
                raise CheckpointError('checkpoint line must be exactly {"checkpoint": {...}}')
            signed = SignedCheckpoint.from_json(obj[CHECKPOINT_KEY])
            verify_checkpoint(signed, self.public_key)
        except CheckpointError as exc:
            raise self.fail(self.count, f"checkpoint refused: {exc}") from None
        self.signed = signed
        self.checkpoint_line = self.line_no

    def finish(self) -> ExportReport:
        if self.signed is None:
            raise self.fail(
                self.count, "no checkpoint: the export must end with one", self.line_no + 1
            )
        cp = self.signed.checkpoint
        line = self.checkpoint_line
        if self.origin is not None and cp.origin != self.origin:
            raise self.fail(self.count, f"export of {cp.origin!r}, expected {self.origin!r}", line)
        if self.trusted and cp.origin != self.trusted[0].origin:
            raise self.fail(
                self.count,
                f"export of {cp.origin!r}, trusted checkpoints are of {self.trusted[0].origin!r}",
                line,
            )
        if cp.at < self.last_at:
            raise self.fail(
                self.count,
                f"checkpoint dated {cp.at}, before the last entry's {self.last_at}",
                line,
            )
        if cp.size > self.count:
            raise self.fail(
                self.count,
                f"checkpoint covers {cp.size} entries, the export holds only {self.count}: "
                f"entries {self.count} to {cp.size - 1} are missing",
                line,
            )
        root = self._root_at(cp.size)
        if root is None:
            raise self.fail(
                self.agreed,
                f"checkpoint covers {cp.size} entries, the export holds {self.count}: too many "
                "extra entries to check the first ones against its root",
                line,
            )
        if root != cp.root:
            raise self.fail(
                self.agreed,
                f"the entries hash to root {root.hex()}, the checkpoint signs "
                f"{cp.root.hex()}: an entry was altered, added or removed"
                + (f" after seq {self.agreed - 1}" if self.agreed else ""),
                line,
            )
        if cp.size < self.count:
            raise self.fail(
                cp.size,
                f"checkpoint covers {cp.size} entries, the export holds {self.count}: entries "
                f"{cp.size} to {self.count - 1} are not covered by the signature",
                line,
            )
        if self.next_trusted < len(self.trusted):
            longer = self.trusted[-1]
            raise self.fail(
                self.count,
                f"a trusted checkpoint of {longer.at} covers {longer.size} entries, the export "
                f"only {self.count}: the ledger was rolled back",
                line,
            )
        return ExportReport(
            entries=self.count, root_hex=root.hex(), checkpoint=cp, key_id=self.signed.key_id
        )

    def _sequence_error(self, seq: int, data: bytes) -> ExportError:
        if seq == self.count - 1 and data == self.last_bytes:
            return self.fail(self.count, f"repeats the previous line (seq {seq})")
        if seq == self.count - 1:
            return self.fail(
                seq,
                f"a second, different entry with seq {seq} (the other is on line "
                f"{self.line_no - 1}): one of them was inserted or altered",
            )
        return self.fail(
            self.count,
            f"carries seq {seq}, expected {self.count}: an entry is missing or lines were moved",
        )

    def _grow(self, leaf: bytes) -> None:
        self.tree.append(leaf)
        self._check_trusted()

    def _check_trusted(self) -> None:
        # A trusted checkpoint is checked as soon as the tree reaches its size.
        while (
            self.next_trusted < len(self.trusted)
            and self.trusted[self.next_trusted].size == self.tree.size
        ):
            expected = self.trusted[self.next_trusted]
            if self.tree.root() != expected.root:
                raise self.fail(
                    self.agreed,
                    f"the first {expected.size} entries do not hash to the root of the trusted "
                    f"checkpoint of {expected.at}: an entry before seq {expected.size} was altered",
                    line=max(expected.size, 1),
                )
            self.agreed = expected.size
            self.next_trusted += 1

    def _root_at(self, size: int) -> bytes | None:
        """Return the root of the first `size` entries, then fold in every held-back leaf."""
        if size < self.tree.size:
            return None
        while self.tree.size < size:
            self._grow(self.held_back.popleft())
        root = self.tree.root()
        while self.held_back:
            self._grow(self.held_back.popleft())
        return root


def _trusted_checkpoints(
    trusted: Iterable[SignedCheckpoint], public_key: Ed25519PublicKey
) -> list[Checkpoint]:
    checkpoints = sorted((verify_checkpoint(s, public_key) for s in trusted), key=lambda c: c.size)
    for earlier, later in pairwise(checkpoints):
        if earlier.origin != later.origin:
            raise CheckpointError(
                f"trusted checkpoints come from two ledgers: {earlier.origin!r}, {later.origin!r}"
            )
        if earlier.size == later.size and earlier.root != later.root:
            raise CheckpointError(
                f"two trusted checkpoints of size {earlier.size} have different roots: "
                "the ledger has forked"
            )
    for cp in checkpoints:
        if cp.size == 0 and cp.root != EMPTY_ROOT:
            raise CheckpointError("a trusted checkpoint of an empty ledger has a non-empty root")
    return checkpoints


def _line_bytes(raw: str | bytes) -> bytes | None:
    if isinstance(raw, str):
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError:
            return None
    else:
        data = bytes(raw)
    return data[:-1] if data.endswith(b"\n") else data
