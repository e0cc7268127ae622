"""Files from a call recorder's export folder: an audio file and its sidecar `<name>.json`.

`ingest_file` takes one pair in one transaction; `watch` (watch.py) calls it for every pair
that is complete. A refused pair is moved to `refused/` with `<name>.reason.txt` next to it,
a taken pair to `ingested/`, so the folder itself shows what became of every file.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from assistgate.app import App
from assistgate.recordings.enums import Source
from assistgate.recordings.errors import SidecarError
from assistgate.recordings.formats import AudioError
from assistgate.recordings.service import Archive, ingest
from assistgate.recordings.sidecar import Sidecar, parse_sidecar

SIDECAR = ".json"
INGESTED, REFUSED = "ingested", "refused"
# Files a recorder is still writing, by common conventions; never taken.
PARTIAL = (".part", ".partial", ".tmp", ".crdownload", ".filepart")
MAX_BYTES = 2 << 30  # 2 GiB: a day-long call at telephone quality is a few hundred MB


@dataclass(frozen=True)
class Outcome:
    path: Path
    ok: bool
    message: str
    sha256: str = ""


def sidecar_of(audio: Path) -> Path:
    return audio.with_name(audio.name + SIDECAR)


def is_audio_candidate(path: Path) -> bool:
    """Say whether a file in the folder could be a recording (not a sidecar, note or partial)."""
    name = path.name
    if name.startswith(".") or name.endswith((SIDECAR, ".reason.txt")):
        return False
    return path.is_file() and not name.lower().endswith(PARTIAL)


def read_pair(audio: Path, *, need_sidecar: bool) -> tuple[bytes, Sidecar | None]:
    """Read an audio file and its sidecar (when present or required)."""
    side = sidecar_of(audio)
    sidecar = None
    if side.exists():
        sidecar = parse_sidecar(side.read_text(encoding="utf-8", errors="replace"), side.name)
    elif need_sidecar:
        raise SidecarError(f"{side.name}: the sidecar is missing")
    if audio.stat().st_size > MAX_BYTES:
        raise AudioError(f"{audio.name}: larger than {MAX_BYTES >> 30} GiB")
    return audio.read_bytes(), sidecar


def ingest_file(
    app: App, archive: Archive, *, username: str, audio: Path, ref: str | None = None,
    need_sidecar: bool = False, now: dt.datetime | None = None,
) -> Outcome:  # fmt: skip
    """Take one recorder file (and its sidecar) in one transaction; say what became of it.

    Raises `AudioError` and `SidecarError` for a file that can never be taken; the caller
    decides whether to move it aside.
    """
    data, sidecar = read_pair(audio, need_sidecar=need_sidecar)
    with app.transaction() as session:
        done = ingest(session, archive, actor=app.user(session, username), data=data,
                      name=audio.name, source=Source.RECORDER, ref=ref, sidecar=sidecar,
                      now=now)  # fmt: skip
        sha = done.recording.sha256
    again = "" if done.created else " (already stored: the same bytes)"
    if done.attached_to:
        return Outcome(audio, True, f"attached to {done.attached_to}{again}", sha)
    return Outcome(audio, True, f"in the review queue: {done.queued}{again}", sha)


def move_aside(audio: Path, folder: str, reason: str | None = None) -> Path:
    """Move an audio file and its sidecar into `folder` under the watched folder (no overwrite).

    With `reason`, write `<name>.reason.txt` next to them, saying why the file was refused.
    """
    target_dir = audio.parent / folder
    target_dir.mkdir(exist_ok=True)
    target = _free_name(target_dir / audio.name)
    if reason is not None:
        note = target.with_name(target.name + ".reason.txt")
        note.write_text(reason.rstrip() + "\n", encoding="utf-8")
    side = sidecar_of(audio)
    if side.exists():
        os.replace(side, sidecar_of(target))
    os.replace(audio, target)
    fd = os.open(target_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return target


def _free_name(path: Path) -> Path:
    if not path.exists() and not sidecar_of(path).exists():
        return path
    n = 1
    while True:
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
        if not candidate.exists() and not sidecar_of(candidate).exists():
            return candidate
        n += 1
