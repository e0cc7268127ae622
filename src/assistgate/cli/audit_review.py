"""`assistgate audit evaluate` and `audit reconcile`: score a scan, compare it with the register."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from assistgate.audit.errors import AuditError
from assistgate.audit.evaluate import Evaluation, normalise_label
from assistgate.audit.evaluate import evaluate as score_labels
from assistgate.audit.reconcile import FlaggedCall
from assistgate.audit.rules import Category
from assistgate.cli.audit_files import EXIT_BELOW_TARGET, atomic_csv, fail


@click.command()
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
                fail(
                    f"{path}: no column {', '.join(missing)}; "
                    f"the file's columns are: {', '.join(have) or '(none)'}"
                )
            for row in reader:
                yield reader.line_num, row
    except UnicodeDecodeError:
        fail(f"{path}: not UTF-8 text")
    except csv.Error as exc:
        fail(f"{path}: not valid CSV: {exc}")


def _read_labels(path: Path) -> tuple[dict[str, Category], dict[str, str]]:
    labels: dict[str, Category] = {}
    texts: dict[str, str] = {}
    for line, row in _rows(path, ("id", "label")):
        label = normalise_label(row["label"] or "")
        if label is None:
            fail(f"{path}, line {line}: unknown label {row['label']!r}")
        if row["id"] in labels:
            fail(f"{path}, line {line}: id {row['id']!r} is labelled twice")
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
            fail(f"{path}, line {line}: unknown category {row['category']!r}")
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


@click.command()
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
                    fail(f"--timezone: unknown time zone {timezone_name!r}")
            try:
                calls = report.read_flagged_calls(flagged_path, zone)
            except AuditError as exc:
                fail(str(exc))
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
                fail(f"--out: the folder {str(out_path.parent)!r} does not exist")
            with atomic_csv(out_path) as out:
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
        fail("--until is before --since")
