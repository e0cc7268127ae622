"""`assistgate report ...`: build the offline report of a period, and check a signed statement.

`report build` reads the register and writes files only: nothing is added to the register or
the ledger, so building the same report twice gives the same bytes. Exit 2 for a bad period,
a period that does not fit the format, or a missing key; exit 1 if the ledger's checkpoint
does not verify with the deployment's public key (nothing is written then).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import click

from assistgate.cli.common import EXIT_REFUSED, fail, opened_app, reports_errors
from assistgate.ledger.errors import CheckpointError, KeyStoreError
from assistgate.ledger.keys import load_public_key
from assistgate.transparency.oversight import verify_statement
from assistgate.transparency.periods import FORMS, PeriodError, parse_period
from assistgate.transparency.report_data import checkpoint_sentence
from assistgate.transparency.reports import FORMATS, ReportError, build_report, gather


@click.group()
def report() -> None:
    """Build reports of the figures and the public log, for the public and oversight bodies."""


@report.command()
@click.option("--period", required=True, metavar="PERIOD", help=f"The period: {FORMS}.")
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="What to build.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Folder to write the files in (made if missing); files of the same name are replaced.",
)
@click.option("--public-body", default="", help="oregon-cjc: the reporting public body.")
@click.option("--county", default="", help="oregon-cjc: the public body's county.")
@reports_errors
def build(period: str, fmt: str, out: Path, public_body: str, county: str) -> None:
    """Build the report of PERIOD in one format; the same data gives byte-identical files.

    Formats: html, pdf, csv, json (figures and public log); oregon-cjc (Oregon Criminal
    Justice Commission table); illinois-annual (a year: every request, or a signed
    statement that there were none); chicago-quarterly (a quarter: requests, and warrants
    and detainers). Each report names the ledger checkpoint it was built from.
    """
    with opened_app() as app:
        try:
            span = parse_period(period, app.settings.zone)
        except PeriodError as exc:
            fail(f"--period: {exc}")
        with app.sessions() as session:
            try:
                data = gather(
                    session,
                    span,
                    public_key=app.keys.ledger_public_key(),
                    origin=app.settings.ledger_origin,
                    public_body=public_body,
                    county=county,
                )
            except CheckpointError as exc:
                fail(f"the ledger's checkpoint does not verify: {exc}", EXIT_REFUSED)
        signing = app.keys.ledger_private_key() if fmt == "illinois-annual" else None
        try:
            files = build_report(data, fmt, signing_key=signing)
        except ReportError as exc:
            fail(f"--format {fmt}: {exc}")
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        _write(out / name, content)
    click.echo(f"{fmt} report of {span.label}: {data.figures.received} requests")
    click.echo(checkpoint_sentence(data))
    for name, content in files.items():
        click.echo(f"  {out / name}  sha256 {hashlib.sha256(content).hexdigest()}")


@report.command("verify-statement")
@click.argument("statement", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("signature", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--key", "key_path", required=True, metavar="PUBKEY.pem", help="Ledger public key.")
def verify_statement_command(statement: Path, signature: Path, key_path: str) -> None:
    """Check a signed statement (the Illinois annual report) with the ledger's public key."""
    try:
        key = load_public_key(Path(key_path))
    except KeyStoreError as exc:
        fail(f"--key: {exc}")
    if not verify_statement(statement.read_bytes(), signature.read_bytes(), key):
        fail(f"{statement}: the signature does not verify with {key_path}", EXIT_REFUSED)
    click.echo(f"{statement}: signature OK")


def _write(path: Path, content: bytes) -> None:
    """Write bytes whole or not at all (a temporary file renamed over the target)."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o644)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
