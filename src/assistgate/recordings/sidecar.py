"""A call recorder's sidecar: the JSON file next to each exported recording (docs/RECORDINGS.md).

    {"recorder_call_id": "NX-77812", "call_started_at": "2026-11-25T14:02:11-05:00",
     "call_ended_at": "2026-11-25T14:05:40-05:00", "parties": ["4101", "+1 202 555 0147"],
     "request_ref": "AG-2026-0012"}

`request_ref` is optional; fields the recorder adds beyond these are kept, not read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from assistgate.recordings.errors import SidecarError

REF = re.compile(r"AG-[0-9]{4}-[0-9]{4,}")


@dataclass(frozen=True)
class Sidecar:
    recorder_call_id: str
    call_started_at: dt.datetime
    call_ended_at: dt.datetime
    parties: tuple[str, str]
    request_ref: str | None
    raw: dict[str, Any]


def _moment(raw: dict[str, Any], name: str, where: str) -> dt.datetime:
    value = raw.get(name)
    if not isinstance(value, str):
        raise SidecarError(f"{where}: {name}: expected an ISO 8601 time with its offset")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SidecarError(f"{where}: {name}: not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise SidecarError(f"{where}: {name}: {value!r} has no offset (add Z or -05:00)")
    return moment.astimezone(dt.UTC)


def parse_sidecar(text: str, where: str) -> Sidecar:
    """Read a sidecar's JSON text; raise `SidecarError` naming the file and the field."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SidecarError(f"{where}: not valid JSON: line {exc.lineno}, column {exc.colno}: "
                           f"{exc.msg}") from None  # fmt: skip
    if not isinstance(raw, dict):
        raise SidecarError(f"{where}: expected a JSON object")
    call_id = raw.get("recorder_call_id")
    if not isinstance(call_id, str) or not 0 < len(call_id.strip()) <= 100:
        raise SidecarError(f"{where}: recorder_call_id: expected the recorder's call id "
                           "(1 to 100 characters)")  # fmt: skip
    started = _moment(raw, "call_started_at", where)
    ended = _moment(raw, "call_ended_at", where)
    if ended < started:
        raise SidecarError(f"{where}: call_ended_at is before call_started_at")
    parties = raw.get("parties")
    if (
        not isinstance(parties, list)
        or len(parties) != 2
        or not all(isinstance(p, str) and p.strip() and len(p) <= 40 for p in parties)
    ):
        raise SidecarError(f"{where}: parties: expected the two parties' numbers or "
                           "extensions, as two strings")  # fmt: skip
    ref = raw.get("request_ref")
    if ref is not None and (not isinstance(ref, str) or not REF.fullmatch(ref)):
        raise SidecarError(f"{where}: request_ref: expected a reference like AG-2026-0012")
    return Sidecar(call_id.strip(), started, ended, (parties[0].strip(), parties[1].strip()),
                   ref, raw)  # fmt: skip


def digits(number: str) -> str:
    """Return only the digits of a phone number or extension ("+1 (502) 555-0147" -> ...)."""
    return "".join(c for c in number if c.isdigit())
