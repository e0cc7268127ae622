"""The public log: exactly the published columns, the same bytes every time, in three formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import duckdb

from assistgate.app import App
from assistgate.transparency.downloads import downloads
from assistgate.transparency.figures import compute_figures
from assistgate.transparency.periods import parse_period
from assistgate.transparency.public_log import (
    COLUMNS,
    data_dictionary_json,
    load_public_log,
    log_csv,
    log_json,
    log_parquet,
)
from tests.transparency.conftest import ZONE


def rows_of(app: App, period: str | None = None) -> list[dict[str, Any]]:
    with app.sessions() as session:
        span = parse_period(period, ZONE) if period else None
        return [r.to_json() for r in load_public_log(session, ZONE, span)]


def test_each_request_is_one_row_with_only_the_published_columns(
    app: App, march: dict[str, str]
) -> None:
    rows = {r["reference"]: r for r in rows_of(app)}
    assert len(rows) == 6
    assert all(tuple(r) == COLUMNS for r in rows.values())
    assert rows[march["A"]] == {
        "reference": march["A"],
        "month": "2018-03",
        "week": "2018-W10",
        "district": "4",
        "agency": "ice-ero",
        "requested_actions": ["serve_criminal_warrant", "knock_and_talk"],
        "decision": "dispatch",
        "grounds": ["criminal_warrant", "judicial_warrant"],
        "prohibited_actions_asked": ["knock_and_talk"],
        "commander_attended": True,
        "recording": True,
        "outcome": "police_arrest",
    }
    assert rows[march["B"]]["commander_attended"] is None  # declined: nobody was sent
    assert rows[march["B"]]["outcome"] == "no_officers_sent"
    assert (rows[march["C"]]["decision"], rows[march["C"]]["outcome"]) == ("none", "cancelled")
    assert (rows[march["D"]]["month"], rows[march["D"]]["outcome"]) == ("2018-03", "open")
    assert rows[march["F"]]["commander_attended"] is False
    assert rows[march["F"]]["recording"] is False
    assert rows[march["F"]]["outcome"] == "agency_arrest"
    assert rows[march["E"]]["month"] == "2018-04"
    assert [r["reference"] for r in rows_of(app, "2018-04")] == [march["E"]]


def test_csv_json_and_parquet_hold_the_same_rows_and_the_same_bytes_each_time(
    app: App, march: dict[str, str], tmp_path: Path
) -> None:
    with app.sessions() as session:
        rows = load_public_log(session, ZONE)
    with app.sessions() as session:
        again = load_public_log(session, ZONE)
    for write in (log_csv, log_json, log_parquet):
        assert write(rows) == write(list(reversed(again))), write.__name__

    from_json = json.loads(log_json(rows))
    assert from_json == rows_of(app)

    table = list(csv.DictReader(io.StringIO(log_csv(rows).decode("utf-8"))))
    assert tuple(table[0]) == COLUMNS
    a = next(r for r in table if r["reference"] == march["A"])
    assert a["requested_actions"] == "serve_criminal_warrant;knock_and_talk"
    assert (a["commander_attended"], a["recording"]) == ("yes", "yes")
    b = next(r for r in table if r["reference"] == march["B"])
    assert b["commander_attended"] == ""

    parquet = tmp_path / "log.parquet"
    parquet.write_bytes(log_parquet(rows))
    con = duckdb.connect()
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()
    assert [c[0] for c in described] == list(COLUMNS)
    read = con.execute(f"SELECT * FROM read_parquet('{parquet}') ORDER BY reference").fetchall()
    assert [dict(zip(COLUMNS, r, strict=True)) for r in read] == from_json
    con.close()


def test_an_empty_log_still_has_its_header_and_schema(app: App, tmp_path: Path) -> None:
    assert log_csv([]) == (",".join(COLUMNS) + "\n").encode()
    assert json.loads(log_json([])) == []
    parquet = tmp_path / "empty.parquet"
    parquet.write_bytes(log_parquet([]))
    con = duckdb.connect()
    assert con.execute(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchone() == (0,)
    names = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM '{parquet}'").fetchall()]
    assert names == list(COLUMNS)
    con.close()


def test_the_data_dictionary_describes_every_column_and_nothing_else() -> None:
    document = json.loads(data_dictionary_json())
    assert [c["name"] for c in document["columns"]] == list(COLUMNS)
    assert all(c["description"] and c["type"] for c in document["columns"])
    docs = Path(__file__).parents[2] / "docs" / "PUBLIC_DATA.md"
    text = docs.read_text(encoding="utf-8")
    assert all(f"`{name}`" in text for name in COLUMNS)


def test_the_downloads_carry_the_figures_in_three_formats_that_agree(
    app: App, march: dict[str, str], tmp_path: Path
) -> None:
    with app.sessions() as session:
        span = parse_period("2018-03", ZONE)
        files = downloads(compute_figures(session, span), load_public_log(session, ZONE, span))
        again = downloads(compute_figures(session, span), load_public_log(session, ZONE, span))
    assert files == again
    assert sorted(files) == [
        "data-dictionary.json", "figures.csv", "figures.json", "figures.parquet",
        "log.csv", "log.json", "log.parquet",
    ]  # fmt: skip
    table = list(csv.reader(io.StringIO(files["figures.csv"].decode())))
    assert table[0] == ["section", "item", "value"]
    assert ["decisions", "dispatched", "2"] in table
    assert ["compliance", "commander_on_scene.percent", "50.0"] in table
    assert ["monthly", "2018-03.received", "5"] in table
    assert json.loads(files["figures.json"])["received"] == 5
    (tmp_path / "f.parquet").write_bytes(files["figures.parquet"])
    con = duckdb.connect()
    read = con.execute(f"SELECT * FROM read_parquet('{tmp_path / 'f.parquet'}')").fetchall()
    con.close()
    assert [list(r) for r in read] == table[1:]
