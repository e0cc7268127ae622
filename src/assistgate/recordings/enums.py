"""Ledger event names of recordings ("subject:action") and where recordings come from."""

from __future__ import annotations

from enum import StrEnum


class RecordingEvent(StrEnum):
    # A recording that matched no request, or several: kept in the review queue.
    QUEUED = "recording:queued_for_review"
    PLAYED = "recording:played"
    DOWNLOADED = "recording:downloaded"
    BLOCKED = "recording:playback_blocked"
    UNBLOCKED = "recording:playback_unblocked"
    HOLD_SET = "recording:legal_hold_set"
    HOLD_RELEASED = "recording:legal_hold_released"
    PURGED = "recording:audio_purged"


class Source(StrEnum):
    UPLOAD = "upload"  # the request screen
    API = "api"  # POST /api/v1/requests/{ref}/recordings
    RECORDER = "recorder"  # a call recorder's export folder (ingest or watch)
    DEMO = "demo"


EVENT_LABELS: dict[str, str] = {
    RecordingEvent.QUEUED: "Recording queued for review",
    RecordingEvent.PLAYED: "Recording played",
    RecordingEvent.DOWNLOADED: "Recording downloaded",
    RecordingEvent.BLOCKED: "Recording playback blocked",
    RecordingEvent.UNBLOCKED: "Recording playback unblocked",
    RecordingEvent.HOLD_SET: "Recording legal hold set",
    RecordingEvent.HOLD_RELEASED: "Recording legal hold released",
    RecordingEvent.PURGED: "Recording audio deleted (retention)",
}
