"""Recordings in: sniff, seal, register, attach to the right request or queue for review.

Every function is keyword-only after the session and the archive, takes `now`, and appends its
ledger entries in the caller's transaction. The sealed file is written before the row (a crash
between the two leaves an unreferenced sealed file, never a row without its audio).

For the evidence export, `evidence_recordings(session, archive, ref)` returns each recording
attached to a request with its metadata and a reader of its original bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.auth.enums import Role
from assistgate.auth.models import User, UserRole
from assistgate.db.base import utcnow
from assistgate.recordings.enums import RecordingEvent, Source
from assistgate.recordings.errors import AudioPurged, RecordingError, RecordingNotFound
from assistgate.recordings.formats import SUFFIXES, sniff
from assistgate.recordings.models import Recording, RecordingAttachment, RecordingReview
from assistgate.recordings.sidecar import Sidecar, digits
from assistgate.recordings.store import Vault
from assistgate.requests import service as register
from assistgate.requests.deployment import Deployment
from assistgate.requests.enums import OPEN_STATES
from assistgate.requests.errors import NotPermitted, RequestNotFound, RuleNotMet
from assistgate.requests.models import Request

DEFAULT_RETENTION = dt.timedelta(days=2557)  # seven years (with two leap days)
# A call may start a few minutes before the request is registered (the agency calls the
# commanding officer while the call taker is still typing).
MATCH_SLACK = dt.timedelta(minutes=15)
CAN_INGEST = frozenset({Role.COMMANDER, Role.DISPATCH_SYSTEM})
CAN_ASSIGN = frozenset({Role.COMMANDER, Role.ADMIN})


@dataclass
class Archive:
    """What the recordings' steps need: the deployment (its ledger), the vault, retention."""

    deployment: Deployment
    vault: Vault
    retention: dt.timedelta = DEFAULT_RETENTION


@dataclass(frozen=True)
class Ingested:
    """What became of one file: its row, whether it was new, and where it went."""

    recording: Recording
    created: bool
    attached_to: str | None
    queued: str | None  # why it waits in the review queue, if it does


def require(actor: User, roles: frozenset[Role], doing: str) -> None:
    """Refuse an inactive actor or one holding none of `roles`."""
    if not actor.active:
        raise NotPermitted(f"{actor.username} is not an active user")
    if not actor.has_any(roles):
        allowed = ", ".join(sorted(r.value for r in roles))
        raise NotPermitted(f"{actor.username} may not {doing}; allowed: {allowed}")


def subject_of(recording: Recording | EvidenceRecording) -> str:
    """Return the ledger subject of a recording attached to no request."""
    return f"recording:{recording.sha256[:32]}"


def metadata(recording: Recording) -> dict[str, Any]:
    """Return what the ledger records about a recording when it is attached or queued."""
    meta: dict[str, Any] = {
        "sha256": recording.sha256, "size": recording.size,
        # Milliseconds: the ledger's canonical JSON refuses floats.
        "duration_ms": round(recording.duration_seconds * 1000), "format": recording.format,
        "codec": recording.codec, "original_name": recording.original_name,
        "source": recording.source,
    }  # fmt: skip
    if recording.recorder_call_id:
        meta["recorder_call_id"] = recording.recorder_call_id
    return meta


def get_recording(session: Session, sha256: str) -> Recording:
    """Return the recording with this SHA-256 (or a unique prefix of at least 8 digits)."""
    sha = sha256.strip().lower()
    if len(sha) < 8:
        raise RecordingNotFound(f"{sha256!r}: give at least 8 hex digits of its SHA-256")
    rows = session.scalars(select(Recording).where(Recording.sha256.startswith(sha))).all()
    if len(rows) != 1:
        raise RecordingNotFound(f"{sha256!r}" if not rows else f"{sha256!r}: several match")
    return rows[0]


def ingest(
    session: Session,
    archive: Archive,
    *,
    actor: User,
    data: bytes,
    name: str,
    source: Source,
    ref: str | None = None,
    sidecar: Sidecar | None = None,
    now: dt.datetime | None = None,
) -> Ingested:
    """Keep one recording: attach it to `ref`, to the request its sidecar leads to, or queue it.

    Raises `AudioError` (empty, truncated, not audio) before anything is stored, and the
    register's errors when `ref` is given but unknown or closed. The same bytes again are the
    same recording: nothing new is stored, and it is attached where it is not yet.
    """
    require(actor, CAN_INGEST, "add a recording")
    now = now or utcnow()
    info = sniff(data)
    if ref is not None:  # an unknown or closed request stores nothing
        request = register.get_request(session, ref)
        if request.state not in OPEN_STATES:
            raise RuleNotMet(f"request {ref} is {request.state}: nothing more can be attached")
    sha = archive.vault.put(data)
    recording = session.scalars(select(Recording).where(Recording.sha256 == sha)).one_or_none()
    created = recording is None
    if recording is None:
        started = sidecar.call_started_at if sidecar else None
        recording = Recording(
            sha256=sha, size=len(data), duration_seconds=info.duration_seconds,
            format=info.format, codec=info.codec, sample_rate=info.sample_rate,
            channels=info.channels, original_name=name[-255:], source=source.value,
            received_at=now, received_by=actor.username,
            recorder_call_id=sidecar.recorder_call_id if sidecar else None,
            call_started_at=started, call_ended_at=sidecar.call_ended_at if sidecar else None,
            parties=list(sidecar.parties) if sidecar else [],
            retain_until=(started or now) + archive.retention,
        )  # fmt: skip
        session.add(recording)
        session.flush()
    target, why, candidates = ref, None, list[str]()
    if target is None and sidecar is not None:
        target, why, candidates = _target_of(session, sidecar)
    if target is not None:
        attach(session, archive, actor=actor, recording=recording, ref=target, now=now)
        return Ingested(recording, created, target, None)
    if why is None:
        why = "no request reference and no recorder metadata to match it by"
    if created or not _placed(session, recording):
        _queue(session, archive, actor=actor, recording=recording, reason=why,
               candidates=candidates, sidecar=sidecar, now=now)  # fmt: skip
    return Ingested(recording, created, None, why)


def name_disagrees(name: str, fmt: str) -> bool:
    """Say whether a file's name claims another format than its content has."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    known = set().union(*SUFFIXES.values())
    return suffix in known and suffix not in SUFFIXES[fmt]


def _target_of(session: Session, sidecar: Sidecar) -> tuple[str | None, str | None, list[str]]:
    """Return (the request to attach to, or why none, candidates) for a recorder's file."""
    if sidecar.request_ref is not None:
        try:
            request = register.get_request(session, sidecar.request_ref)
        except RequestNotFound:
            return None, f"the sidecar names request {sidecar.request_ref}, which does not " \
                "exist", []  # fmt: skip
        if request.state not in OPEN_STATES:
            return None, f"the sidecar names request {request.ref}, which is " \
                f"{request.state}", [request.ref]  # fmt: skip
        return request.ref, None, []
    refs, why = match_request(session, sidecar)
    return (refs[0], None, refs) if len(refs) == 1 else (None, why, refs)


def match_request(session: Session, sidecar: Sidecar) -> tuple[list[str], str]:
    """Return the open requests a call could belong to, and why there is not exactly one.

    A candidate is an open request held by a commanding officer whose extension is one of the
    call's parties (digits compared exactly), received no later than MATCH_SLACK after the
    call started. One candidate is a match; none or several go to the review queue.
    """
    wanted = {digits(p) for p in sidecar.parties} - {""}
    officers = session.scalars(
        select(User.username).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.COMMANDER, User.extension.is_not(None))
    ).all()  # fmt: skip
    extension = {u.username: digits(u.extension or "") for u in session.scalars(
        select(User).where(User.username.in_(officers)))}  # fmt: skip
    names = [u for u, ext in extension.items() if ext and ext in wanted]
    parties = " and ".join(sidecar.parties)
    if not names:
        return [], f"no commanding officer has the extension of either party ({parties})"
    refs = list(session.scalars(
        select(Request.ref).where(
            Request.commander.in_(names), Request.state.in_([s.value for s in OPEN_STATES]),
            Request.received_at <= sidecar.call_started_at + MATCH_SLACK)
        .order_by(Request.received_at)
    ))  # fmt: skip
    who = ", ".join(sorted(names))
    if not refs:
        return [], f"{who} held no open request when the call started"
    if len(refs) > 1:
        return refs, f"{who} held {len(refs)} open requests when the call started: " \
            f"{', '.join(refs)}"  # fmt: skip
    return refs, ""


def attach(
    session: Session,
    archive: Archive,
    *,
    actor: User,
    recording: Recording,
    ref: str,
    now: dt.datetime | None = None,
) -> bool:
    """Attach a stored recording to a request (a ledger entry with its metadata).

    Returns False, writing nothing, if it is attached there already.
    """
    request = register.get_request(session, ref)
    already = session.scalar(select(RecordingAttachment.id).where(
        RecordingAttachment.recording_id == recording.id,
        RecordingAttachment.request_id == request.id))  # fmt: skip
    if already is not None:
        return False
    now = now or utcnow()
    register.attach_recording(session, archive.deployment, actor=actor, ref=ref,
                              sha256=recording.sha256, extra={"recording": metadata(recording)},
                              now=now)  # fmt: skip
    session.add(RecordingAttachment(recording_id=recording.id, request_id=request.id,
                                    attached_at=now, attached_by=actor.username))  # fmt: skip
    session.flush()
    return True


def _placed(session: Session, recording: Recording) -> bool:
    """Say whether a recording is attached somewhere or was ever queued (a file sent again)."""
    queued = select(RecordingReview.id).where(RecordingReview.recording_id == recording.id)
    attached = select(RecordingAttachment.id).where(
        RecordingAttachment.recording_id == recording.id)  # fmt: skip
    return session.scalar(queued.union(attached).limit(1)) is not None


def _queue(
    session: Session, archive: Archive, *, actor: User, recording: Recording, reason: str,
    candidates: list[str], sidecar: Sidecar | None, now: dt.datetime,
) -> RecordingReview:  # fmt: skip
    review = RecordingReview(recording_id=recording.id, reason=reason, candidates=candidates,
                             sidecar=sidecar.raw if sidecar else {}, created_at=now)  # fmt: skip
    session.add(review)
    session.flush()
    archive.deployment.ledger.append(
        session, actor=actor.username, event=RecordingEvent.QUEUED, subject=subject_of(recording),
        data={"recording": metadata(recording), "reason": reason, "candidates": candidates,
              "review": review.id}, now=now)  # fmt: skip
    return review


def review_queue(session: Session, *, include_resolved: bool = False) -> list[RecordingReview]:
    """Return the recordings waiting for someone to say which request they belong to."""
    query = select(RecordingReview).order_by(RecordingReview.id)
    if not include_resolved:
        query = query.where(RecordingReview.resolved_at.is_(None))
    return list(session.scalars(query))


def assign(
    session: Session,
    archive: Archive,
    *,
    actor: User,
    review_id: int,
    ref: str,
    now: dt.datetime | None = None,
) -> RecordingReview:
    """Attach a queued recording to the request a person says it belongs to."""
    require(actor, CAN_ASSIGN, "assign a recording from the review queue")
    review = session.get(RecordingReview, review_id, with_for_update=True)
    if review is None:
        raise RecordingNotFound(f"in the review queue with number {review_id}")
    if review.resolved_at is not None:
        raise RuleNotMet(f"review {review_id} was already resolved by {review.resolved_by} "
                         f"(attached to {review.resolved_ref})")  # fmt: skip
    now = now or utcnow()
    recording = session.get_one(Recording, review.recording_id)
    attach(session, archive, actor=actor, recording=recording, ref=ref, now=now)
    review.resolved_at, review.resolved_by, review.resolved_ref = now, actor.username, ref
    return review


def recordings_of(session: Session, ref: str) -> list[tuple[Recording, RecordingAttachment]]:
    """Return the recordings attached to request `ref`, in the order they were attached."""
    rows = session.execute(
        select(Recording, RecordingAttachment)
        .join(RecordingAttachment, RecordingAttachment.recording_id == Recording.id)
        .join(Request, Request.id == RecordingAttachment.request_id)
        .where(Request.ref == ref).order_by(RecordingAttachment.id)
    ).all()  # fmt: skip
    return [(r, a) for r, a in rows]


def attached_refs(session: Session, recording: Recording) -> list[str]:
    """Return the references of the requests a recording is attached to."""
    return list(session.scalars(
        select(Request.ref).join(RecordingAttachment, RecordingAttachment.request_id == Request.id)
        .where(RecordingAttachment.recording_id == recording.id).order_by(Request.id)))  # fmt: skip


# --- For the evidence export -----------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRecording:
    """One recording attached to a request, as an evidence bundle lists it."""

    sha256: str
    size: int
    duration_seconds: float
    format: str
    codec: str
    original_name: str
    attached_at: dt.datetime
    attached_by: str
    purged_at: dt.datetime | None
    vault: Vault

    def chunks(self) -> Iterator[bytes]:
        """Yield the original bytes, decrypted and checked against the SHA-256 as they go.

        Raises `AudioPurged` if retention deleted the audio, `SealedError` if the stored file
        was altered, `BlobMissing` if it is gone.
        """
        if self.purged_at is not None:
            raise AudioPurged(f"the audio of {self.sha256} was deleted on "
                              f"{self.purged_at:%Y-%m-%d} when its retention ran out")  # fmt: skip
        return self.vault.read(self.sha256)


def evidence_recordings(session: Session, archive: Archive, ref: str) -> list[EvidenceRecording]:
    """Return every recording attached to request `ref`, with a reader of its original bytes.

    The list is in attachment order; an unknown `ref` raises `RequestNotFound`. Reading is not
    logged here: the caller records the export itself.
    """
    register.get_request(session, ref)
    return [EvidenceRecording(r.sha256, r.size, r.duration_seconds, r.format, r.codec,
                              r.original_name, a.attached_at, a.attached_by, r.purged_at,
                              archive.vault)
            for r, a in recordings_of(session, ref)]  # fmt: skip


__all__ = ["Archive", "EvidenceRecording", "Ingested", "RecordingError", "evidence_recordings",
           "ingest"]  # fmt: skip
