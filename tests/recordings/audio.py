"""Real audio files for the tests, spoken by espeak-ng and encoded by sox and ffmpeg (Debian).

Each format is made from the same spoken WAV, so durations can be compared with ffprobe's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

TOOLS = ("espeak-ng", "sox", "ffmpeg", "ffprobe")
# name -> (file name, command after the input); {src} and {out} are filled in.
ENCODINGS = {
    "wav": ("call.wav", None),
    "mp3": ("call.mp3", ["ffmpeg", "-loglevel", "error", "-i", "{src}", "-c:a", "libmp3lame",
                         "-b:a", "32k", "{out}"]),
    "flac": ("call.flac", ["sox", "{src}", "{out}"]),
    "ogg-vorbis": ("call.ogg", ["ffmpeg", "-loglevel", "error", "-i", "{src}", "-c:a",
                                "libvorbis", "{out}"]),
    "ogg-opus": ("call.opus", ["ffmpeg", "-loglevel", "error", "-i", "{src}", "-c:a", "libopus",
                               "-b:a", "24k", "{out}"]),
    "m4a": ("call.m4a", ["ffmpeg", "-loglevel", "error", "-i", "{src}", "-c:a", "aac",
                         "-b:a", "48k", "{out}"]),
}  # fmt: skip
# What the sniffer must say each is: (format, codec).
EXPECTED = {"wav": ("wav", "pcm"), "mp3": ("mp3", "mp3"), "flac": ("flac", "flac"),
            "ogg-vorbis": ("ogg", "vorbis"), "ogg-opus": ("ogg", "opus"),
            "m4a": ("m4a", "aac")}  # fmt: skip
WORDS = "Lieutenant Okafor for the record. The agency asks for a unit at the Elm Street address."


def require_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(f"the recording tests need {', '.join(missing)} (Debian packages espeak-ng, "
                    "sox, ffmpeg; bash scripts/test.sh installs them)", pytrace=False)  # fmt: skip


def speak(out: Path, words: str = WORDS, *, voice: str = "en-us", speed: int = 160) -> Path:
    """Write `words` spoken by espeak-ng as a WAV file."""
    require_tools()
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), words],
                   check=True, capture_output=True)  # fmt: skip
    return out


def encode(src: Path, kind: str, folder: Path) -> Path:
    """Return `src` encoded as `kind` (a key of ENCODINGS) in `folder`."""
    name, command = ENCODINGS[kind]
    out = folder / name
    if command is None:
        shutil.copyfile(src, out)
    else:
        subprocess.run([part.format(src=src, out=out) for part in command], check=True,
                       capture_output=True)  # fmt: skip
    return out


def probe_seconds(path: Path) -> float:
    """Return ffprobe's idea of the file's duration."""
    done = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                           "-of", "json", str(path)],
                          check=True, capture_output=True, text=True)  # fmt: skip
    return float(json.loads(done.stdout)["format"]["duration"])


def every_format(folder: Path, words: str = WORDS) -> dict[str, Path]:
    """Make the same spoken words in every accepted format; return kind -> file."""
    folder.mkdir(parents=True, exist_ok=True)
    source = speak(folder / "source.wav", words)
    return {kind: encode(source, kind, folder) for kind in ENCODINGS}
