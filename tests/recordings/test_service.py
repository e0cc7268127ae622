"""Recordings arrive, are attached to the right request or queued, and are never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistgate.app import App
from assistgate.ledger.entry import Entry
from assistgate.ledger.verify import verify_database
from assistgate.recordings.enums import RecordingEvent, Source
from assistgate.recordings.formats import AudioError
from assistgate.recordings.models import Recording, RecordingAttachment
from assistgate.recordings.service import (
    Archive,
    assign,
    evidence_recordings,
    recordings_of,
    review_queue,
)
from assistgate.requests import service
from assistgate.requests.errors import NotPermitted, RequestNotFound, RuleNotMet
from tests.recordings.factories import entries, held_request, put, sidecar


def count(app: App, model: type) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_uploaded_recording_is_attached_with_its_hash_size_duration_and_format(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    ref = held_request(app)
    done = put(app, archive, audio["mp3"].read_bytes(), ref=ref, name="okafor-call.mp3")
    assert (done.created, done.attached_to, done.queued) == (True, ref, None)
    [attached] = entries(app, ref, "request:recording_attached")
    body = Entry.from_bytes(attached.body).data
    meta = body["recording"]
    assert meta["sha256"] == done.recording.sha256
    assert meta["size"] == audio["mp3"].stat().st_size
    assert meta["format"] == "mp3"
    assert meta["original_name"] == "okafor-call.mp3"
    assert meta["duration_ms"] > 3000
    assert body["request"] == {"recording_sha256": done.recording.sha256}
    with app.sessions() as session:
        assert verify_database(session, app.keys.ledger_public_key()).ok


def test_the_same_bytes_twice_are_one_recording(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    ref = held_request(app)
    data = audio["wav"].read_bytes()
    first = put(app, archive, data, ref=ref, name="a.wav")
    again = put(app, archive, data, ref=ref, name="copy-of-a.wav")
    assert (first.created, again.created) == (True, False)
    assert again.recording.sha256 == first.recording.sha256
    assert count(app, Recording) == 1
    assert count(app, RecordingAttachment) == 1
    assert len(entries(app, ref, "request:recording_attached")) == 1


def test_a_request_may_have_several_recordings(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    ref = held_request(app)
    for kind in ("wav", "ogg-opus", "m4a"):
        put(app, archive, audio[kind].read_bytes(), ref=ref, name=audio[kind].name)
    with app.sessions() as session:
        formats = [r.format for r, _ in recordings_of(session, ref)]
    assert formats == ["wav", "ogg", "m4a"]


def test_a_damaged_file_stores_nothing(app: App, archive: Archive, audio: dict[str, Path]) -> None:
    ref = held_request(app)
    before = len(entries(app, ref))
    with pytest.raises(AudioError, match="cut short"):
        put(app, archive, audio["flac"].read_bytes()[:-10], ref=ref)
    assert count(app, Recording) == 0
    assert list(archive.vault.blobs.names()) == []
    assert len(entries(app, ref)) == before


def test_an_unknown_request_stores_nothing(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    with pytest.raises(RequestNotFound):
        put(app, archive, audio["wav"].read_bytes(), ref="AG-2018-9999")
    assert count(app, Recording) == 0
    assert list(archive.vault.blobs.names()) == []


def test_a_call_taker_cannot_add_a_recording(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    ref = held_request(app)
    with pytest.raises(NotPermitted):
        put(app, archive, audio["wav"].read_bytes(), ref=ref, by="ct.alvarez")


def test_a_recorders_file_is_matched_by_the_commanders_extension_and_the_time(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    held_request(app, commander="lt.brandt")  # another officer's request: not a candidate
    ref = held_request(app)
    done = put(app, archive, audio["wav"].read_bytes(), by="cad", source=Source.RECORDER,
               sidecar=sidecar())  # fmt: skip
    assert done.attached_to == ref
    assert done.recording.recorder_call_id == "NX-77812"
    assert done.recording.parties == ["4101", "+1 202 555 0147"]


def test_a_sidecar_naming_the_request_is_followed(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    first, second = held_request(app), held_request(app)
    done = put(app, archive, audio["wav"].read_bytes(), by="cad", source=Source.RECORDER,
               sidecar=sidecar(request_ref=first))  # fmt: skip
    assert done.attached_to == first != second


@pytest.mark.parametrize(
    ("situation", "reason"),
    [
        ("unknown extension", "no commanding officer has the extension"),
        ("two open requests", "held 2 open requests"),
        ("no open request", "held no open request"),
        ("named request missing", "which does not exist"),
    ],
)
def test_an_unmatched_or_ambiguous_file_waits_in_the_review_queue(
    app: App, archive: Archive, audio: dict[str, Path], situation: str, reason: str
) -> None:
    refs = []
    if situation != "no open request":
        refs.append(held_request(app))
    if situation == "two open requests":
        refs.append(held_request(app))
    fields: dict[str, object] = {}
    if situation == "unknown extension":
        fields["parties"] = ["4999", "+1 202 555 0147"]
    if situation == "named request missing":
        fields["request_ref"] = "AG-2018-0999"
    done = put(app, archive, audio["wav"].read_bytes(), by="cad", source=Source.RECORDER,
               sidecar=sidecar(**fields))  # fmt: skip
    assert done.attached_to is None
    assert done.queued is not None
    assert reason in done.queued
    with app.sessions() as session:
        [review] = review_queue(session)
        assert review.recording_id == done.recording.id
        assert review.candidates == (refs if situation == "two open requests" else [])
        assert review.sidecar["recorder_call_id"] == "NX-77812"
    subject = f"recording:{done.recording.sha256[:32]}"
    [queued] = entries(app, subject, RecordingEvent.QUEUED)
    assert reason in Entry.from_bytes(queued.body).data["reason"]
    for ref in refs:
        assert entries(app, ref, "request:recording_attached") == []


def test_a_commander_or_administrator_assigns_a_queued_recording(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    first, second = held_request(app), held_request(app)
    put(app, archive, audio["wav"].read_bytes(), by="cad", source=Source.RECORDER,
        sidecar=sidecar())  # fmt: skip
    with app.transaction() as session:
        [review] = review_queue(session)
        with pytest.raises(NotPermitted):
            assign(session, archive, actor=app.user(session, "ct.alvarez"), review_id=review.id,
                   ref=second)  # fmt: skip
    with app.transaction() as session:
        assign(session, archive, actor=app.user(session, "admin.kim"), review_id=review.id,
               ref=second)  # fmt: skip
    with app.transaction() as session:
        assert review_queue(session) == []
        with pytest.raises(RuleNotMet, match=r"already resolved by admin\.kim"):
            assign(session, archive, actor=app.user(session, "lt.okafor"), review_id=review.id,
                   ref=first)  # fmt: skip
    [attached] = entries(app, second, "request:recording_attached")
    assert attached.actor == "admin.kim"


def test_the_evidence_reader_gives_each_recordings_metadata_and_original_bytes(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    ref = held_request(app)
    for kind in ("flac", "mp3"):
        put(app, archive, audio[kind].read_bytes(), ref=ref, name=f"call.{kind}")
    with app.sessions() as session:
        found = evidence_recordings(session, archive, ref)
    assert [(e.format, e.original_name) for e in found] == [("flac", "call.flac"),
                                                           ("mp3", "call.mp3")]  # fmt: skip
    for item, kind in zip(found, ("flac", "mp3"), strict=True):
        assert b"".join(item.chunks()) == audio[kind].read_bytes()
        assert item.size == audio[kind].stat().st_size
        assert item.duration_seconds > 3


def test_closing_needs_a_recording_or_an_exception_that_auditors_see(
    app: App, archive: Archive, audio: dict[str, Path]
) -> None:
    outcome = {"officer_actions": [], "police_arrests": [], "agency_arrests": 0,
               "immigration_status_asked": False}  # fmt: skip
    facts = {"agency": "ice-ero", "warrant": {"kind": "none"}}
    refs = []
    for _ in range(3):
        ref = held_request(app)
        with app.transaction() as session:
            service.decide(session, app.deployment, actor=app.user(session, "lt.okafor"),
                           ref=ref, facts=facts, approve=[])  # fmt: skip
        refs.append(ref)
    recorded, failed, off_line = refs
    with app.transaction() as session, pytest.raises(RuleNotMet, match="call recording"):
        service.close(session, app.deployment, actor=app.user(session, "lt.okafor"), ref=failed,
                      outcome=outcome)  # fmt: skip
    put(app, archive, audio["wav"].read_bytes(), ref=recorded)
    reasons = {
        failed: "recorder failure: the command line's recorder was down (ticket 4471)",
        off_line: "agency call not on a recorded line: the agent called a cell phone",
    }
    with app.transaction() as session:
        lt = app.user(session, "lt.okafor")
        for ref, why in reasons.items():
            service.record_exception(session, app.deployment, actor=lt, ref=ref,
                                     kind="no_recording", reason=why)  # fmt: skip
        for ref in refs:
            service.close(session, app.deployment, actor=lt, ref=ref, outcome=outcome)
    with app.sessions() as session:
        for ref in refs:
            request = service.get_request(session, ref)
            assert request.state == "closed"
            assert request.flagged_for_review == (ref in reasons)
            if ref in reasons:
                assert request.exceptions == {"no_recording": reasons[ref]}
