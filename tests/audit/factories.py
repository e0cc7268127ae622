"""Write fixture files in real formats: CSV in any dialect and encoding, gzip, Parquet, JSONL."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Sequence
from pathlib import Path

import duckdb

INTERNAL_HEADER = ("incident_number", "call_time", "call_type", "remarks")
CALLS: tuple[tuple[str, str, str, str], ...] = (
    ("P1", "2017-03-01 10:00:00", "ASSIST OTHER AGENCY", "ICE AGT REQ UNIT FOR BACKUP"),
    ("P2", "2017-03-01 10:05:00", "HAZARD", "ICE ON RDWY, REQ SALT TRUCK"),
    ("P3", "2017-03-01 10:09:00", "ALARM", "POLICE NOTICE ON OFFICE DOOR"),
    ("P4", "2017-03-01 10:12:00", "FRAUD", "CALLER STATES HUSBAND DETAINED BY ICE"),
    ("P5", "2017-03-01 10:20:00", "TRAFFIC", "HSI REQ ASST W/ TRAFFIC STOP"),
)


def csv_text(
    rows: Sequence[Sequence[str]] = CALLS,
    header: Sequence[str] = INTERNAL_HEADER,
    delimiter: str = ",",
) -> str:
    """Return CSV text with a header, quoting where the dialect needs it."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def write_csv(
    path: Path,
    rows: Sequence[Sequence[str]] = CALLS,
    header: Sequence[str] = INTERNAL_HEADER,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
    compress: bool = False,
) -> Path:
    """Write a CSV file in the given dialect and encoding, gzip-compressed if asked."""
    data = csv_text(rows, header, delimiter).encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    if compress:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def write_parquet(path: Path, rows: Sequence[Sequence[str]] = CALLS) -> Path:
    """Write a Parquet file with DuckDB, the call time as a real TIMESTAMP column."""
    con = duckdb.connect()
    try:
        con.execute(
            "CREATE TABLE calls (incident_number VARCHAR, call_time TIMESTAMP, "
            "call_type VARCHAR, remarks VARCHAR)"
        )
        con.executemany("INSERT INTO calls VALUES (?, ?, ?, ?)", [list(r) for r in rows])
        con.execute(f"COPY calls TO '{path}' (FORMAT parquet)")
    finally:
        con.close()
    return path


def write_jsonl(
    path: Path, rows: Sequence[Sequence[str]] = CALLS, *, compress: bool = False
) -> Path:
    """Write JSON Lines, one object a call; ids as numbers where they look like numbers."""
    lines = [json.dumps(dict(zip(INTERNAL_HEADER, r, strict=True))) for r in rows]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path
