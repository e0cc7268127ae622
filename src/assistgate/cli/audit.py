"""`assistgate audit ...`: scan records for immigration enforcement, explain, score, reconcile."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from assistgate.audit.detector import explain as explain_call
from assistgate.audit.errors import AuditError
from assistgate.audit.presets import PRESETS
from assistgate.audit.readers import Column, ColumnPlan, expand_inputs
from assistgate.audit.rules import Category, Record, RuleSet, load_rules, newest_rules
from assistgate.audit.scan import Flagged, Summary, output_columns
from assistgate.audit.scan import scan as scan_files
from assistgate.audit.sniff import ENCODINGS
from assistgate.cli.audit_files import atomic_csv, fail
from assistgate.cli.audit_review import evaluate, reconcile

RECORDS = [r.value for r in Record]
ENGINES = ("embedded", "spark")


@click.group()
def audit() -> None:
    """Find immigration enforcement in dispatch calls, plate-reader searches and reports."""


@audit.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FLAGGED.csv",
    help="Where to write the flagged calls (written whole or not at all).",
)
@click.option("--preset", type=click.Choice(sorted(PRESETS)), help="A known export's columns.")
@click.option("--id-column", metavar="NAME", help="Column holding the call's id.")
@click.option(
    "--text-column", "text_columns", multiple=True, metavar="NAME", help="Narrative (repeatable)."
)
@click.option("--time-column", metavar="NAME", help="Column holding the call's time.")
@click.option(
    "--type-column", "type_columns", multiple=True, metavar="NAME", help="Call type (repeatable)."
)
@click.option(
    "--location-column",
    metavar="NAME",
    help="Column holding the call's address, copied to the output (for `audit reconcile`).",
)
@click.option(
    "--record",
    type=click.Choice(RECORDS),
    help="What the rows are (default: dispatch calls, or what the preset reads).",
)
@click.option(
    "--all-categories",
    is_flag=True,
    help="Also write agency notifications and public mentions, not only agency requests.",
)
@click.option(
    "--encoding",
    type=click.Choice(ENCODINGS),
    default="auto",
    show_default=True,
    help="Text encoding of CSV and JSON Lines inputs (auto: UTF-8, else Windows-1252).",
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A rules file other than the one shipped (default: the newest dated version).",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="embedded",
    show_default=True,
    help="embedded: DuckDB on this machine; spark: Apache Spark (same rules, same output).",
)
@click.option(
    "--spark-master",
    default="local[*]",
    show_default=True,
    metavar="URL",
    help="With --engine spark: local[N] or a cluster's master URL.",
)
def scan(
    inputs: tuple[str, ...],
    out_path: Path,
    preset: str | None,
    id_column: str | None,
    text_columns: tuple[str, ...],
    time_column: str | None,
    type_columns: tuple[str, ...],
    location_column: str | None,
    record: str | None,
    all_categories: bool,
    encoding: str,
    rules_path: Path | None,
    engine: str,
    spark_master: str,
) -> None:
    """Scan INPUT files (CSV, gzip CSV, Parquet, JSON Lines; globs allowed).

    Dispatch calls: the calls in which an immigration agency asked for help. With --preset
    lpr_log: plate-reader searches made for immigration enforcement. With --preset
    incident_narrative: reports in which an officer asked about immigration status.

    Writes one row per flagged record (id,time,score,category,evidence,rules, then the
    preset's context columns) to --out and a summary to standard error. Invalid input exits
    with status 2 and leaves no output file.
    """
    plan = _plan(preset, id_column, text_columns, time_column, type_columns, location_column)
    rules_file = _rules_file(preset, record, rules_path)
    rules = _rules(rules_file)
    try:
        paths = expand_inputs(inputs)
    except AuditError as exc:
        fail(str(exc))
    if not out_path.parent.is_dir():
        fail(f"--out: the folder {str(out_path.parent)!r} does not exist")

    summary = Summary()

    def keep(category: Category) -> bool:
        return all_categories or category is rules.category

    def write(rows: Iterator[Flagged]) -> None:
        with atomic_csv(out_path) as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(output_columns(plan))
            for flagged in rows:
                writer.writerow(flagged.as_row())

    try:
        if engine == "spark":
            from assistgate.audit.spark import scan_with_spark, spark_session

            with spark_session(spark_master) as spark:
                write(
                    scan_with_spark(
                        spark,
                        paths,
                        plan,
                        keep=keep,
                        rules=rules,
                        rules_path=rules_file,
                        encoding=encoding,
                        summary=summary,
                    )
                )
        else:
            sizes = [max(p.stat().st_size, 1) for p in paths]
            with _progress(sizes) as report:
                write(
                    scan_files(
                        paths,
                        plan,
                        keep=keep,
                        rules=rules,
                        encoding=encoding,
                        progress=report,
                        summary=summary,
                    )
                )
    except AuditError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {out_path}: {exc.strerror or exc}")
    _print_summary(summary, out_path, all_categories, rules, engine)


def _plan(
    preset: str | None,
    id_column: str | None,
    text_columns: tuple[str, ...],
    time_column: str | None,
    type_columns: tuple[str, ...],
    location_column: str | None = None,
) -> ColumnPlan:
    custom = id_column or text_columns or time_column or type_columns or location_column
    if preset and custom:
        fail("give either --preset or the --*-column options, not both")
    if preset:
        return PRESETS[preset].plan
    if not id_column:
        fail("give --preset NAME, or --id-column with --text-column and/or --type-column")
    if not text_columns and not type_columns:
        fail("give at least one --text-column or --type-column")
    return ColumnPlan(
        id=Column("id", (id_column,)),
        time=Column("time", (time_column,)) if time_column else None,
        types=tuple(Column("call type", (n,)) for n in type_columns),
        texts=tuple(Column("narrative", (n,)) for n in text_columns),
        context=(Column("location", (location_column,)),) if location_column else (),
    )


def _rules_file(preset: str | None, record: str | None, path: Path | None) -> Path:
    """Return the rules file to use: --rules, else the newest for the record or the preset's."""
    chosen = Record(record) if record else None
    if preset is not None:
        if chosen is not None and chosen is not PRESETS[preset].record:
            fail(f"--preset {preset} reads {PRESETS[preset].record.value} records, not {record}")
        chosen = PRESETS[preset].record
    if path is not None:
        return path
    return newest_rules(chosen or Record.DISPATCH)


def _rules(path: Path) -> RuleSet:
    try:
        return load_rules(path)
    except AuditError as exc:
        fail(str(exc))


@contextmanager
def _progress(sizes: list[int]) -> Iterator[Callable[[int, float], None] | None]:
    """Yield a progress callback that drives a bar on a terminal, or None when piped."""
    if not sys.stderr.isatty():
        yield None
        return
    before = [sum(sizes[:i]) for i in range(len(sizes))]
    with click.progressbar(length=sum(sizes), label="scanning", file=sys.stderr) as bar:
        shown = 0

        def report(index: int, done: float) -> None:
            nonlocal shown
            target = before[index] + int(done * sizes[index])
            if target > shown:
                bar.update(target - shown)
                shown = target

        yield report


def _print_summary(
    s: Summary, out: Path, all_categories: bool, rules: RuleSet, engine: str = "embedded"
) -> None:
    def say(line: str) -> None:
        click.echo(line, err=True)

    files = "file" if len(s.files) == 1 else "files"
    on = " on Spark" if engine == "spark" else ""
    say(
        f"assistgate audit: read {s.rows:,} rows from {len(s.files)} {files}{on} "
        f"in {s.seconds:.1f} s"
    )
    for f in s.files:
        say(f"  {f.path}: {f.sniffed.describe()}; {f.rows:,} rows, {f.passed_filter:,} candidates")
    share = f" ({s.candidates / s.rows:.1%})" if s.rows else ""
    say(f"  pre-filter kept {s.candidates:,} rows{share} for the rules ({rules.label})")
    flagged = sum(s.by_category.values())
    parts = ", ".join(f"{c.value} {n:,}" for c, n in sorted(s.by_category.items()))
    say(f"  flagged {flagged:,}" + (f": {parts}" if parts else ""))
    if rules.record is not Record.DISPATCH:
        scope = rules.category.value
    elif all_categories:
        scope = "every category"
    else:
        scope = "agency_request only; --all-categories adds the rest"
    say(f"  wrote {s.written:,} rows to {out} ({scope})")
    if s.weak:
        what = (
            "calls typed as an assist to another agency"
            if rules.record is Record.DISPATCH
            else "records with a single cue (such as HSI or DHS named without a purpose)"
        )
        say(f"  not flagged, weak evidence only: {s.weak:,} {what}; review them by hand")
    for note in s.blind:
        say(f"  could not see: {note}")


@audit.command()
@click.option("--text", required=True, help="The record's text (remarks, reason, narrative).")
@click.option("--call-type", help="The call's type code or text (APCO ALIEN = immigration).")
@click.option("--record", type=click.Choice(RECORDS), help="What the text is (default: dispatch).")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), help="Use the preset's rules.")
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A rules file other than the one shipped.",
)
def explain(
    text: str,
    call_type: str | None,
    record: str | None,
    preset: str | None,
    rules_path: Path | None,
) -> None:
    """Show every rule considered for one record, fired or not, and why the category follows."""
    rules = _rules(_rules_file(preset, record, rules_path))
    click.echo(explain_call(text, call_type, rules=rules), nl=False)


# The review commands live in their own module.
audit.add_command(evaluate)
audit.add_command(reconcile)
