"""The real format and length of a recording come from its bytes; damaged files are refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from assistgate.recordings.formats import (
    AudioError,
    EmptyAudio,
    NotAudio,
    TruncatedAudio,
    sniff,
)
from assistgate.recordings.service import name_disagrees
from tests.recordings.audio import ENCODINGS, EXPECTED, probe_seconds

KINDS = sorted(ENCODINGS)


@pytest.mark.parametrize("kind", KINDS)
def test_each_format_is_recognised_with_the_duration_ffprobe_measures(
    audio: dict[str, Path], kind: str
) -> None:
    info = sniff(audio[kind].read_bytes())
    assert (info.format, info.codec) == EXPECTED[kind]
    # AAC and Opus carry encoder priming that containers count differently; 0.1 s is far
    # below anything that would make two recordings of one call look alike.
    assert info.duration_seconds == pytest.approx(probe_seconds(audio[kind]), abs=0.1)
    assert info.duration_seconds > 3
    assert info.sample_rate > 0
    assert info.channels >= 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("keep", [0.5, 0.9, -1, -100], ids=["half", "90pc", "less1", "less100"])
def test_a_file_cut_short_is_refused_as_truncated(
    audio: dict[str, Path], kind: str, keep: float
) -> None:
    data = audio[kind].read_bytes()
    cut = int(len(data) * keep) if keep > 0 else len(data) + int(keep)
    with pytest.raises(TruncatedAudio, match="cut short"):
        sniff(data[:cut])


def test_an_mp3_cut_exactly_between_frames_is_refused_by_its_frame_count(
    audio: dict[str, Path],
) -> None:
    from assistgate.recordings.formats import _id3_end, _mpeg_header

    data = audio["mp3"].read_bytes()
    pos = _id3_end(data)
    for _ in range(10):
        header = _mpeg_header(data, pos)
        assert header is not None
        pos += header[0]
    with pytest.raises(TruncatedAudio, match=r"declares \d+ frames but holds 9"):
        sniff(data[:pos])


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(EmptyAudio, match="empty"):
        sniff(b"")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Call notes: the agent asked for a unit at 14:02.\n" * 20, "not a recognised audio"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 8, "not a recognised audio"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 400, "not a recognised audio"),
        (b"PK\x03\x04" + b"\x00" * 400, "not a recognised audio"),
        (b"RIFF\x24\x00\x00\x00AVI LIST" + b"\x00" * 28, "not a recognised audio"),
    ],
    ids=["text", "pdf", "png", "zip", "avi"],
)
def test_files_that_are_not_audio_are_refused(content: bytes, message: str) -> None:
    with pytest.raises(NotAudio, match=message):
        sniff(content)


def test_an_ogg_file_of_another_codec_is_refused(tmp_path: Path, audio: dict[str, Path]) -> None:
    out = tmp_path / "speech.oga"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(audio["wav"]), "-c:a", "flac",
                    str(out)], check=True)  # fmt: skip
    with pytest.raises(NotAudio, match="not Vorbis or Opus"):
        sniff(out.read_bytes())


def test_a_video_is_not_taken_for_an_audio_recording(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=duration=1:size=64x48:rate=5", "-c:v", "mpeg4", str(out)],
                   check=True)  # fmt: skip
    with pytest.raises(NotAudio, match="video"):
        sniff(out.read_bytes())


def test_random_bytes_in_a_wav_header_are_refused(audio: dict[str, Path]) -> None:
    data = bytearray(audio["wav"].read_bytes())
    data[16:36] = b"\x00" * 20  # the format chunk's fields
    with pytest.raises(AudioError):
        sniff(bytes(data))


def test_a_name_that_lies_does_not_change_what_the_file_is(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    liar = tmp_path / "call-0412.mp3"
    liar.write_bytes(audio["flac"].read_bytes())
    info = sniff(liar.read_bytes())
    assert (info.format, info.codec) == ("flac", "flac")
    assert name_disagrees(liar.name, info.format)
    assert not name_disagrees("call-0412.flac", info.format)
    assert not name_disagrees("call-0412", info.format)
