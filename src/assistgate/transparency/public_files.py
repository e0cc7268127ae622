"""The public downloads: the public log and the figures in CSV, JSON and Parquet.

The bytes come from the transparency domain's writers (`public_log`, `reports`), so a file
downloaded from the web is the file `assistgate report build` writes for the same period.
Only the figures' Parquet file is made here: the figures' CSV rows (section, item, value) as
a Parquet table, written by DuckDB on one thread so the same figures give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import duckdb

from assistgate.transparency.report_data import ReportData
from assistgate.transparency.reports import figures_csv, report_json

KINDS = {"csv": "text/csv; charset=utf-8", "json": "application/json",
         "parquet": "application/vnd.apache.parquet"}  # fmt: skip


def figures_json(data: ReportData) -> bytes:
    """Return the figures of the report as JSON: the report document without the log rows."""
    document = report_json(data)
    document.pop("public_log", None)
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def figures_parquet(data: ReportData) -> bytes:
    """Return the figures' CSV rows (section, item, value; all text) as a Parquet file."""
    rows = list(csv.reader(io.StringIO(figures_csv(data).decode("utf-8"))))[1:]
    with tempfile.TemporaryDirectory(prefix="assistgate-figures-") as folder:
        source, target = Path(folder) / "rows.jsonl", Path(folder) / "figures.parquet"
        lines = [json.dumps({"row": i, "section": s, "item": k, "value": v}, ensure_ascii=False)
                 for i, (s, k, v) in enumerate(rows)]  # fmt: skip
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        columns = "{'row': 'INTEGER', 'section': 'VARCHAR', 'item': 'VARCHAR', 'value': 'VARCHAR'}"
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET threads = 1")
            con.execute(
                f"COPY (SELECT section, item, value FROM read_json('{source}', "
                f"format='newline_delimited', columns={columns}) ORDER BY row) "
                f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
            )
        finally:
            con.close()
        return target.read_bytes()


def figures_file(data: ReportData, kind: str) -> bytes:
    """Return the figures of `data` as `kind` (csv, json or parquet)."""
    if kind == "csv":
        return figures_csv(data)
    if kind == "json":
        return figures_json(data)
    if kind == "parquet":
        return figures_parquet(data)
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
