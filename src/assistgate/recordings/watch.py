"""Watching a call recorder's export folder, safely across half-written files and restarts.

A file is taken only when it is complete, which the watcher decides from two signs together:
its sidecar `<name>.json` exists and parses (recorders write it after the audio), and neither
file's size nor modification time changed for `settle` seconds, observed by this process (a
restarted watcher observes again before taking anything). Files named like partial downloads
(`.part`, `.tmp`, ...) or starting with a dot are never taken, so a recorder that writes to a
temporary name and renames is safe at once.

Nothing is lost or taken twice across a stop at any moment: a file leaves the folder only
after its transaction committed, and taking the same bytes again after a crash between the
commit and the move changes nothing (one recording per SHA-256, no second ledger entry).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import OperationalError

from assistgate.app import App
from assistgate.db.session import DatabaseUnavailable
from assistgate.recordings.errors import SidecarError
from assistgate.recordings.formats import AudioError
from assistgate.recordings.ingest import (
    INGESTED,
    REFUSED,
    Outcome,
    ingest_file,
    is_audio_candidate,
    move_aside,
    sidecar_of,
)
from assistgate.recordings.service import Archive
from assistgate.recordings.sidecar import parse_sidecar

Signature = tuple[int, int, int, int]  # audio size, mtime; sidecar size, mtime


@dataclass
class Watcher:
    """One export folder: what was seen when, and what to do with complete files."""

    app: App
    archive: Archive
    folder: Path
    username: str
    settle: float = 2.0
    report: Callable[[Outcome], None] = print
    clock: Callable[[], float] = time.monotonic
    _seen: dict[Path, tuple[Signature, float]] = field(default_factory=dict)

    def _signature(self, audio: Path) -> Signature | None:
        side = sidecar_of(audio)
        try:
            a, s = audio.stat(), side.stat()
        except FileNotFoundError:
            return None
        return a.st_size, a.st_mtime_ns, s.st_size, s.st_mtime_ns

    def ready(self) -> list[Path]:
        """Return the audio files that are complete now (sidecar present, both settled)."""
        now, ready = self.clock(), []
        present = {p for p in self.folder.iterdir() if is_audio_candidate(p)}
        for gone in set(self._seen) - present:
            del self._seen[gone]
        for audio in sorted(present):
            signature = self._signature(audio)
            if signature is None:
                self._seen.pop(audio, None)
                continue
            before = self._seen.get(audio)
            if before is None or before[0] != signature:
                self._seen[audio] = (signature, now)
            elif now - before[1] >= self.settle and self._sidecar_reads(audio):
                ready.append(audio)
        return ready

    def _sidecar_reads(self, audio: Path) -> bool:
        # A sidecar that does not parse yet may still be being written: wait; once it has been
        # still for ten settling periods, take it, so that it is refused with its reason.
        side = sidecar_of(audio)
        try:
            parse_sidecar(side.read_text(encoding="utf-8", errors="replace"), side.name)
        except (SidecarError, OSError):
            return self.clock() - self._seen[audio][1] >= 10 * self.settle
        return True

    def take(self, audio: Path) -> Outcome:
        """Ingest one complete file and move it to ingested/ or, refused, to refused/."""
        try:
            outcome = ingest_file(self.app, self.archive, username=self.username, audio=audio,
                                  need_sidecar=True)  # fmt: skip
        except (AudioError, SidecarError) as exc:
            where = move_aside(audio, REFUSED, reason=f"{audio.name}: refused: {exc}")
            outcome = Outcome(audio, False, f"refused ({exc}); moved to {where}")
        except (OperationalError, DatabaseUnavailable, OSError) as exc:
            # The database or the disk failed, not the file: leave it where it is, try again.
            self._seen.pop(audio, None)
            return Outcome(audio, False, f"not taken now ({exc}); will try again")
        else:
            move_aside(audio, INGESTED)
        self._seen.pop(audio, None)
        return outcome

    def scan_once(self) -> list[Outcome]:
        """Take every file that is complete now; return what became of each."""
        outcomes = []
        for audio in self.ready():
            outcome = self.take(audio)
            self.report(outcome)
            outcomes.append(outcome)
        return outcomes

    def run(self, interval: float, *, stop: Callable[[], bool] = lambda: False) -> None:
        """Scan every `interval` seconds until `stop()` says so (or the process is stopped)."""
        while not stop():
            self.scan_once()
            time.sleep(interval)
