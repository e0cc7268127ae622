"""Recordings out, and kept or let go: playback, download, blocks, legal holds, retention,
verification. Every play, download, block, hold and deletion is a ledger entry on the request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.db.base import utcnow
from assistgate.recordings.crypto import RecordingKeyError, SealedError
from assistgate.recordings.enums import RecordingEvent
from assistgate.recordings.errors import AudioPurged, PlaybackBlocked, RecordingNotFound
from assistgate.recordings.models import PlaybackGrant, Recording
from assistgate.recordings.service import (
    Archive,
    attached_refs,
    get_recording,
    recordings_of,
    require,
    subject_of,
)
from assistgate.recordings.store import BlobMissing
from assistgate.requests.errors import InvalidField, RuleNotMet

CAN_LISTEN = frozenset({Role.COMMANDER, Role.AUDITOR})
CAN_BLOCK = frozenset({Role.ADMIN})
GRANT_SLACK = dt.timedelta(minutes=30)


def _log(session: Session, archive: Archive, recording: Recording, *, actor: User,
         event: RecordingEvent, now: dt.datetime, refs: list[str] | None = None,
         **data: object) -> None:  # fmt: skip
    """Append one entry per request the recording is attached to (or one on the recording)."""
    for subject in refs or attached_refs(session, recording) or [subject_of(recording)]:
        archive.deployment.ledger.append(
            session, actor=actor.username, event=event, subject=subject,
            data={"sha256": recording.sha256, **data}, now=now)  # fmt: skip


def listenable(session: Session, actor: User, ref: str, sha256: str) -> Recording:
    """Return a recording of `ref` that `actor` may hear now, or raise why not."""
    require(actor, CAN_LISTEN, "play or download a recording")
    for recording, _ in recordings_of(session, ref):
        if recording.sha256 == sha256:
            if recording.purged_at is not None:
                raise AudioPurged(f"the audio of this recording was deleted on "
                                  f"{recording.purged_at:%Y-%m-%d} (retention)")  # fmt: skip
            if recording.blocked_reason is not None:
                raise PlaybackBlocked(f"playback of this recording is blocked by an "
                                      f"administrator: {recording.blocked_reason}")  # fmt: skip
            return recording
    raise RecordingNotFound(f"{sha256[:16]}… attached to request {ref}")


def grant_playback(
    session: Session, archive: Archive, *, actor: User, ref: str, sha256: str,
    now: dt.datetime | None = None,
) -> str:  # fmt: skip
    """Record a play (ledger) and return a token that lets `actor` stream it for a while.

    Seeking within the play (HTTP range requests) uses the same token: one play, one entry.
    """
    now = now or utcnow()
    recording = listenable(session, actor, ref, sha256)
    _log(session, archive, recording, actor=actor, event=RecordingEvent.PLAYED, now=now,
         refs=[ref])  # fmt: skip
    session.execute(delete(PlaybackGrant).where(PlaybackGrant.expires_at < now))  # spent ones
    token = secrets.token_urlsafe(32)
    expires = now + GRANT_SLACK + dt.timedelta(seconds=recording.duration_seconds * 2)
    session.add(PlaybackGrant(token_hash=hashlib.sha256(token.encode()).hexdigest(),
                              recording_id=recording.id, user_id=actor.id, request_ref=ref,
                              created_at=now, expires_at=expires))  # fmt: skip
    return token


def redeem(session: Session, *, actor: User, token: str,
           now: dt.datetime | None = None) -> Recording:  # fmt: skip
    """Return the recording a playback token opens for `actor`, checked again at every range."""
    grant = session.get(PlaybackGrant, hashlib.sha256(token.encode()).hexdigest())
    if grant is None or grant.user_id != actor.id or grant.expires_at <= (now or utcnow()):
        raise RecordingNotFound("for this player: start the play again from the request")
    recording = session.get_one(Recording, grant.recording_id)
    return listenable(session, actor, grant.request_ref, recording.sha256)


def record_download(
    session: Session, archive: Archive, *, actor: User, ref: str, sha256: str,
    now: dt.datetime | None = None,
) -> Recording:  # fmt: skip
    """Record a download of the original (ledger) and return the recording to send."""
    now = now or utcnow()
    recording = listenable(session, actor, ref, sha256)
    _log(session, archive, recording, actor=actor, event=RecordingEvent.DOWNLOADED, now=now,
         refs=[ref])  # fmt: skip
    return recording


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidField("reason", "say why (a court order's number, say)")
    if len(reason) > 1000:
        raise InvalidField("reason", "at most 1000 characters")
    return reason.strip()


def block(session: Session, archive: Archive, *, actor: User, sha256: str, reason: str,
          now: dt.datetime | None = None) -> Recording:  # fmt: skip
    """Block playback and download of one recording; its metadata stays visible."""
    require(actor, CAN_BLOCK, "block playback of a recording")
    recording = get_recording(session, sha256)
    if recording.blocked_reason is not None:
        raise RuleNotMet(f"playback of {recording.sha256[:16]}… is already blocked: "
                         f"{recording.blocked_reason}")  # fmt: skip
    recording.blocked_reason = _reason(reason)
    _log(session, archive, recording, actor=actor, event=RecordingEvent.BLOCKED,
         now=now or utcnow(), reason=recording.blocked_reason)  # fmt: skip
    return recording


def unblock(session: Session, archive: Archive, *, actor: User, sha256: str, reason: str,
            now: dt.datetime | None = None) -> Recording:  # fmt: skip
    """Lift a block on playback."""
    require(actor, CAN_BLOCK, "unblock playback of a recording")
    recording = get_recording(session, sha256)
    if recording.blocked_reason is None:
        raise RuleNotMet(f"playback of {recording.sha256[:16]}… is not blocked")
    recording.blocked_reason = None
    _log(session, archive, recording, actor=actor, event=RecordingEvent.UNBLOCKED,
         now=now or utcnow(), reason=_reason(reason))  # fmt: skip
    return recording


def set_hold(session: Session, archive: Archive, *, actor: User, sha256: str, reason: str | None,
             now: dt.datetime | None = None) -> Recording:  # fmt: skip
    """Put a recording on legal hold (`reason`) or release it (None): held audio is never purged."""
    require(actor, CAN_BLOCK, "set or release a legal hold")
    recording = get_recording(session, sha256)
    if reason is None:
        if recording.hold_reason is None:
            raise RuleNotMet(f"{recording.sha256[:16]}… is not on legal hold")
        recording.hold_reason, event, data = None, RecordingEvent.HOLD_RELEASED, dict[str, str]()
    else:
        recording.hold_reason = _reason(reason)
        event, data = RecordingEvent.HOLD_SET, {"reason": recording.hold_reason}
    _log(
        session,
        archive,
        recording,
        actor=actor,
        event=event,
        now=now or utcnow(),
        refs=None,
        **data,
    )
    return recording


def purge(session: Session, archive: Archive, *, actor: User, now: dt.datetime | None = None,
          dry_run: bool = False) -> list[Recording]:  # fmt: skip
    """Delete the audio of recordings past retention and not on hold; keep hash and metadata.

    Returns the recordings purged (or that would be, with `dry_run`). The row is marked and the
    ledger entry written in the caller's transaction; the sealed file is deleted after they are
    flushed, so a crash leaves at worst a marked row whose file `verify` reports as purged.
    """
    require(actor, CAN_BLOCK, "purge recordings")
    now = now or utcnow()
    due = list(session.scalars(
        select(Recording).where(Recording.purged_at.is_(None), Recording.hold_reason.is_(None),
                                Recording.retain_until <= now).order_by(Recording.id)))  # fmt: skip
    if dry_run:
        return due
    for recording in due:
        recording.purged_at = now
        _log(session, archive, recording, actor=actor, event=RecordingEvent.PURGED, now=now,
             retain_until=recording.retain_until.isoformat().replace("+00:00", "Z"),
             size=recording.size)  # fmt: skip
    session.flush()
    for recording in due:
        archive.vault.blobs.delete(recording.sha256)
    return due


# --- Verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    sha256: str
    kind: str  # missing, altered, unreadable
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    purged: int
    problems: list[Problem]
    unreferenced: list[str]  # sealed files no row names (a crash between store and commit)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, archive: Archive) -> VerifyReport:
    """Decrypt and re-hash every stored recording; report each missing, altered or unreadable."""
    problems, checked, purged = [], 0, 0
    known: set[str] = set()
    for recording in session.scalars(select(Recording).order_by(Recording.id)):
        known.add(recording.sha256)
        if recording.purged_at is not None:
            purged += 1
            continue
        checked += 1
        problem = _check_one(archive, recording)
        if problem is not None:
            problems.append(problem)
    unreferenced = [n for n in archive.vault.blobs.names() if n not in known]
    return VerifyReport(checked, purged, problems, unreferenced)


def _check_one(archive: Archive, recording: Recording) -> Problem | None:
    sha = recording.sha256
    try:
        size = archive.vault.check(sha)
    except BlobMissing:
        return Problem(sha, "missing", "no stored file")
    except SealedError as exc:
        return Problem(sha, "altered", str(exc))
    except (RecordingKeyError, OSError) as exc:
        return Problem(sha, "unreadable", str(exc))
    if size != recording.size:
        return Problem(sha, "altered", f"{size} bytes, the register says {recording.size}")
    return None


def stream(archive: Archive, recording: Recording, start: int = 0,
           end: int | None = None) -> Iterator[bytes]:  # fmt: skip
    """Yield the original bytes `start`..`end` of a recording, decrypted."""
    return archive.vault.read(recording.sha256, start, end)
