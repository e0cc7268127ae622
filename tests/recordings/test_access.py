"""Playback grants: one person, one recording, for a while; checked again at every range."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assistgate.app import App
from assistgate.recordings import access
from assistgate.recordings.errors import PlaybackBlocked, RecordingNotFound
from assistgate.recordings.service import Archive
from assistgate.requests.errors import NotPermitted
from tests.recordings.factories import CALL_START, held_request, put

LATER = CALL_START + dt.timedelta(days=3)


def test_a_grant_opens_one_recording_for_one_person_until_it_expires(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    ref = held_request(app)
    sha = put(app, archive, audio["wav"].read_bytes(), ref=ref).recording.sha256
    elsewhere = held_request(app)
    with app.transaction() as db:
        token = access.grant_playback(db, archive, actor=app.user(db, "ig.rowe"), ref=ref,
                                      sha256=sha, now=LATER)  # fmt: skip
    with app.transaction() as db:
        rowe, okafor = app.user(db, "ig.rowe"), app.user(db, "lt.okafor")
        assert access.redeem(db, actor=rowe, token=token, now=LATER).sha256 == sha
        with pytest.raises(RecordingNotFound):
            access.redeem(db, actor=okafor, token=token, now=LATER)
        with pytest.raises(RecordingNotFound):
            access.redeem(db, actor=rowe, token=token, now=LATER + dt.timedelta(hours=2))
        with pytest.raises(NotPermitted):
            access.grant_playback(db, archive, actor=app.user(db, "ct.alvarez"), ref=ref,
                                  sha256=sha)  # fmt: skip
        with pytest.raises(RecordingNotFound):
            access.grant_playback(db, archive, actor=rowe, ref=elsewhere, sha256=sha)


def test_a_block_set_after_a_grant_stops_the_stream_at_the_next_range(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    ref = held_request(app)
    sha = put(app, archive, audio["mp3"].read_bytes(), ref=ref).recording.sha256
    with app.transaction() as db:
        token = access.grant_playback(db, archive, actor=app.user(db, "lt.okafor"), ref=ref,
                                      sha256=sha, now=LATER)  # fmt: skip
    with app.transaction() as db:
        access.block(db, archive, actor=app.user(db, "admin.kim"), sha256=sha,
                     reason="Court order 18-CI-0412")  # fmt: skip
    with app.transaction() as db, pytest.raises(PlaybackBlocked, match="18-CI-0412"):
        access.redeem(db, actor=app.user(db, "lt.okafor"), token=token, now=LATER)
