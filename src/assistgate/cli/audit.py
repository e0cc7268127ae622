"""`assistgate audit ...`: scan dispatch exports for immigration-agency requests and explain."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NoReturn

import click

from assistgate.audit.detector import explain as explain_call
from assistgate.audit.errors import AuditError
from assistgate.audit.evaluate import Evaluation, normalise_label
from assistgate.audit.evaluate import evaluate as score_labels
from assistgate.audit.presets import PRESETS
from assistgate.audit.readers import Column, ColumnPlan, expand_inputs
from assistgate.audit.rules import Category, RuleSet, default_rules, load_rules
from assistgate.audit.scan import OUTPUT_COLUMNS, Summary
from assistgate.audit.scan import scan as scan_files
from assistgate.audit.sniff import ENCODINGS

EXIT_INVALID = 2
EXIT_BELOW_TARGET = 1


def _fail(message: str) -> NoReturn:
    click.echo(f"assistgate: {message}", err=True)
    sys.exit(EXIT_INVALID)


@click.group()
def audit() -> None:
    """Find the calls in which an immigration agency asked the police for help."""


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
def scan(
    inputs: tuple[str, ...],
    out_path: Path,
    preset: str | None,
    id_column: str | None,
    text_columns: tuple[str, ...],
    time_column: str | None,
    type_columns: tuple[str, ...],
    all_categories: bool,
    encoding: str,
    rules_path: Path | None,
) -> None:
    """Scan INPUT files (CSV, gzip CSV, Parquet, JSON Lines; globs allowed) for agency requests.

    Writes one row per flagged call (id,time,score,category,evidence,rules) to --out and a
    summary to standard error. Invalid input exits with status 2 and leaves no output file.
    """
    plan = _plan(preset, id_column, text_columns, time_column, type_columns)
    rules = _rules(rules_path)
    try:
        paths = expand_inputs(inputs)
    except AuditError as exc:
        _fail(str(exc))
    if not out_path.parent.is_dir():
        _fail(f"--out: the folder {str(out_path.parent)!r} does not exist")

    summary = Summary()

    def keep(category: Category) -> bool:
        return all_categories or category is Category.AGENCY_REQUEST

    sizes = [max(p.stat().st_size, 1) for p in paths]
    with _progress(sizes) as report:
        try:
            with _atomic_csv(out_path) as out:
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(OUTPUT_COLUMNS)
                for flagged in scan_files(
                    paths,
                    plan,
                    keep=keep,
                    rules=rules,
                    encoding=encoding,
                    progress=report,
                    summary=summary,
                ):
                    writer.writerow(flagged.as_row())
        except AuditError as exc:
            _fail(str(exc))
        except OSError as exc:
            _fail(f"cannot write {out_path}: {exc.strerror or exc}")
    _print_summary(summary, out_path, all_categories, rules)


def _plan(
    preset: str | None,
    id_column: str | None,
    text_columns: tuple[str, ...],
    time_column: str | None,
    type_columns: tuple[str, ...],
) -> ColumnPlan:
    custom = id_column or text_columns or time_column or type_columns
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
    )


def _rules(path: Path | None) -> RuleSet:
    try:
        return load_rules(path) if path is not None else default_rules()
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


def _print_summary(s: Summary, out: Path, all_categories: bool, rules: RuleSet) -> None:
    def say(line: str) -> None:
        click.echo(line, err=True)

    files = "file" if len(s.files) == 1 else "files"
    say(f"assistgate audit: read {s.rows:,} rows from {len(s.files)} {files} in {s.seconds:.1f} s")
    for f in s.files:
        say(
            f"  {f.path}: {f.sniffed.describe()}; {f.rows:,} rows, {len(f.candidates):,} candidates"
        )
    share = f" ({s.candidates / s.rows:.1%})" if s.rows else ""
    say(f"  pre-filter kept {s.candidates:,} rows{share} for the rules ({rules.label})")
    flagged = sum(s.by_category.values())
    parts = ", ".join(f"{c.value} {n:,}" for c, n in sorted(s.by_category.items()))
    say(f"  flagged {flagged:,}" + (f": {parts}" if parts else ""))
    scope = (
        "every category"
        if all_categories
        else "agency_request only; --all-categories adds the rest"
    )
    say(f"  wrote {s.written:,} rows to {out} ({scope})")
    if s.weak:
        say(
            f"  not flagged, weak evidence only: {s.weak:,} calls typed as an assist to another "
            "agency; review them by hand"
        )
    for note in s.blind:
        say(f"  could not see: {note}")


@audit.command()
@click.option("--text", required=True, help="The call's remarks, as in the export.")
@click.option("--call-type", help="The call's type code or text (APCO ALIEN = immigration).")
def explain(text: str, call_type: str | None) -> None:
    """Show every rule considered for one call, fired or not, and why the category follows."""
    click.echo(explain_call(text, call_type), nl=False)


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
    default=Category.AGENCY_REQUEST.value,
    show_default=True,
)
@click.option("--sample", type=click.IntRange(min=0), default=10, show_default=True)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 1),
    help="Exit with status 1 if precision or recall is below this.",
)
def evaluate(
    labels_path: Path, flagged_path: Path, category: str, sample: int, fail_under: float | None
) -> None:
    """Compare FLAGGED.csv (from `audit scan`) with hand labels: precision, recall, F1."""
    labels, texts = _read_labels(labels_path)
    flagged, evidence = _read_flagged(flagged_path)
    result = score_labels(labels, flagged, Category(category))
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
        text = row.get("text") or row.get("remarks")
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
