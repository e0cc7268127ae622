"""The demo's recorded calls: short spoken clips (fictional words, made with espeak-ng and sox
at 8 kHz, telephone quality), each made unique per request by a few samples of silence, taken
in through the recordings service like any upload, so a newcomer can play one."""

from __future__ import annotations

import datetime as dt
import io
import wave
from importlib import resources

from sqlalchemy.orm import Session

from assistgate.auth.models import User
from assistgate.recordings.enums import Source
from assistgate.recordings.service import Archive, ingest
from assistgate.recordings.store import Vault
from assistgate.requests.deployment import Deployment

CLIPS = {"dispatch": "ruiz-confirmed.wav", "decline": "brandt-decline.wav",
         "check": "okafor-warrant-check.wav"}  # fmt: skip


def clip(kind: str, n: int) -> bytes:
    """Return the clip for `kind` with `n` + 1 samples of silence added, as a new WAV."""
    raw = resources.files("assistgate.demo").joinpath("calls", CLIPS[kind]).read_bytes()
    with wave.open(io.BytesIO(raw), "rb") as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setparams(params)
        target.writeframes(frames + b"\x00" * params.sampwidth * params.nchannels * (n + 1))
    return out.getvalue()


def attach_call(session: Session, deployment: Deployment, *, actor: User, ref: str,
                now: dt.datetime, vault: Vault, kind: str, n: int) -> None:  # fmt: skip
    """Take one demo call recording in and attach it to request `ref`."""
    ingest(session, Archive(deployment, vault), actor=actor, data=clip(kind, n),
           name=f"{ref}-command-line.wav", source=Source.DEMO, ref=ref, now=now)  # fmt: skip
