"""`assistgate cfs import` and `assistgate report build` as an operator runs them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from tests.cli.conftest import OUTCOME, PEOPLE, Cli, call_wav

NOLA = (
    "NOPD_Item,Type_,TypeText,TimeCreate,BLOCK_ADDRESS\n"
    "A1,21,THEFT,2018-01-01T00:10:00.000,001XX Main St\n"
    "A2,21,THEFT,2018-01-31T23:59:00.000,001XX Main St\n"
    "A3,21,THEFT,02/01/2018 12:05:00 AM,001XX Main St\n"
    "A4,21,THEFT,2018-03-06 10:00:00,001XX Main St\n"
    # 02:30 UTC on 1 March is still 28 February in Louisville.
    "A5,21,THEFT,2018-03-01T02:30:00Z,001XX Main St\n"
)


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    work = tmp_path / "work"
    work.mkdir()
    return Cli(data_dir=tmp_path / "data", database_url=database_url, work=work)


@pytest.fixture
def staffed(cli: Cli) -> Cli:
    cli.ok("keys", "init")
    for username, role, name in PEOPLE:
        cli.ok("user", "add", username, "--role", role, "--name", name)
    return cli


@pytest.fixture
def closed(staffed: Cli) -> Cli:
    """One request of March 2018 taken to closure, and a second awaiting review."""
    ref = staffed.dispatched()
    staffed.ok("request", "arrive", ref, "--as", "lt.okafor")
    staffed.ok("request", "clear", ref, "--as", "cad")
    staffed.ok("request", "recording", ref, "--as", "lt.okafor", "--file", call_wav(staffed))
    staffed.ok(
        "request", "close", ref, "--as", "lt.okafor", "--outcome", "-", stdin=json.dumps(OUTCOME)
    )
    staffed.create()
    return staffed


def stored(cli: Cli) -> dict[str, int]:
    rows = cli.sql("SELECT month, calls FROM calls_for_service_months ORDER BY month")
    return {m: int(c) for m, c in rows}


def test_a_month_count_file_is_stored_and_a_later_file_replaces_its_months(cli: Cli) -> None:
    out = cli.ok(
        "cfs", "import", cli.file("cfs.csv", "month,count\n2018-01,45210\n2018-02,41002\n")
    )
    assert "stored 2 months (2018-01 to 2018-02), 86,212 calls" in out
    out = cli.ok(
        "cfs", "import", cli.file("fix.csv", "month,calls\r\n2018-02,41100\r\n2018-03,1\r\n")
    )
    assert "replaced the earlier totals of 2018-02" in out
    assert stored(cli) == {"2018-01": 45210, "2018-02": 41100, "2018-03": 1}
    assert cli.ok("cfs", "list").splitlines()[1:] == [
        "2018-01  45,210",
        "2018-02  41,100",
        "2018-03  1",
    ]


@pytest.mark.parametrize("kind", ["csv", "gzip", "jsonl", "parquet"])
def test_an_export_of_calls_is_counted_by_local_month(cli: Cli, kind: str) -> None:
    path = cli.work / "calls.csv"
    path.write_text(NOLA, encoding="utf-8")
    if kind == "gzip":
        path = path.with_suffix(".csv.gz")
        path.write_bytes(gzip.compress(NOLA.encode()))
    elif kind in ("jsonl", "parquet"):
        con = duckdb.connect()
        source = f"read_csv('{cli.work / 'calls.csv'}', all_varchar=true)"
        if kind == "jsonl":
            path = cli.work / "calls.jsonl"
            con.execute(f"COPY (SELECT * FROM {source}) TO '{path}' (FORMAT json)")
        else:
            path = cli.work / "calls.parquet"
            con.execute(f"COPY (SELECT * FROM {source}) TO '{path}' (FORMAT parquet)")
        con.close()
    out = cli.ok("cfs", "import", str(path), "--preset", "new-orleans")
    assert "by the local month of TimeCreate" in out
    assert stored(cli) == {"2018-01": 2, "2018-02": 2, "2018-03": 1}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "month,count\n2018-01,5\n2018-13,4\n",
            "cfs.csv, line 3, column month: expected YYYY-MM, got '2018-13'",
        ),
        ("month,count\n2018-01,-5\n", "cfs.csv, line 2, column count: expected a whole number"),
        (
            "month,count\n2018-01,5\n2018-01,6\n",
            "cfs.csv, line 3, column month: 2018-01 is already given on line 2",
        ),
        ("month,count\n2018-01,5,9\n", "cfs.csv, line 2: expected 2 fields"),
        ("month,count\n", "cfs.csv: no months after the header"),
        (
            NOLA.replace("2018-03-06 10:00:00", "next tuesday"),
            "cfs.csv, line 5, column TimeCreate: is not a date and time: 'next tuesday'",
        ),
        (NOLA.replace("2018-03-06 10:00:00", ""), "cfs.csv, line 5, column TimeCreate: is empty"),
        ("incident,when\n1,2018-01-01\n", "is not in the file; its columns are: incident, when"),
        ("", "cfs.csv: the file is empty"),
    ],
)
def test_a_bad_file_is_refused_naming_line_and_column_and_nothing_is_stored(
    cli: Cli, content: str, message: str
) -> None:
    line = cli.refused(2, "cfs", "import", cli.file("cfs.csv", content))
    assert message in line
    assert stored(cli) == {}


def test_a_missing_file_and_an_unknown_time_column_exit_2(cli: Cli) -> None:
    assert "no such file" in cli.refused(2, "cfs", "import", str(cli.work / "nope.csv"))
    line = cli.refused(2, "cfs", "import", cli.file("calls.csv", NOLA), "--time-column", "Received")
    assert "the column given ('Received') is not in the file; its columns are: NOPD_Item" in line


def test_a_report_built_twice_is_byte_identical_and_its_checkpoint_verifies_an_export(
    closed: Cli,
) -> None:
    closed.ok("cfs", "import", closed.file("cfs.csv", "month,count\n2018-03,45210\n"))
    first, second = closed.work / "one", closed.work / "two"
    for fmt in ("json", "pdf", "html", "csv"):
        closed.ok("report", "build", "--period", "2018-03", "--format", fmt, "--out", str(first))
        closed.ok("report", "build", "--period", "2018-03", "--format", fmt, "--out", str(second))
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    report = json.loads((first / "report-2018-03.json").read_text())
    assert report["figures"]["calls_for_service"]["text"] == "2 of 45,210 calls (0.0044%)"
    assert report["built_from"]["checkpoint"]["size"] == closed.ledger_size()
    export = closed.work / "ledger.jsonl"
    closed.ok("ledger", "export", str(export))
    out = closed.ok(
        "ledger", "verify", str(export), "--key", closed.public_key,
        "--trusted", str(first / "ledger-checkpoint.json"),
    )  # fmt: skip
    assert out.startswith(f"export OK: {closed.ledger_size()} entries")


def test_report_build_refuses_bad_input_with_exit_2(closed: Cli) -> None:
    out = str(closed.work / "r")
    assert "--period: period '2018-3' is not one of" in closed.refused(
        2, "report", "build", "--period", "2018-3", "--format", "json", "--out", out
    )
    assert "is for a calendar year" in closed.refused(
        2, "report", "build", "--period", "2018-Q1", "--format", "illinois-annual", "--out", out
    )
    assert "public body and the county" in closed.refused(
        2, "report", "build", "--period", "2018", "--format", "oregon-cjc", "--out", out
    )
    bad = closed.run("report", "build", "--period", "2018", "--format", "docx", "--out", out)
    assert bad.exit_code == 2
    assert not Path(out).exists()


def test_report_build_refuses_with_exit_1_when_the_checkpoint_was_forged(closed: Cli) -> None:
    stored_head = closed.sql("SELECT checkpoint FROM ledger_head")[0][0]
    head = json.loads(stored_head) if isinstance(stored_head, str) else stored_head
    head["size"] += 1
    closed.sql("UPDATE ledger_head SET checkpoint = :c", c=json.dumps(head))
    line = closed.refused(
        1,
        "report",
        "build",
        "--period",
        "2018",
        "--format",
        "json",
        "--out",
        str(closed.work / "r"),
    )
    assert "the ledger's checkpoint does not verify" in line
    assert not (closed.work / "r").exists()


def test_the_illinois_statement_verifies_and_a_changed_one_does_not(closed: Cli) -> None:
    out = closed.work / "il"
    closed.ok(
        "report", "build", "--period", "2018", "--format", "illinois-annual", "--out", str(out)
    )
    statement, sig = out / "illinois-2018-statement.txt", out / "illinois-2018-statement.sig"
    key = str(out / "ledger-public.pem")
    ok = closed.ok("report", "verify-statement", str(statement), str(sig), "--key", key)
    assert ok.endswith("signature OK\n")
    statement.write_bytes(statement.read_bytes().replace(b"2 requests", b"0 requests"))
    assert "does not verify" in closed.refused(
        1, "report", "verify-statement", str(statement), str(sig), "--key", key
    )
