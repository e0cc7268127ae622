"""Tiny real WAV files for the demo's recordings (tones, not speech: real audio comes later)."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave
from pathlib import Path

RATE = 8000  # telephone-band audio, as call recorders keep it


def tone_wav(seconds: float, frequency: float) -> bytes:
    """Return a mono 16-bit 8 kHz WAV of a soft tone."""
    frames = int(RATE * seconds)
    samples = (int(6000 * math.sin(2 * math.pi * frequency * i / RATE)) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()


def write_recording(folder: Path, seconds: float, frequency: float) -> str:
    """Write one WAV named by its SHA-256 into `folder` and return the digest."""
    data = tone_wav(seconds, frequency)
    digest = hashlib.sha256(data).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{digest}.wav").write_bytes(data)
    return digest
