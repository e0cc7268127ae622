"""The figures as the public downloads them: the same bytes `assistgate report build` writes.

CSV is the report's figures table (its first rows name the source and the ledger checkpoint),
JSON is the report document without the log rows, Parquet is the figures' long table
(`downloads.figures_parquet`). The public log's files come from `public_log` directly.
"""

from __future__ import annotations

import json

from assistgate.transparency.downloads import figures_parquet
from assistgate.transparency.report_data import ReportData
from assistgate.transparency.reports import report_figures_csv, report_json

KINDS = {"csv": "text/csv; charset=utf-8", "json": "application/json",
         "parquet": "application/vnd.apache.parquet"}  # fmt: skip


def figures_json(data: ReportData) -> bytes:
    """Return the figures of the report as JSON: the report document without the log rows."""
    document = report_json(data)
    document.pop("public_log", None)
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def figures_file(data: ReportData, kind: str) -> bytes:
    """Return the figures of `data` as `kind` (csv, json or parquet)."""
    if kind == "csv":
        return report_figures_csv(data)
    if kind == "json":
        return figures_json(data)
    if kind == "parquet":
        return figures_parquet(data.figures)
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
