"""Monthly totals of calls for service, read from a dispatch export or a month,count file.

Two kinds of file are accepted:

- a plain CSV whose header is `month,count` (or `month,calls`), one line per YYYY-MM month;
- a calls-for-service export (CSV in any common dialect, gzip CSV, JSON Lines or Parquet, as
  the audit scanner reads them): every row is one call, placed in the local month of its time
  column. The column is the one given, or the time column of a known export (the audit
  presets: New Orleans `TimeCreate`, Seattle `cad_event_original_time_queued`, ...). Times
  without an offset are taken as the deployment's local time; times with one are converted.

Every problem raises `CfsError` naming the file, the line and the column. `store_totals`
writes the months read, replacing the totals of those months (a re-pulled export corrects
an earlier one); other months are left as they are.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.audit.errors import ReadError
from assistgate.audit.presets import PRESETS
from assistgate.audit.sniff import Sniffed, sniff, transcode_to_utf8
from assistgate.db.base import utcnow
from assistgate.transparency.models import CallsForServiceMonth

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_COUNT = re.compile(r"\d{1,12}")
PLAIN_HEADERS = (("month", "count"), ("month", "calls"))
# Time columns tried when none is named: each preset's, then common names.
_COMMON_TIMES = ("call_time", "received_at", "time", "date", "datetime", "call_datetime")
# Layouts DuckDB's own cast does not read, tried in turn (US exports write month/day/year).
_LAYOUTS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")


class CfsError(ValueError):
    """A calls-for-service file cannot be read; the message names the file, line and column."""


@dataclass(frozen=True, slots=True)
class CfsTotals:
    """Calls per local month read from one file, and how the file was read."""

    source: str
    described: str
    months: dict[str, int]
    rows: int
    first: str = ""  # first and last local time seen in an export ("" for a month,count file)
    last: str = ""


def read_totals(
    path: Path,
    zone: str,
    *,
    time_column: str | None = None,
    preset: str | None = None,
    encoding: str = "auto",
) -> CfsTotals:
    """Read monthly totals from a month,count CSV or a calls-for-service export."""
    name = str(path)
    if preset is not None and preset not in PRESETS:
        raise CfsError(f"unknown preset {preset!r}; known: {', '.join(sorted(PRESETS))}")
    try:
        sniffed = sniff(path, encoding)
    except ReadError as exc:
        raise CfsError(str(exc)) from None
    header = tuple(h.strip().casefold() for h in sniffed.header)
    if sniffed.format == "csv" and header in PLAIN_HEADERS and time_column is None:
        return _read_plain(path, sniffed)
    candidates = _time_names(time_column, preset)
    with tempfile.TemporaryDirectory(prefix="assistgate-cfs-") as folder:
        source = path
        if sniffed.encoding == "cp1252":
            source = Path(folder) / "utf8.csv"
            with source.open("wb") as out:
                transcode_to_utf8(path, sniffed.compressed, out)
        return _read_export(name, source, sniffed, candidates, zone, explicit=time_column)


def store_totals(session: Session, totals: CfsTotals) -> tuple[list[str], list[str]]:
    """Write the months of `totals`; return the months added and the months replaced."""
    added, replaced = [], []
    now = utcnow()
    for month, calls in sorted(totals.months.items()):
        row = session.get(CallsForServiceMonth, month)
        if row is None:
            session.add(
                CallsForServiceMonth(
                    month=month, calls=calls, source=totals.source[:300], imported_at=now
                )
            )
            added.append(month)
        else:
            row.calls, row.source, row.imported_at = calls, totals.source[:300], now
            replaced.append(month)
    return added, replaced


def stored_totals(session: Session) -> Mapping[str, int]:
    """Return every stored month's total, by month."""
    rows = session.execute(
        select(CallsForServiceMonth.month, CallsForServiceMonth.calls).order_by(
            CallsForServiceMonth.month
        )
    )
    return {month: int(calls) for month, calls in rows}


def _read_plain(path: Path, sniffed: Sniffed) -> CfsTotals:
    name = str(path)
    text = _text(path, sniffed)
    reader = csv.reader(io.StringIO(text), delimiter=sniffed.delimiter)
    header = next(reader)
    count_column = header[1].strip()
    months: dict[str, int] = {}
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise CfsError(f"{name}, line {line}: expected 2 fields (month, count), got {len(row)}")
        month, count = row[0].strip(), row[1].strip()
        if not _MONTH.fullmatch(month):
            raise CfsError(f"{name}, line {line}, column month: expected YYYY-MM, got {month!r}")
        if not _COUNT.fullmatch(count):
            raise CfsError(
                f"{name}, line {line}, column {count_column}: expected a whole number "
                f"of calls (0 or more), got {count!r}"
            )
        if month in months:
            raise CfsError(
                f"{name}, line {line}, column month: {month} is already given on line "
                f"{first_line[month]}"
            )
        months[month], first_line[month] = int(count), line
    if not months:
        raise CfsError(f"{name}: no months after the header")
    return CfsTotals(path.name, "month,count CSV", months, len(months))


def _text(path: Path, sniffed: Sniffed) -> str:
    if sniffed.compressed:
        with gzip.open(path) as f:
            raw = f.read()
    else:
        raw = path.read_bytes()
    return raw.decode(sniffed.encoding or "utf-8").removeprefix("\ufeff")


def _time_names(time_column: str | None, preset: str | None) -> tuple[str, ...]:
    if time_column is not None:
        return (time_column,)
    presets = [PRESETS[preset]] if preset else list(PRESETS.values())
    names = [n for p in presets if p.plan.time is not None for n in p.plan.time.names]
    return tuple(dict.fromkeys([*names, *([] if preset else _COMMON_TIMES)]))


def _read_export(
    name: str,
    source: Path,
    sniffed: Sniffed,
    candidates: tuple[str, ...],
    zone: str,
    *,
    explicit: str | None,
) -> CfsTotals:
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET TimeZone = {_literal(zone)}")
        table = _table(source, sniffed, name)
        try:
            have = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()]
        except duckdb.Error as exc:
            raise CfsError(f"{name}: cannot be read: {_first_line(exc)}") from None
        column = _pick(have, candidates)
        if column is None:
            wanted = " or ".join(repr(c) for c in candidates)
            what = "the column given" if explicit else "a time column"
            raise CfsError(
                f"{name}: {what} ({wanted}) is not in the file; its columns are: "
                f"{', '.join(have) or '(none)'}"
            )
        return _count(con, name, table, column, sniffed)
    finally:
        con.close()


def _count(
    con: duckdb.DuckDBPyConnection, name: str, table: str, column: str, sniffed: Sniffed
) -> CfsTotals:
    raw = f"trim(CAST({_ident(column)} AS VARCHAR))"
    parsed = ", ".join(
        [f"TRY_CAST({raw} AS TIMESTAMPTZ)"]
        + [f"CAST(try_strptime({raw}, {_literal(f)}) AS TIMESTAMPTZ)" for f in _LAYOUTS]
    )
    numbered = f"SELECT row_number() OVER () AS n, {raw} AS v, coalesce({parsed}) AS t FROM {table}"
    try:
        bad = con.execute(
            f"SELECT n, v FROM ({numbered}) WHERE t IS NULL ORDER BY n LIMIT 1"
        ).fetchone()
        if bad is not None:
            n, value = bad
            where = f"line {int(n) + 1}" if sniffed.format == "csv" else f"row {n}"
            problem = "is empty" if not value else f"is not a date and time: {value!r}"
            raise CfsError(f"{name}, {where}, column {column}: {problem}")
        rows = con.execute(
            f"SELECT strftime(t, '%Y-%m') AS m, count(*) FROM ({numbered}) GROUP BY m ORDER BY m"
        ).fetchall()
        span = con.execute(
            f"SELECT strftime(min(t), '%Y-%m-%d %H:%M'), strftime(max(t), '%Y-%m-%d %H:%M') "
            f"FROM ({numbered})"
        ).fetchone()
    except duckdb.Error as exc:
        raise CfsError(f"{name}: cannot be read: {_first_line(exc)}") from None
    months = {str(m): int(c) for m, c in rows}
    if not months:
        raise CfsError(f"{name}: the file has no calls")
    first, last = span if span else ("", "")
    return CfsTotals(
        Path(name).name,
        f"{sniffed.describe()}, one call per row, by the local month of {column}",
        months,
        sum(months.values()),
        str(first),
        str(last),
    )


def _table(source: Path, sniffed: Sniffed, name: str) -> str:
    where = _literal(str(source))
    if sniffed.format == "parquet":
        return f"read_parquet({where})"
    comp = _literal("gzip" if sniffed.compressed else "none")
    if sniffed.format == "jsonl":
        return f"read_json({where}, format='newline_delimited', compression={comp})"
    return (
        f"read_csv({where}, delim={_literal(sniffed.delimiter)}, quote='\"', escape='\"', "
        f"header=true, all_varchar=true, strict_mode=true, null_padding=false, "
        f"compression={comp})"
    )


def _pick(have: list[str], candidates: tuple[str, ...]) -> str | None:
    for wanted in candidates:
        if wanted in have:
            return wanted
    folded = {h.casefold(): h for h in reversed(have)}
    for wanted in candidates:
        if wanted.casefold() in folded:
            return folded[wanted.casefold()]
    return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def month_total_text(totals: Mapping[str, int]) -> str:
    """Say how many months and calls a set of totals holds, for a command's summary."""
    if not totals:
        return "no months"
    months = sorted(totals)
    return f"{len(months)} months ({months[0]} to {months[-1]}), {sum(totals.values()):,} calls"


__all__ = [
    "CfsError",
    "CfsTotals",
    "month_total_text",
    "read_totals",
    "store_totals",
    "stored_totals",
]
