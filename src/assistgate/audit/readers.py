"""Read calls for service from CSV, gzip CSV, Parquet or JSON Lines and keep only the candidates.

DuckDB streams each file (larger than memory is fine) and applies the rules' pre-filter, a
case-insensitive regular expression, to every row in one vectorised pass; only rows that match
come back to Python, where the exact rules run. Each file gets one query that returns its row
count and its candidates, numbered in file order.
"""

from __future__ import annotations

import glob
import gzip
import json
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from assistgate.audit.errors import MissingColumnError, ReadError
from assistgate.audit.sniff import Sniffed, sniff, transcode_to_utf8

_GLOB_CHARS = re.compile(r"[*?\[]")
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_JSON_LINE = re.compile(r"in line (\d+)")
Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Column:
    """One column the scan reads: its role, the names it may go by, and whether it must exist."""

    role: str
    names: tuple[str, ...]
    required: bool = True


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """The columns a scan reads: an id, maybe a time, call-type and narrative columns.

    `context` columns (a location, a user) are not read by the rules: they are copied to the
    output as they are, each under its role's name, empty where the file lacks them.
    """

    id: Column
    time: Column | None = None
    types: tuple[Column, ...] = ()
    texts: tuple[Column, ...] = ()
    context: tuple[Column, ...] = ()

    @property
    def context_names(self) -> tuple[str, ...]:
        return tuple(c.role for c in self.context)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A row that passed the pre-filter, with its columns as text."""

    row: int
    id: str
    time: str
    text: str
    call_type: str
    text_passed: bool = True
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileScan:
    """What was read from one file: how it was read, how many rows, which candidates."""

    path: str
    sniffed: Sniffed
    rows: int
    candidates: tuple[Candidate, ...]
    used: dict[str, tuple[str, ...]]
    candidate_count: int | None = None  # when the candidates were not kept (Spark)

    @property
    def passed_filter(self) -> int:
        """How many rows passed the pre-filter."""
        return len(self.candidates) if self.candidate_count is None else self.candidate_count


def expand_inputs(inputs: Sequence[str]) -> list[Path]:
    """Turn file names and globs into a list of files, in the order given, each once."""
    out: list[Path] = []
    for item in inputs:
        if _GLOB_CHARS.search(item):
            matches = sorted(glob.glob(item, recursive=True))
            files = [Path(m) for m in matches if Path(m).is_file()]
            if not files:
                raise ReadError(item, "no file matches this pattern")
        else:
            p = Path(item)
            if p.is_dir():
                raise ReadError(item, "is a directory; give files or a glob such as dir/*.csv")
            if not p.is_file():
                raise ReadError(item, "no such file")
            files = [p]
        out += [f for f in files if f not in out]
    return out


def read_candidates(
    path: Path,
    plan: ColumnPlan,
    *,
    text_filter: str,
    type_filter: str,
    encoding: str = "auto",
    progress: Progress | None = None,
) -> FileScan:
    """Count the rows of `path` and return the ones that match the pre-filter."""
    sniffed = sniff(path, encoding)
    with tempfile.TemporaryDirectory(prefix="assistgate-audit-") as tmp:
        source = path
        if sniffed.encoding == "cp1252":
            # DuckDB reads UTF-8 only: re-encode once, streaming, to a private temporary copy.
            source = Path(tmp) / "utf8.txt"
            with source.open("wb") as out:
                transcode_to_utf8(path, sniffed.compressed, out)
        con = duckdb.connect()
        try:
            src = _relation(con, path, source, sniffed)
            used = resolve_columns(plan, src.columns, str(path))
            sql, count_sql = _query(src, used, text_filter, type_filter)
            rows = _run(con, sql, progress, str(path), sniffed)
            if count_sql:
                count = int(_run(con, count_sql, None, str(path), sniffed)[0][0])
                found = rows
            else:
                count, gathered = rows[0]
                found = [
                    (c["r"], c["i"], c["t"], c["x"], c["c"], c["m"], c["k"]) for c in gathered or []
                ]
        finally:
            con.close()
    candidates = tuple(
        Candidate(
            row=int(r),
            id=i or "",
            time=t or "",
            text=x or "",
            call_type=c or "",
            text_passed=bool(m),
            context=tuple(v or "" for v in k),
        )
        for r, i, t, x, c, m, k in sorted(found, key=lambda row: int(row[0]))
    )
    return FileScan(str(path), sniffed, int(count), candidates, used)


@dataclass(frozen=True)
class _Source:
    """How to read one file in SQL: its column names, the table for a set of them, one column."""

    columns: tuple[str, ...]
    table: Callable[[list[str]], str]
    expr: Callable[[str], str]
    streams: bool = False  # numbers its own rows (Parquet): candidates can stream in parallel


def _relation(con: duckdb.DuckDBPyConnection, original: Path, source: Path, s: Sniffed) -> _Source:
    where = _literal(str(source))
    comp = _literal("gzip" if s.compressed and source == original else "none")
    if s.format == "csv":
        # Columns are named by position: headers may repeat, hold quotes or be empty.
        cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(s.header)))
        table = (
            f"read_csv({where}, delim={_literal(s.delimiter)}, quote='\"', escape='\"', "
            f"header=true, auto_detect=false, columns={{{cols}}}, strict_mode=true, "
            f"null_padding=false, encoding='utf-8', compression={comp})"
        )
        positions = {name: f"c{i}" for i, name in reversed(list(enumerate(s.header)))}
        return _Source(s.header, lambda _: table, lambda name: positions[name])
    if s.format == "jsonl":
        probe = f"read_json({where}, format='newline_delimited', compression={comp})"

        def json_table(needed: list[str]) -> str:
            # Declared VARCHAR: ids that are numbers in one line and text in the next still read.
            cols = ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in needed)
            return probe.removesuffix(")") + f", columns={{{cols}}})"

        return _Source(_describe(con, probe, str(original), s), json_table, _ident)
    table = f"read_parquet({where})"
    # Parquet numbers its rows as it streams them: no window over the whole file is needed.
    numbered = f"read_parquet({where}, file_row_number=true)"
    return _Source(
        _describe(con, table, str(original), s),
        lambda _: numbered,
        lambda n: f"CAST({_ident(n)} AS VARCHAR)",
        streams=True,
    )


def _describe(con: duckdb.DuckDBPyConnection, table: str, name: str, s: Sniffed) -> tuple[str, ...]:
    try:
        return tuple(str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall())
    except duckdb.Error as exc:
        raise _read_error(exc, name, s) from None


def resolve_columns(
    plan: ColumnPlan, have: tuple[str, ...], name: str
) -> dict[str, tuple[str, ...]]:
    """Map each role to the file's actual column names; a missing one lists what the file has."""

    def find(col: Column) -> str | None:
        for wanted in col.names:
            if wanted in have:
                return wanted
        folded = {h.casefold(): h for h in reversed(have)}
        for wanted in col.names:
            if wanted.casefold() in folded:
                return folded[wanted.casefold()]
        if col.required:
            raise MissingColumnError(name, col.role, col.names, have)
        return None

    used: dict[str, tuple[str, ...]] = {"id": (find(plan.id) or "",)}
    if plan.time is not None:
        found = find(plan.time)
        used["time"] = (found,) if found else ()
    used["type"] = tuple(n for n in (find(c) for c in plan.types) if n)
    used["text"] = tuple(n for n in (find(c) for c in plan.texts) if n)
    # One entry per context role, in order; "" where the file lacks it.
    used["context"] = tuple(find(c) or "" for c in plan.context)
    if not used["type"] and not used["text"]:
        wanted = [n for c in (*plan.types, *plan.texts) for n in c.names]
        raise MissingColumnError(name, "call-type or narrative", wanted, have)
    return used


def _query(
    src: _Source, used: dict[str, tuple[str, ...]], text_filter: str, type_filter: str
) -> tuple[str, str]:
    """Return the query for the candidates and, where it is a query of its own, for the count.

    CSV and JSON Lines: one pass that counts every row and gathers the candidates, numbered
    by a window over the file. Parquet: the count comes from the file's footer and the
    candidates stream out, numbered by the reader, on every core.
    """
    table = src.table(sorted({n for names in used.values() for n in names if n}))
    expr = src.expr

    def joined(role: str, sep: str) -> str:
        parts = [expr(n) for n in used.get(role, ())]
        return f"concat_ws({_literal(sep)}, {', '.join(parts)})" if parts else "''"

    time = expr(used["time"][0]) if used.get("time") else "''"
    text, ctype = joined("text", "\n"), joined("type", " | ")
    kept = ", ".join(expr(n) if n else "''" for n in used.get("context", ()))
    # Without an id column (some audit logs have none) a row is known by its number.
    number = "file_row_number + 1" if src.streams else "row_number() OVER ()"
    ident = expr(used["id"][0]) if used["id"][0] else f"CAST({number} AS VARCHAR)"
    # m: the text itself passed the filter. When only the call type did, the rules need not
    # read the text: nothing in it could decide (the filter is a superset of those rules).
    if src.streams:
        return (
            f"SELECT r, i, t, x, c, m, k FROM (SELECT {number} AS r, {ident} AS i, "
            f"{time} AS t, {text} AS x, {ctype} AS c, "
            f"regexp_matches({text}, {_literal(text_filter)}) AS m, "
            f"[{kept}]::VARCHAR[] AS k FROM {table}) "
            f"WHERE m OR regexp_matches(c, {_literal(type_filter)})",
            f"SELECT count(*) FROM {table}",
        )
    return (
        "SELECT count(*) AS n, "
        "list(struct_pack(r := r, i := i, t := t, x := x, c := c, m := m, k := k)) "
        f"FILTER (WHERE m OR regexp_matches(c, {_literal(type_filter)})) AS found FROM ("
        f"SELECT row_number() OVER () AS r, {ident} AS i, {time} AS t, "
        f"{text} AS x, {ctype} AS c, regexp_matches({text}, {_literal(text_filter)}) AS m, "
        f"[{kept}]::VARCHAR[] AS k FROM {table})",
        "",
    )


def _run(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    progress: Progress | None,
    name: str,
    s: Sniffed,
) -> list[Any]:
    """Run the query; while it runs, report DuckDB's progress (0 to 1) if asked."""
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["rows"] = con.execute(sql).fetchall()
        except duckdb.Error as exc:
            result["error"] = exc

    if progress is None:
        work()
    else:
        con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
            done = con.query_progress()
            if done >= 0:
                progress(min(done, 100.0) / 100.0)
        progress(1.0)
    if "error" in result:
        raise _read_error(result["error"], name, s) from None
    rows: list[Any] = result["rows"]
    return rows


def _read_error(exc: duckdb.Error, name: str, s: Sniffed) -> ReadError:
    """Turn DuckDB's message into one line that names the file and, if known, the line."""
    text = str(exc)
    line_match = _CSV_LINE.search(text)
    line = int(line_match.group(1)) if line_match else None
    if "Invalid unicode" in text:
        return ReadError(
            name,
            "not valid UTF-8 from here on; if the file is Windows-1252, use --encoding cp1252",
            line,
        )
    if "Expected Number of Columns" in text:
        m = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
        want, got = (m.group(1), m.group(2)) if m else ("?", "?")
        return ReadError(name, f"expected {want} fields, found {got} (a truncated file?)", line)
    if "unterminated quote" in text:
        return ReadError(name, "a quoted value is never closed (a truncated file?)", line)
    if "GZIP" in text or "gzip" in text:
        return ReadError(name, "the gzip stream ends early or is corrupt: the file is truncated")
    if "Malformed JSON" in text:
        return ReadError(name, "not valid JSON Lines", _first_bad_json_line(Path(name), s))
    if s.format == "parquet":
        return ReadError(name, "not a readable Parquet file (a truncated copy?)")
    first = text.splitlines()[0] if text else type(exc).__name__
    return ReadError(name, first.removeprefix("Invalid Input Error: "), line)


def _first_bad_json_line(path: Path, s: Sniffed) -> int | None:
    """Find the first line that is not a JSON object (DuckDB's own count is off by one)."""
    opener = gzip.open if s.compressed else open
    try:
        with opener(path, "rt", encoding=s.encoding or "utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    if not isinstance(json.loads(line), dict):
                        return n
                except ValueError:
                    return n
    except (OSError, EOFError):
        return None
    return None


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
