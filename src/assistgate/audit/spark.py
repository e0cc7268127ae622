"""Run a scan on Apache Spark: the same pre-filter in Spark SQL, the same rules in Python workers.

For archives too large for one machine (a state's or a nation's calls, billions of rows). Each
file is read by Spark (CSV, gzip CSV, Parquet, JSON Lines), its columns are resolved exactly as
the embedded engine resolves them, the rules' pre-filter runs as `rlike` (Java regular
expressions; the rules loader keeps the filter portable), and only the rows that pass are sent
to Python workers, which call `detector.classify` with the same rules file. The flagged rows
come back in input order (file by file, row by row) with the same columns as the embedded
engine writes, so the two outputs can be compared byte for byte.

Counting a file's rows is a second pass over CSV and JSON (Parquet counts from its footer).
The workers import `assistgate`: on a cluster it must be installed on every executor.
Spark listens on 127.0.0.1 only and its web UI is off unless the caller sets them otherwise.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistgate.audit.detector import classify
from assistgate.audit.errors import AuditError, ReadError
from assistgate.audit.presets import blind_spots
from assistgate.audit.readers import ColumnPlan, FileScan, resolve_columns
from assistgate.audit.rules import Category, RuleSet, load_rules
from assistgate.audit.scan import Flagged, Summary
from assistgate.audit.sniff import SAMPLE_BYTES, Sniffed, sniff

if TYPE_CHECKING:
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[*]"
# id, time, score, category, evidence, rules, context: one classified candidate.
_Result = tuple[str, str, float, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_LOOPBACK = "127.0.0.1"
_LOG_CONFIG = """status = error
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n
"""


class SparkUnavailable(AuditError):
    """PySpark or Java cannot be used here; the message says what to install."""


@contextmanager
def spark_session(master: str = DEFAULT_MASTER) -> Iterator[SparkSession]:
    """Start a Spark session bound to loopback with its UI off; stop it afterwards."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(
            "--engine spark needs PySpark: pip install pyspark (and Java 17 or newer on PATH)"
        ) from None
    os.environ.setdefault("SPARK_LOCAL_IP", _LOOPBACK)
    # The workers must run this interpreter, where assistgate and its rules are installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    with tempfile.TemporaryDirectory(prefix="assistgate-spark-") as tmp:
        log_config = Path(tmp) / "log4j2.properties"
        log_config.write_text(_LOG_CONFIG, encoding="utf-8")
        java_options = f"-Dlog4j2.configurationFile=file:{log_config}"
        builder = (
            SparkSession.builder.master(master)
            .appName("assistgate-audit")
            .config("spark.driver.host", _LOOPBACK)
            .config("spark.driver.bindAddress", _LOOPBACK)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.extraJavaOptions", java_options)
            .config("spark.executor.extraJavaOptions", java_options)
            .config("spark.local.dir", tmp)
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.python.worker.reuse", "true")
            .config("spark.sql.session.timeZone", "UTC")
        )
        running = SparkSession.getActiveSession()
        if running is not None:
            # Started by the caller (a test, a notebook): use it and leave it running.
            yield running
            return
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # Java missing or failing to start: say so in one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SparkUnavailable(f"Spark did not start ({first}); is Java 17+ on PATH?") from None
        session.sparkContext.setLogLevel("ERROR")
        try:
            yield session
        finally:
            session.stop()


def scan_with_spark(
    spark: SparkSession,
    paths: Sequence[Path],
    plan: ColumnPlan,
    *,
    keep: Callable[[Category], bool],
    rules: RuleSet,
    rules_path: Path,
    encoding: str = "auto",
    summary: Summary | None = None,
) -> Iterator[Flagged]:
    """Yield the flagged calls of every file in turn, as `scan.scan` does; fill `summary`."""
    s = summary if summary is not None else Summary()
    started = time.perf_counter()
    for path in paths:
        sniffed = sniff(path, encoding)
        frame = _read(spark, path, sniffed)
        used = resolve_columns(plan, tuple(frame.columns), str(path))
        rows = _count(frame, str(path), sniffed)
        results = _classified(frame, used, rules, str(rules_path), str(path), sniffed)
        s.files.append(FileScan(str(path), sniffed, rows, (), used, candidate_count=results[0]))
        s.rows += rows
        s.candidates += results[0]
        for note in blind_spots(plan, used, rules.record):
            if note not in s.blind:
                s.blind.append(note)
        for ident, when, score, category, evidence, fired, context in results[1]:
            cat = Category(category)
            if cat is Category.NONE:
                if score > 0:
                    s.weak += 1
                continue
            s.by_category[cat] += 1
            if keep(cat):
                s.written += 1
                yield Flagged(ident, when, score, cat, evidence, fired, context)
        s.seconds = time.perf_counter() - started
    s.seconds = time.perf_counter() - started


def _read(spark: SparkSession, path: Path, s: Sniffed) -> DataFrame:
    """Read one file with Spark, every column as text, as the embedded engine reads it."""
    where = str(path)
    try:
        if s.format == "parquet":
            from pyspark.sql import functions as sql

            frame = spark.read.parquet(where)
            return frame.select(*(sql.col(_q(c)).cast("string").alias(c) for c in frame.columns))
        if s.format == "jsonl":
            return (
                spark.read.option("primitivesAsString", "true")
                .option("mode", "FAILFAST")
                .json(where)
            )
        if s.compressed and not path.name.lower().endswith((".gz", ".gzip")):
            raise ReadError(where, "Spark reads gzip files only when their name ends in .gz")
        return (
            spark.read.option("header", "true")
            .option("sep", s.delimiter)
            .option("quote", '"')
            .option("escape", '"')
            .option("encoding", "windows-1252" if s.encoding == "cp1252" else "UTF-8")
            .option("mode", "FAILFAST")
            .option("multiLine", "true" if _has_quoted_newline(path, s) else "false")
            .option("inferSchema", "false")
            .option("enforceSchema", "false")
            .csv(where)
        )
    except AuditError:
        raise
    except Exception as exc:
        raise _read_error(exc, where) from None


def _has_quoted_newline(path: Path, s: Sniffed) -> bool:
    """Say whether a value in the sample spans lines: Spark must then read the file whole."""
    import gzip

    opener = gzip.open if s.compressed else open
    with opener(path, "rb") as f:
        sample = f.read(SAMPLE_BYTES).decode(s.encoding or "utf-8", errors="replace")
    lines = sample.splitlines(keepends=True)[:-1] or sample.splitlines(keepends=True)
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=s.delimiter)
    return any("\n" in v or "\r" in v for row in reader for v in row)


def _count(frame: DataFrame, name: str, s: Sniffed) -> int:
    try:
        return int(frame.count())
    except Exception as exc:
        raise _read_error(exc, name) from None


def _classified(
    frame: DataFrame,
    used: dict[str, tuple[str, ...]],
    rules: RuleSet,
    rules_path: str,
    name: str,
    s: Sniffed,
) -> tuple[
    int, list[tuple[str, str, float, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]]
]:
    """Return how many rows passed the pre-filter, and the finding of each, in input order."""
    from pyspark.sql import functions as sql

    def col(name: str) -> SparkColumn:
        return sql.col(_q(name))

    def joined(role: str, sep: str) -> SparkColumn:
        parts = [col(n) for n in used.get(role, ())]
        return sql.concat_ws(sep, *parts) if parts else sql.lit("")

    text, ctype = joined("text", "\n"), joined("type", " | ")
    kept = [col(n) if n else sql.lit(None).cast("string") for n in used.get("context", ())]
    numbered = frame
    if used["id"][0]:
        order = sql.monotonically_increasing_id()
        ident = col(used["id"][0])
    else:
        # Without an id column a row is known by its number: number the rows exactly.
        indexed = frame.rdd.zipWithIndex().map(lambda pair: (*pair[0], pair[1] + 1))
        numbered = indexed.toDF([*frame.columns, "__assistgate_row"])
        order = sql.col("__assistgate_row")
        ident = order.cast("string")
    passes = text.rlike(rules.prefilter_text)
    candidates = (
        numbered.select(
            order.alias("r"),
            sql.coalesce(ident, sql.lit("")).alias("i"),
            sql.coalesce(
                col(used["time"][0]) if used.get("time") else sql.lit(""), sql.lit("")
            ).alias("t"),
            sql.when(passes, text).otherwise(sql.lit("")).alias("x"),
            ctype.alias("c"),
            sql.array(*kept).alias("k") if kept else sql.array().cast("array<string>").alias("k"),
            passes.alias("m"),
        )
        .where(sql.col("m") | sql.col("c").rlike(rules.prefilter_call_type))
        .drop("m")
    )
    try:
        found = candidates.rdd.mapPartitions(_classify_partition(rules_path)).collect()
    except Exception as exc:
        raise _read_error(exc, name) from None
    found.sort(key=lambda row: row[0])
    return len(found), [row[1:] for row in found]


def _classify_partition(
    rules_path: str,
) -> Callable[[Iterable[Any]], Iterator[tuple[Any, ...]]]:
    """Return the function each worker runs on its candidates: the exact rules, in Python."""

    def run(rows: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        rs = _rules_in_worker(rules_path)
        for r, i, t, x, c, k in rows:
            f = classify(x or "", c or None, rules=rs)
            context = tuple(v or "" for v in (k or ()))
            yield (r, i, t, f.score, f.category.value, f.evidence, f.rules, context)

    return run


@cache
def _rules_in_worker(path: str) -> RuleSet:
    return load_rules(Path(path))


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _read_error(exc: Exception, name: str) -> ReadError:
    """Turn Spark's long message into one line that names the file."""
    text = str(exc)
    if "MALFORMED" in text.upper() or "Malformed" in text:
        return ReadError(name, "a row Spark cannot parse (a truncated or malformed file?)")
    if "PATH_NOT_FOUND" in text or "does not exist" in text:
        return ReadError(name, "no such file")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return ReadError(name, f"Spark could not read it: {lines[0] if lines else type(exc).__name__}")
