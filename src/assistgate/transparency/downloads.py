"""The downloads offered to the public: the public log and the figures, each in three formats.

Public interface (stable):

    downloads(figures, rows) -> dict[file name, bytes]
        log.csv, log.json, log.parquet, figures.csv, figures.json, figures.parquet,
        data-dictionary.json
    figures_table(figures) -> list[(section, item, value)]

The figures' CSV and Parquet are long tables (section, item, value) in the order of the
figures' JSON; the JSON is `Figures.to_json()`. Every file is byte-reproducible.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from assistgate.transparency.figures import Figures
from assistgate.transparency.public_log import (
    PublicRow,
    data_dictionary_json,
    log_csv,
    log_json,
    log_parquet,
    parquet_bytes,
)

FIGURE_COLUMNS = ("section", "item", "value")


def figures_table(figures: Figures | dict[str, Any]) -> list[tuple[str, str, str]]:
    """Flatten the figures to (section, item, value) rows, in document order."""
    document = figures.to_json() if isinstance(figures, Figures) else figures
    rows: list[tuple[str, str, str]] = []

    def walk(section: str, prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(section, f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                label = str(item.get("month", ""))
                for key, inner in item.items():
                    if key != "month":
                        walk(section, f"{prefix}.{label}.{key}" if prefix else f"{label}.{key}",
                             inner)  # fmt: skip
        elif isinstance(value, list):
            rows.append((section, prefix, ";".join(str(v) for v in value)))
        else:
            rows.append((section, prefix, "" if value is None else str(value)))

    for section, value in document.items():
        walk(section, "", value)
    return rows


def figures_csv(figures: Figures, before: Sequence[tuple[str, str, str]] = ()) -> bytes:
    """Write the figures as a CSV long table, after any `before` rows (a report's source)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIGURE_COLUMNS)
    writer.writerows(before)
    writer.writerows(figures_table(figures))
    return out.getvalue().encode("utf-8")


def figures_parquet(figures: Figures) -> bytes:
    """Write the figures as a Parquet long table (every value as text)."""
    rows = [dict(zip(FIGURE_COLUMNS, r, strict=True)) for r in figures_table(figures)]
    return parquet_bytes(rows, dict.fromkeys(FIGURE_COLUMNS, "VARCHAR"))


def downloads(figures: Figures, rows: Sequence[PublicRow]) -> dict[str, bytes]:
    """Return every download of the public log and the figures, by file name."""
    return {
        "data-dictionary.json": data_dictionary_json(),
        "figures.csv": figures_csv(figures),
        "figures.json": (json.dumps(figures.to_json(), indent=1, ensure_ascii=False) + "\n").encode(
            "utf-8"
        ),
        "figures.parquet": figures_parquet(figures),
        "log.csv": log_csv(rows),
        "log.json": log_json(rows),
        "log.parquet": log_parquet(rows),
    }
