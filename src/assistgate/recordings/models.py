"""Recordings as stored: the recording (its hash and what it is), where it is attached, the
review queue of recordings no request could be found for, and playback grants."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assistgate.db.base import Base, UTCDateTime


class Recording(Base):
    """One original recording, named by the SHA-256 of its bytes: the same bytes are one row."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    duration_seconds: Mapped[float] = mapped_column(Float)
    # Read from the content: wav, mp3, flac, ogg, m4a; the codec inside (pcm, vorbis, aac...).
    format: Mapped[str] = mapped_column(String(16))
    codec: Mapped[str] = mapped_column(String(32))
    sample_rate: Mapped[int] = mapped_column(Integer)
    channels: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(255))
    # How it came: upload (request screen), api, recorder (watched folder or ingest), demo.
    source: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_by: Mapped[str] = mapped_column(String(64))
    recorder_call_id: Mapped[str | None] = mapped_column(String(100), default=None)
    call_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    call_ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    parties: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The audio may be deleted after this moment, unless a legal hold is set.
    retain_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    hold_reason: Mapped[str | None] = mapped_column(Text, default=None)
    blocked_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # Set when retention ran out and the audio was deleted; the hash and metadata stay.
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class RecordingAttachment(Base):
    """A recording attached to a request (a request may have several)."""

    __tablename__ = "recording_attachments"
    __table_args__ = (UniqueConstraint("recording_id", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    attached_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attached_by: Mapped[str] = mapped_column(String(64))


class RecordingReview(Base):
    """A recording that could not be matched to exactly one request: kept, never guessed."""

    __tablename__ = "recording_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    candidates: Mapped[list[str]] = mapped_column(JSON, default=list)
    sidecar: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    resolved_ref: Mapped[str | None] = mapped_column(String(32), default=None)


class PlaybackGrant(Base):
    """Permission for one person to stream one recording for a while, made by a logged play.

    Only the hash of the grant's token is kept; the player's address carries the token.
    """

    __tablename__ = "recording_grants"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    request_ref: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
