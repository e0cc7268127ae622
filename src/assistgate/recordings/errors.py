"""Typed refusals of the recordings domain; each message says what was wrong."""

from __future__ import annotations

from assistgate.requests.errors import RegisterError


class RecordingError(RegisterError):
    """Base of the recordings' refusals: nothing was written."""


class RecordingNotFound(RecordingError):
    def __init__(self, what: str) -> None:
        super().__init__(f"no recording {what}")


class PlaybackBlocked(RecordingError):
    """An administrator blocked playback of this recording (a court order, say)."""


class AudioPurged(RecordingError):
    """The audio was deleted when its retention ran out; its hash and metadata remain."""


class SidecarError(RecordingError):
    """A recorder's sidecar file is missing, not JSON, or lacks a field; the message names it."""
