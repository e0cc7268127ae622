"""`assistgate audit ...`: scan records for immigration enforcement, explain, score, reconcile."""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from assistgate.audit.detector import explain as explain_call
from assistgate.audit.errors import AuditError
from assistgate.audit.evaluate import Evaluation, normalise_label
from assistgate.audit.evaluate import evaluate as score_labels
from assistgate.audit.presets import PRESETS
from assistgate.audit.readers import Column, ColumnPlan, expand_inputs
from assistgate.audit.reconcile import FlaggedCall
from assistgate.audit.rules import Category, Record, RuleSet, load_rules, newest_rules
from assistgate.audit.scan import Flagged, Summary, output_columns
from assistgate.audit.scan import scan as scan_files
from assistgate.audit.sniff import ENCODINGS

EXIT_INVALID = 2
EXIT_BELOW_TARGET = 1


def _fail(message: str) -> NoReturn:
    click.echo(f"assistgate: {message}", err=True)
    sys.exit(EXIT_INVALID)


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
        _fail(str(exc))
    if not out_path.parent.is_dir():
        _fail(f"--out: the folder {str(out_path.parent)!r} does not exist")

    summary = Summary()

    def keep(category: Category) -> bool:
        return all_categories or category is rules.category

    def write(rows: Iterator[Flagged]) -> None:
        with _atomic_csv(out_path) as out:
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
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {out_path}: {exc.strerror or exc}")
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
        _fail("give either --preset or the --*-column options, not both")
    if preset:
        return PRESETS[preset].plan
    if not id_column:
        _fail("give --preset NAME, or --id-column with --text-column and/or --type-column")
    if not text_columns and not type_columns:
        _fail("give at least one --text-column or --type-column")
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
            _fail(f"--preset {preset} reads {PRESETS[preset].record.value} records, not {record}")
        chosen = PRESETS[preset].record
    if path is not None:
        return path
    return newest_rules(chosen or Record.DISPATCH)


def _rules(path: Path) -> RuleSet:
    try:
        return load_rules(path)
    except AuditError as exc:
        _fail(str(exc))


@contextmanager
def _atomic_csv(path: Path) -> Iterator[IO[str]]:
    """Write to a temporary file beside `path` and rename it over `path` only on success."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


@audit.command()
@click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with columns id,label (label: a category, or yes/no for agency request).",
)
@click.argument(
    "flagged_path",
    metavar="FLAGGED.csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--category",
    type=click.Choice([c.value for c in Category if c is not Category.NONE]),
    help="The category to score (default: the one the labels use; agency_request if several).",
)
@click.option("--sample", type=click.IntRange(min=0), default=10, show_default=True)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 1),
    help="Exit with status 1 if precision or recall is below this.",
)
def evaluate(
    labels_path: Path,
    flagged_path: Path,
    category: str | None,
    sample: int,
    fail_under: float | None,
) -> None:
    """Compare FLAGGED.csv (from `audit scan`) with hand labels: precision, recall, F1."""
    labels, texts = _read_labels(labels_path)
    flagged, evidence = _read_flagged(flagged_path)
    used = {c for c in labels.values() if c is not Category.NONE}
    chosen = Category(category) if category else Category.AGENCY_REQUEST
    if category is None and len(used) == 1:
        chosen = used.pop()
    result = score_labels(labels, flagged, chosen)
    _print_evaluation(result, labels, texts, evidence, sample)
    if fail_under is not None:
        worst = min(result.precision or 0.0, result.recall or 0.0)
        if worst < fail_under:
            click.echo(f"assistgate: below --fail-under {fail_under}", err=True)
            sys.exit(EXIT_BELOW_TARGET)


def _rows(path: Path, needed: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            have = reader.fieldnames or []
            missing = [n for n in needed if n not in have]
            if missing:
                _fail(
                    f"{path}: no column {', '.join(missing)}; "
                    f"the file's columns are: {', '.join(have) or '(none)'}"
                )
            for row in reader:
                yield reader.line_num, row
    except UnicodeDecodeError:
        _fail(f"{path}: not UTF-8 text")
    except csv.Error as exc:
        _fail(f"{path}: not valid CSV: {exc}")


def _read_labels(path: Path) -> tuple[dict[str, Category], dict[str, str]]:
    labels: dict[str, Category] = {}
    texts: dict[str, str] = {}
    for line, row in _rows(path, ("id", "label")):
        label = normalise_label(row["label"] or "")
        if label is None:
            _fail(f"{path}, line {line}: unknown label {row['label']!r}")
        if row["id"] in labels:
            _fail(f"{path}, line {line}: id {row['id']!r} is labelled twice")
        labels[row["id"]] = label
        text = row.get("text") or row.get("remarks") or row.get("reason") or row.get("narrative")
        if text:
            texts[row["id"]] = text
    return labels, texts


def _read_flagged(path: Path) -> tuple[dict[str, Category], dict[str, str]]:
    flagged: dict[str, Category] = {}
    evidence: dict[str, str] = {}
    for line, row in _rows(path, ("id", "category")):
        try:
            flagged[row["id"]] = Category(row["category"])
        except ValueError:
            _fail(f"{path}, line {line}: unknown category {row['category']!r}")
        evidence[row["id"]] = row.get("evidence") or ""
    return flagged, evidence


def _print_evaluation(
    r: Evaluation,
    labels: dict[str, Category],
    texts: dict[str, str],
    evidence: dict[str, str],
    sample: int,
) -> None:
    def rate(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    actual = sum(1 for c in labels.values() if c is r.category)
    click.echo(f"category: {r.category.value}")
    click.echo(f"labelled calls: {len(labels):,} ({actual:,} {r.category.value})")
    click.echo(f"precision {rate(r.precision)}  recall {rate(r.recall)}  F1 {rate(r.f1)}")
    click.echo(f"TP {r.true_positives}  FP {r.false_positives}  FN {r.false_negatives}")
    if r.unlabelled:
        click.echo(f"{len(r.unlabelled)} flagged ids have no label (counted as false positives)")
    click.echo(f"false positives ({r.false_positives}):")
    for i in r.false_positive_ids[:sample]:
        told = labels[i].value if i in labels else "unlabelled"
        click.echo(f"  {i} [{told}] evidence: {evidence.get(i, '')}")
    click.echo(f"false negatives ({r.false_negatives}):")
    for i in r.false_negative_ids[:sample]:
        click.echo(f"  {i}" + (f"  {texts[i]}" if i in texts else ""))


@audit.command()
@click.argument(
    "flagged_path",
    metavar="FLAGGED.csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--window-minutes",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="How far apart a call and a request may be, to match by time and location.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="REPORT.csv",
    help="Write the findings to this CSV file (written whole or not at all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--include-matched", is_flag=True, help="Also list the matched pairs.")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    help="Start of the period the scan covered (default: its earliest flagged call).",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    help="End of the period the scan covered (default: its latest flagged call).",
)
@click.option(
    "--timezone",
    "timezone_name",
    metavar="ZONE",
    help="Zone of call times written without an offset (default: the deployment's).",
)
def reconcile(
    flagged_path: Path,
    window_minutes: int,
    out_path: Path | None,
    as_json: bool,
    include_matched: bool,
    since: dt.datetime | None,
    until: dt.datetime | None,
    timezone_name: str | None,
) -> None:
    """Compare a scan's agency requests with the request register: list possible bypasses.

    Every flagged agency request with no request in the register (matched by CAD incident id,
    or by time within --window-minutes and the same block) is a possible bypass of the policy;
    every request received in the period whose incident is not among the flagged calls is
    listed too. Summary on standard error; exit 0 whatever is found.
    """
    # Imported here: the register's modules (SQLAlchemy, settings) are not needed to scan.
    from assistgate.audit import report
    from assistgate.audit.reconcile import reconcile as match
    from assistgate.audit.register import register_entries
    from assistgate.cli.common import echo_json, opened_app, reports_errors, table

    @reports_errors
    def run() -> None:
        with opened_app() as app:
            zone = app.settings.zone
            if timezone_name:
                try:
                    zone = ZoneInfo(timezone_name)
                except (ZoneInfoNotFoundError, ValueError):
                    _fail(f"--timezone: unknown time zone {timezone_name!r}")
            try:
                calls = report.read_flagged_calls(flagged_path, zone)
            except AuditError as exc:
                _fail(str(exc))
            window = dt.timedelta(minutes=window_minutes)
            period = _period(since, until, calls, zone)
            with app.sessions() as session:
                requests = register_entries(
                    session,
                    since=None if period is None else period[0] - window,
                    until=None if period is None else period[1] + window,
                )
        result = match(calls, requests, window=window, period=period)
        shown = result.findings + (result.matched if include_matched else [])
        rows = [report.finding_row(f, zone) for f in shown]
        if out_path is not None:
            if not out_path.parent.is_dir():
                _fail(f"--out: the folder {str(out_path.parent)!r} does not exist")
            with _atomic_csv(out_path) as out:
                writer = csv.DictWriter(out, report.REPORT_COLUMNS, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
        if as_json:
            echo_json(report.as_json(result, zone, include_matched))
        elif out_path is None and rows:
            columns = ["finding", "call_id", "call_time", "request_ref", "request_received_at"]
            click.echo(table([[r[c] for c in columns] for r in rows], columns))
        for line in report.summary_lines(result, zone):
            click.echo(line, err=True)
        if out_path is not None:
            click.echo(f"  wrote {len(rows):,} rows to {out_path}", err=True)

    run()


def _period(
    since: dt.datetime | None,
    until: dt.datetime | None,
    calls: list[FlaggedCall],
    zone: ZoneInfo,
) -> tuple[dt.datetime, dt.datetime] | None:
    """Return the period the scan covered: the options, else its first and last flagged call."""
    from assistgate.audit.reconcile import scan_period

    start = since.replace(tzinfo=zone).astimezone(dt.UTC) if since else None
    end = until.replace(tzinfo=zone).astimezone(dt.UTC) if until else None
    if until is not None and until.hour == until.minute == 0:
        end = (until + dt.timedelta(days=1)).replace(tzinfo=zone).astimezone(dt.UTC)
    try:
        return scan_period(calls, start, end)
    except ValueError:
        _fail("--until is before --since")
