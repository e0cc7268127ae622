"""No public output holds a name, phone number, badge, address, exact time or free text.

Every public output is generated from the demo register, and every identifying value is
taken from the register itself (not from a list written here), so a new field or a new demo
case is covered without editing this test. PDF page streams are inflated and their text
operators joined, and Parquet files are read back, so compressed files are checked too.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import select

from assistgate.app import App
from assistgate.auth.models import User
from assistgate.requests.models import Decision, Request
from assistgate.transparency.downloads import downloads
from assistgate.transparency.figures import compute_figures
from assistgate.transparency.periods import parse_period
from assistgate.transparency.public_log import (
    data_dictionary_json,
    load_public_log,
    log_csv,
    log_json,
    log_parquet,
)
from assistgate.transparency.reports import FORMATS, build_report, gather

SHINGLE = 5  # words: long enough never to be our own wording, short enough to catch a quote
PERIODS = {
    "illinois-annual": "2018",
    "chicago-quarterly": "2018-Q3",
}
WHOLE = "2017-09-01..2019-06-30"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _shingles(text: str) -> Iterator[str]:
    words = _words(text)
    for i in range(max(0, len(words) - SHINGLE + 1)):
        yield " ".join(words[i : i + SHINGLE])


def _descriptions(value: Any) -> Iterator[str]:
    """Every free-text value inside an assessment (descriptions the officer typed)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "description" and isinstance(inner, str) and inner:
                yield inner
            else:
                yield from _descriptions(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _descriptions(inner)


def secrets_of(app: App) -> dict[str, set[str]]:
    """Collect, from the register, every value no public output may contain."""
    exact: set[str] = set()  # matched case-insensitively anywhere
    words: set[str] = set()  # surnames and street names: matched as whole words, same case
    free: set[str] = set()  # free text: matched by five-word runs
    times: set[str] = set()
    zone = app.settings.zone
    with app.sessions() as session:
        for r in session.scalars(select(Request)):
            exact |= {r.official_name, r.callback_number, r.location, r.call_taker}
            exact |= {re.sub(r"\D", "", r.callback_number)}
            if r.official_badge:
                exact.add(r.official_badge)
            if r.cad_incident_id:
                exact.add(r.cad_incident_id)
            if r.commander:
                exact.add(r.commander)
            words.add(r.official_name.replace(" (fictional)", "").split()[-1])
            words.add(r.location.split(" block of ")[-1])
            free |= {r.caller_words, r.identity_note, r.cancel_reason}
            free |= set(r.exceptions.values())
            if r.outcome:
                free.add(r.outcome.get("summary", ""))
            for moment in (r.received_at, r.dispatched_at, r.arrived_at, r.cleared_at):
                if moment is not None:
                    for m in (moment, moment.astimezone(zone)):
                        times |= {m.strftime("%Y-%m-%dT%H:%M"), m.strftime("%Y-%m-%d %H:%M")}
        for d in session.scalars(select(Decision)):
            free.add(d.note)
            free |= set(_descriptions(d.assessment))
            exact.add(d.decided_by)
        for u in session.scalars(select(User)):
            exact |= {u.username, u.display_name}
            words.add(u.display_name.split(",")[0].replace(" (fictional)", "").split()[-1])
    return {
        "exact": {v for v in exact if v and len(v) >= 4},
        "words": {w for w in words if len(w) >= 4},
        "free": {s for text in free if text for s in _shingles(text)},
        "times": times,
    }


def _pdf_text(pdf: bytes) -> str:
    """Decode every stream (ASCII85 then Flate, as ReportLab writes them) and join the strings
    of its text operators, so that text wrapped over two lines is still found."""
    pieces: list[str] = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        content = zlib.decompress(base64.a85decode(stream.strip(), adobe=True))
        for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)", content):
            pieces.append(re.sub(rb"\\(.)", rb"\1", s).decode("latin-1"))
    return " ".join(pieces)


def _parquet_text(data: bytes, tmp: Path) -> str:
    path = tmp / "check.parquet"
    path.write_bytes(data)
    con = duckdb.connect()
    rows = con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()
    con.close()
    return json.dumps([list(r) for r in rows]) + data.decode("latin-1")


def public_outputs(app: App, tmp: Path) -> dict[str, str]:
    """Every public output of the demo register, as the text a reader could find in it."""
    zone = app.settings.zone
    out: dict[str, bytes] = {"data-dictionary.json": data_dictionary_json()}
    with app.sessions() as session:
        rows = load_public_log(session, zone)
        out |= {
            "log.csv": log_csv(rows),
            "log.json": log_json(rows),
            "log.parquet": log_parquet(rows),
        }
        for label in ("2017", "2018", "2019", "2018-Q3", WHOLE):
            period = parse_period(label, zone)
            figures = compute_figures(session, period)
            files = downloads(figures, load_public_log(session, zone, period))
            out |= {f"downloads-{label}/{name}": content for name, content in files.items()}
        for fmt in FORMATS:
            data = gather(
                session,
                parse_period(PERIODS.get(fmt, WHOLE), zone),
                public_key=app.keys.ledger_public_key(),
                origin=app.settings.ledger_origin,
                public_body="Louisville Metro Police Department",
                county="Jefferson",
            )
            files = build_report(data, fmt, signing_key=app.keys.ledger_private_key())
            out |= {f"{fmt}/{name}": content for name, content in files.items()}
    text: dict[str, str] = {}
    for name, content in out.items():
        if name.endswith(".pdf"):
            text[name] = _pdf_text(content)
        elif name.endswith(".parquet"):
            text[name] = _parquet_text(content, tmp)
        elif name.endswith(".sig"):
            continue  # 64 signature bytes: no text
        else:
            text[name] = content.decode("utf-8")
    return text


def test_no_public_output_contains_anything_personal_from_the_register(
    demo: App, tmp_path: Path
) -> None:
    secrets = secrets_of(demo)
    # The demo really has such values to leak, or this test would prove nothing.
    assert len(secrets["exact"]) > 50
    assert len(secrets["free"]) > 50
    assert len(secrets["words"]) > 10
    outputs = public_outputs(demo, tmp_path)
    pdf = next(text for name, text in outputs.items() if name.endswith(".pdf"))
    assert "AG-2018-0001" in pdf
    assert "Public log" in pdf
    assert any("AG-2018-" in text for text in outputs.values())  # the outputs are not empty
    leaks: list[str] = []
    for name, text in outputs.items():
        lowered, flat = text.lower(), " ".join(_words(text))
        leaks += [f"{name}: {v!r}" for v in secrets["exact"] if v.lower() in lowered]
        leaks += [
            f"{name}: {w!r}" for w in secrets["words"] if re.search(rf"\b{re.escape(w)}\b", text)
        ]
        leaks += [f"{name}: …{s}…" for s in secrets["free"] if f" {s} " in f" {flat} "]
        leaks += [f"{name}: time {t}" for t in secrets["times"] if t in text]
    assert leaks == []


def test_the_check_would_catch_a_leak(demo: App) -> None:
    # The same matching, applied to a public log with one caller's words pasted in.
    secrets = secrets_of(demo)
    with demo.sessions() as session:
        words = session.scalars(select(Request.caller_words)).first()
        rows = load_public_log(session, demo.settings.zone)
    assert words
    leaked = log_csv(rows).decode() + words[10:70]
    flat = " ".join(_words(leaked))
    assert any(f" {s} " in f" {flat} " for s in secrets["free"])
