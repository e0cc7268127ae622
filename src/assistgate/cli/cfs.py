"""`assistgate cfs ...`: monthly totals of calls for service, for the share of all calls.

`cfs import FILE` reads a calls-for-service export (one row per call, counted by the local
month of its time column) or a plain `month,count` CSV, and stores one total per month,
replacing the months the file covers. Exit 2, naming the file, line and column, when the
file cannot be read; nothing is stored then.
"""

from __future__ import annotations

from pathlib import Path

import click

from assistgate.audit.presets import PRESETS
from assistgate.audit.sniff import ENCODINGS
from assistgate.cli.common import fail, opened_app, reports_errors, table
from assistgate.transparency.cfs import (
    CfsError,
    month_total_text,
    read_totals,
    store_totals,
    stored_totals,
)


@click.group()
def cfs() -> None:
    """Import the dispatch system's monthly totals of calls for service."""


@cfs.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--time-column", metavar="NAME", help="The column holding each call's time.")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), help="A known export's columns.")
@click.option("--encoding", type=click.Choice(ENCODINGS), default="auto", show_default=True)
@reports_errors
def import_file(file: Path, time_column: str | None, preset: str | None, encoding: str) -> None:
    """Store the monthly totals in FILE (an export of calls, or month,count lines)."""
    if not file.is_file():
        fail(f"{file}: no such file")
    with opened_app() as app:
        try:
            totals = read_totals(
                file,
                app.settings.timezone,
                time_column=time_column,
                preset=preset,
                encoding=encoding,
            )
        except CfsError as exc:
            fail(str(exc))
        with app.transaction() as session:
            added, replaced = store_totals(session, totals)
    click.echo(f"{file}: {totals.described}")
    if totals.first:
        click.echo(f"  calls from {totals.first} to {totals.last} (local time)")
    click.echo(f"  stored {month_total_text(totals.months)}")
    if replaced:
        click.echo(f"  replaced the earlier totals of {', '.join(replaced)}")
    if added:
        click.echo(f"  new months: {', '.join(added)}")


@cfs.command("list")
@reports_errors
def list_months() -> None:
    """Show the stored monthly totals."""
    with opened_app() as app, app.sessions() as session:
        totals = stored_totals(session)
    if not totals:
        click.echo("no calls-for-service totals; import some with 'assistgate cfs import FILE'")
        return
    click.echo(table([[m, f"{n:,}"] for m, n in totals.items()], ["month", "calls"]))
