"""The public log: one row per request, with nothing that identifies a person or a place.

Public interface (stable):

    public_rows(records, zone) -> list[PublicRow]        (pure)
    load_public_log(session, zone, period=None) -> list[PublicRow]   (all requests if no period)
    log_csv(rows) -> bytes      log_json(rows) -> bytes      log_parquet(rows) -> bytes
    COLUMNS, DATA_DICTIONARY, data_dictionary_json() -> bytes

The columns are exactly COLUMNS, in that order: the reference, the local month and ISO week
of receipt, the police district, the agency, the actions asked for, the decision, the grounds
that held, the prohibited actions asked for, whether the commanding officer attended (empty
when no units were sent), whether a recording exists, and the outcome category. Never a
name, phone number, badge, address, exact time or free text: the rows are built from
`records.RequestRecord`, which does not even load those.

Every writer is byte-reproducible: the same rows give the same bytes. Rows are sorted by
reference; lists keep the order they were recorded in (the order of the request or of the
policy's answer); CSV uses "\\n" line ends, UTF-8 without a byte-order mark, lists joined by
";", booleans as "yes"/"no"; JSON is an array of objects with keys in column order; Parquet
is written by DuckDB on one thread, zstd-compressed, with no time in its metadata.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy.orm import Session

from assistgate.transparency.periods import Period, month_of, week_of
from assistgate.transparency.records import OUTCOME_CATEGORIES, RequestRecord, iter_records

COLUMNS = (
    "reference",
    "month",
    "week",
    "district",
    "agency",
    "requested_actions",
    "decision",
    "grounds",
    "prohibited_actions_asked",
    "commander_attended",
    "recording",
    "outcome",
)
LIST_COLUMNS = frozenset({"requested_actions", "grounds", "prohibited_actions_asked"})
BOOL_COLUMNS = frozenset({"commander_attended", "recording"})
_SQL_TYPES = {"commander_attended": "BOOLEAN", "recording": "BOOLEAN"}


@dataclass(frozen=True, slots=True)
class PublicRow:
    """One request as published."""

    reference: str
    month: str
    week: str
    district: str
    agency: str
    requested_actions: tuple[str, ...]
    decision: str  # dispatch, decline, or none
    grounds: tuple[str, ...]
    prohibited_actions_asked: tuple[str, ...]
    commander_attended: bool | None
    recording: bool
    outcome: str

    def to_json(self) -> dict[str, Any]:
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in zip(COLUMNS, astuple(self), strict=True)
        }


def public_row(record: RequestRecord, zone: ZoneInfo) -> PublicRow:
    """Return what the public log shows of one request."""
    return PublicRow(
        reference=record.ref,
        month=month_of(record.received_at, zone),
        week=week_of(record.received_at, zone),
        district=record.district,
        agency=record.agency,
        requested_actions=record.requested_actions,
        decision=record.decision or "none",
        grounds=record.grounds,
        prohibited_actions_asked=record.prohibited_asked,
        commander_attended=record.commander_attended,
        recording=record.has_recording,
        outcome=record.outcome_category,
    )


def public_rows(records: Iterable[RequestRecord], zone: ZoneInfo) -> list[PublicRow]:
    """Return the public rows of `records`, sorted by reference."""
    return sorted((public_row(r, zone) for r in records), key=lambda row: row.reference)


def load_public_log(
    session: Session, zone: ZoneInfo, period: Period | None = None
) -> list[PublicRow]:
    """Load the public log of `period` (every request when None) from the register."""
    bounds = (period.start, period.end) if period is not None else (None, None)
    return public_rows(iter_records(session, *bounds), zone)


def _by_ref(row: PublicRow) -> str:
    return row.reference


def _cell(name: str, value: Any) -> str:
    if name in LIST_COLUMNS:
        return ";".join(value)
    if name in BOOL_COLUMNS:
        return "" if value is None else ("yes" if value else "no")
    return str(value)


def log_csv(rows: Sequence[PublicRow]) -> bytes:
    """Write the rows as CSV (header first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in sorted(rows, key=_by_ref):
        writer.writerow(_cell(n, v) for n, v in zip(COLUMNS, astuple(row), strict=True))
    return out.getvalue().encode("utf-8")


def log_json(rows: Sequence[PublicRow]) -> bytes:
    """Write the rows as a JSON array of objects."""
    data = [r.to_json() for r in sorted(rows, key=_by_ref)]
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def log_parquet(rows: Sequence[PublicRow]) -> bytes:
    """Write the rows as a Parquet file (lists as lists of strings, booleans as booleans)."""
    types = {n: "VARCHAR[]" if n in LIST_COLUMNS else _SQL_TYPES.get(n, "VARCHAR") for n in COLUMNS}
    return parquet_bytes([r.to_json() for r in sorted(rows, key=_by_ref)], types)


def parquet_bytes(objects: Sequence[dict[str, Any]], types: dict[str, str]) -> bytes:
    """Write JSON-like rows as Parquet with the given DuckDB column types, in the given order.

    Reproducible: DuckDB on one thread, rows numbered and written in their order, zstd
    compression, and no write time in the file's metadata.
    """
    numbered = [{"_n": i, **o} for i, o in enumerate(objects)] or [{}]
    columns = ", ".join(f"'{n}': '{t}'" for n, t in {"_n": "BIGINT", **types}.items())
    with tempfile.TemporaryDirectory(prefix="assistgate-parquet-") as folder:
        source, target = Path(folder) / "rows.jsonl", Path(folder) / "out.parquet"
        # DuckDB needs one line to read a schema from; with no rows it reads "{}" and keeps none.
        source.write_text(
            "\n".join(json.dumps(o, ensure_ascii=False) for o in numbered) + "\n",
            encoding="utf-8",
        )
        con = duckdb.connect(":memory:")
        try:
            # One thread and an explicit order: the same rows always make the same row groups.
            con.execute("SET threads = 1")
            select = ", ".join('"' + n.replace('"', '""') + '"' for n in types)
            read = f"read_json('{source}', format='newline_delimited', columns={{{columns}}})"
            con.execute(
                f"COPY (SELECT {select} FROM {read} ORDER BY _n"
                f"{'' if objects else ' LIMIT 0'}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
            )
        finally:
            con.close()
        return target.read_bytes()


# Each column: its type in the JSON and Parquet files, and what it means.
DATA_DICTIONARY: tuple[dict[str, Any], ...] = (
    {
        "name": "reference",
        "type": "string",
        "description": "The request's reference in the register, AG-YEAR-NUMBER; the same "
        "reference appears in the ledger, so a row can be matched to its ledger entries.",
    },
    {
        "name": "month",
        "type": "string (YYYY-MM)",
        "description": "Month the request was received, in the city's local time.",
    },
    {
        "name": "week",
        "type": "string (YYYY-Www)",
        "description": "ISO 8601 week the request was received, in local time (weeks start "
        "on Monday; the first week of a year holds its first Thursday).",
    },
    {
        "name": "district",
        "type": "string",
        "description": "Police district (patrol division) where help was asked for; empty "
        "when not recorded. Never the address.",
    },
    {
        "name": "agency",
        "type": "string (code)",
        "description": "Requesting agency: ice-ero (ICE Enforcement and Removal Operations), "
        "ice-hsi (ICE Homeland Security Investigations), ice-other, cbp (Customs and Border "
        "Protection), uscis (Citizenship and Immigration Services), dhs-other.",
    },
    {
        "name": "requested_actions",
        "type": "list of strings (codes)",
        "description": "What the agency asked officers to do, as recorded at intake. CSV: "
        "joined by ';'.",
    },
    {
        "name": "decision",
        "type": "string",
        "description": "dispatch (officers sent for the permitted actions), decline (no "
        "officers sent), or none (not decided yet, or withdrawn before a decision).",
    },
    {
        "name": "grounds",
        "type": "list of strings (codes)",
        "description": "The policy's grounds that held for this request (for example a "
        "criminal warrant not about immigration status, a crime, an emergency). Empty when "
        "none held or when not decided. CSV: joined by ';'.",
    },
    {
        "name": "prohibited_actions_asked",
        "type": "list of strings (codes)",
        "description": "Actions asked for that the policy forbids for this request; officers "
        "are never sent for them. CSV: joined by ';'.",
    },
    {
        "name": "commander_attended",
        "type": "boolean or empty",
        "description": "Whether the commanding officer reached the scene; empty (null) when "
        "no units were sent. CSV: yes, no or empty.",
    },
    {
        "name": "recording",
        "type": "boolean",
        "description": "Whether the recording of the commanding officer's call with the "
        "agency is attached to the request. CSV: yes or no.",
    },
    {
        "name": "outcome",
        "type": "string (code)",
        "description": "One of " + ", ".join(OUTCOME_CATEGORIES) + ". 'open': not closed "
        "yet; 'no_officers_sent': declined and closed; arrests are by the police on a local "
        "charge or by the agency.",
    },
)


def data_dictionary_json() -> bytes:
    """Return the machine-readable data dictionary shipped with every download."""
    document = {
        "title": "Public log of requests for police help from federal immigration agencies",
        "row": "one request, sorted by reference",
        "never_included": [
            "names",
            "phone numbers",
            "badge numbers",
            "addresses",
            "exact dates and times",
            "free text",
        ],
        "columns": list(DATA_DICTIONARY),
    }
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
