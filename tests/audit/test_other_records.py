"""Plate-reader search logs and incident narratives: presets, evaluation sets, explain."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from assistgate.cli.audit import audit
from tests.audit.factories import write_csv

DATA = Path(__file__).with_name("data")
EVALUATION_SETS = [
    ("lpr_log", "lpr_eval.csv", "immigration_search", 370),
    ("lpr_log", "lpr_eval_second.csv", "immigration_search", 60),
    ("incident_narrative", "narrative_eval.csv", "status_inquiry", 286),
    ("incident_narrative", "narrative_eval_second.csv", "status_inquiry", 50),
]


def _run(*args: str) -> Result:
    return CliRunner().invoke(audit, list(args))


def _rate(output: str, name: str) -> float:
    line = next(line for line in output.splitlines() if line.startswith("precision"))
    words = line.split()
    return float(words[words.index(name) + 1])


@pytest.mark.parametrize(
    ("preset", "name", "category", "rows"),
    EVALUATION_SETS,
    ids=[name for _, name, _, _ in EVALUATION_SETS],
)
def test_each_evaluation_set_is_scanned_with_its_preset_and_reaches_095(
    tmp_path: Path, preset: str, name: str, category: str, rows: int
) -> None:
    out = tmp_path / "flagged.csv"
    scanned = _run("scan", str(DATA / name), "--preset", preset, "--out", str(out))
    assert scanned.exit_code == 0, scanned.output
    assert f"read {rows:,} rows from 1 file" in scanned.stderr
    assert f"({category})" in scanned.stderr
    result = _run("evaluate", "--labels", str(DATA / name), str(out), "--fail-under", "0.95")
    assert result.exit_code == 0, result.output
    assert f"category: {category}" in result.output
    assert _rate(result.output, "precision") >= 0.95
    assert _rate(result.output, "recall") >= 0.95


def test_the_lpr_preset_copies_who_searched_and_for_which_organisation(tmp_path: Path) -> None:
    out = tmp_path / "flagged.csv"
    _run("scan", str(DATA / "lpr_eval.csv"), "--preset", "lpr_log", "--out", str(out))
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "id", "time", "score", "category", "evidence", "rules",
        "user", "org_id", "search_type", "networks",
    ]  # fmt: skip
    assert all(r["user"] and r["org_id"] for r in rows)
    assert {r["category"] for r in rows} == {"immigration_search"}


def test_a_search_log_without_an_id_column_numbers_its_searches(tmp_path: Path) -> None:
    header = ("time", "user", "reason", "networks", "filters", "org_id", "search_type")
    rows = [
        ("2025-06-01T10:00:00Z", "a", "stolen vehicle", "LMPD", "", "o1", "plate"),
        ("2025-06-01T10:05:00Z", "b", "ICE", "LMPD", "", "o2", "plate"),
        ("2025-06-01T10:09:00Z", "c", "ice cream truck theft", "LMPD", "", "o1", "plate"),
        ("2025-06-01T10:12:00Z", "d", "ERO TARGET", "LMPD", "", "o3", "plate"),
    ]
    src = write_csv(tmp_path / "searches.csv", rows, header)
    out = tmp_path / "flagged.csv"
    result = _run("scan", str(src), "--preset", "lpr_log", "--out", str(out))
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as f:
        flagged = [(r["id"], r["user"], r["evidence"]) for r in csv.DictReader(f)]
    assert flagged == [("2", "b", "ICE"), ("4", "d", "ERO TARGET")]
    assert "could not see: no id column: each row is known by its number" in result.stderr


def test_a_narrative_export_missing_its_narrative_column_lists_the_columns_it_has(
    tmp_path: Path,
) -> None:
    src = write_csv(tmp_path / "reports.csv", [("25-1", "x")], ("report_number", "summary"))
    result = _run("scan", str(src), "--preset", "incident_narrative", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "no narrative column 'narrative' or 'synopsis'" in result.stderr
    assert "the file's columns are: report_number, summary" in result.stderr


def test_a_record_that_does_not_fit_the_preset_is_refused(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "a.csv")
    result = _run(
        "scan",
        str(src),
        "--preset",
        "lpr_log",
        "--record",
        "dispatch",
        "--out",
        str(tmp_path / "o"),
    )
    assert result.exit_code == 2
    assert "--preset lpr_log reads lpr_log records, not dispatch" in result.stderr


def test_custom_columns_can_read_narratives_with_the_record_option(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "rms.csv",
        [
            ("R1", "I asked the driver if he was legal."),
            ("R2", "Victim reported her passport stolen."),
        ],
        ("ReportNo", "Body"),
    )
    out = tmp_path / "o.csv"
    result = _run("scan", str(src), "--id-column", "ReportNo", "--text-column", "Body",
                  "--record", "incident_narrative", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as f:
        assert [(r["id"], r["category"]) for r in csv.DictReader(f)] == [("R1", "status_inquiry")]


def test_explain_reads_a_search_reason_with_the_lpr_rules() -> None:
    result = _run("explain", "--preset", "lpr_log", "--text", "Stolen vehicle, tag ICE 4471")
    assert result.exit_code == 0
    assert "(lpr 2026-11, lpr-2026-11.yaml)" in result.output
    assert '[masked] signal.ice: "ICE" explained away by false-friend.' in result.output
    assert '[fired]  false-friend.ice-plate: "tag ICE 4471"' in result.output
    assert "Decision: none (score 0.00)" in result.output


def test_explain_reads_a_narrative_with_the_narrative_rules() -> None:
    result = _run(
        "explain", "--record", "incident_narrative", "--text", "Advised ICE of the arrest."
    )
    assert "[fired]  signal.told-the-agency" in result.output
    assert "Decision: status_inquiry (score 0.95)" in result.output
