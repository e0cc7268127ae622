"""The Spark engine gives the embedded engine's results exactly (ids, categories, scores, evidence).

One local Spark session (two cores, bound to 127.0.0.1, no web UI) serves the whole module.
Skipped where PySpark or Java is missing, except under CI, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from assistgate.audit.presets import PRESETS
from assistgate.audit.readers import ColumnPlan
from assistgate.audit.rules import Category, Record, load_rules, newest_rules
from assistgate.audit.scan import Summary, scan
from assistgate.cli.audit import audit
from tests.audit.factories import write_jsonl, write_parquet

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DATA = Path(__file__).with_name("data")


def _spark_missing() -> str:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed"
    if shutil.which("java") is None:
        return "Java is not on PATH"
    return ""


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    missing = _spark_missing()
    if missing:
        if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
            pytest.fail(f"{missing}: the Spark engine cannot be tested", pytrace=False)
        pytest.skip(missing)
    from assistgate.audit.spark import spark_session

    with spark_session("local[2]") as session:
        yield session


def _both(
    spark: SparkSession, path: Path, plan: ColumnPlan, record: Record
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], Summary, Summary]:
    from assistgate.audit.spark import scan_with_spark

    rules_path = newest_rules(record)
    rules = load_rules(rules_path)

    def keep(_: Category) -> bool:
        return True

    embedded, on_spark = Summary(), Summary()
    a = [f.as_row() for f in scan([path], plan, keep=keep, rules=rules, summary=embedded)]
    b = [
        f.as_row()
        for f in scan_with_spark(
            spark, [path], plan, keep=keep, rules=rules, rules_path=rules_path, summary=on_spark
        )
    ]
    return a, b, embedded, on_spark


def test_spark_flags_the_same_calls_with_the_same_scores_and_evidence_on_the_corpus(
    spark: SparkSession,
) -> None:
    corpus = DATA / "dispatch_corpus.csv.gz"
    a, b, embedded, on_spark = _both(spark, corpus, PRESETS["internal"].plan, Record.DISPATCH)
    assert len(a) > 1000  # every category: requests, notifications, public mentions
    assert b == a
    assert (on_spark.rows, on_spark.candidates, on_spark.weak) == (
        embedded.rows,
        embedded.candidates,
        embedded.weak,
    )
    assert on_spark.by_category == embedded.by_category


@pytest.mark.parametrize(
    ("preset", "name"),
    [("lpr_log", "lpr_eval.csv"), ("incident_narrative", "narrative_eval.csv")],
)
def test_spark_gives_the_same_findings_on_the_other_records(
    spark: SparkSession, preset: str, name: str
) -> None:
    p = PRESETS[preset]
    a, b, _, _ = _both(spark, DATA / name, p.plan, p.record)
    assert a
    assert b == a


def test_spark_reads_parquet_and_json_lines_like_the_embedded_engine(
    spark: SparkSession, tmp_path: Path
) -> None:
    plan = PRESETS["internal"].plan
    for path in (write_parquet(tmp_path / "calls.parquet"), write_jsonl(tmp_path / "calls.jsonl")):
        a, b, _, _ = _both(spark, path, plan, Record.DISPATCH)
        assert [r[0] for r in a] == ["P1", "P4", "P5"]
        assert b == a, path.name


def test_spark_numbers_rows_of_a_log_without_ids_as_the_embedded_engine_does(
    spark: SparkSession, tmp_path: Path
) -> None:
    src = tmp_path / "searches.csv"
    lines = ["time,user,reason"] + [
        f"2025-06-01T10:{i:02d}:00Z,u{i},stolen vehicle" for i in range(40)
    ]
    lines[17] = "2025-06-01T10:16:00Z,u16,ICE"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    a, b, _, _ = _both(spark, src, PRESETS["lpr_log"].plan, Record.LPR_LOG)
    assert [r[0] for r in a] == ["17"]
    assert b == a


def test_the_command_runs_a_scan_on_spark_and_writes_the_same_file(
    spark: SparkSession, tmp_path: Path
) -> None:
    corpus = str(DATA / "dispatch_corpus.csv.gz")
    embedded, on_spark = tmp_path / "embedded.csv", tmp_path / "spark.csv"
    runner = CliRunner()
    first = runner.invoke(audit, ["scan", corpus, "--preset", "internal", "--out", str(embedded)])
    second = runner.invoke(audit, ["scan", corpus, "--preset", "internal", "--out", str(on_spark),
                                   "--engine", "spark", "--spark-master", "local[2]"])  # fmt: skip
    assert first.exit_code == second.exit_code == 0, second.output
    assert on_spark.read_bytes() == embedded.read_bytes()
    assert "read 24,000 rows from 1 file on Spark in" in second.stderr
