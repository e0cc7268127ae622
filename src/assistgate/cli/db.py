"""`assistgate db ...`: bring the database's schema up to date, or say where it stands."""

from __future__ import annotations

from collections.abc import Callable

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from assistgate.cli.common import fail, open_app_or_exit, reports_errors
from assistgate.db.migrate import current_revision, head_revision, upgrade


@click.group()
def db() -> None:
    """Create or migrate the database named by ASSISTGATE_DATABASE_URL."""


def _with_engine(action: Callable[[Engine], str]) -> str:
    """Run `action` on the configured database, naming the database if it cannot be reached."""
    app = open_app_or_exit(migrate=False)
    try:
        return action(app.engine)
    except OperationalError as exc:
        url = make_url(app.settings.database_url).render_as_string(hide_password=True)
        fail(f"cannot open the database {url}: {exc.orig} (check ASSISTGATE_DATABASE_URL)")
    finally:
        app.close()


@db.command("upgrade")
@reports_errors
def upgrade_command() -> None:
    """Migrate the database to the newest schema (creating it if empty); print the revision.

    Every other command does this too before it starts; run it alone after installing a new
    version, to migrate at a moment of your choosing.
    """

    def migrate(engine: Engine) -> str:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
        if before == after:
            return f"database already at revision {after} (the newest)"
        return f"database upgraded from revision {before or 'none (empty)'} to {after}"

    click.echo(_with_engine(migrate))


@db.command()
@reports_errors
def current() -> None:
    """Print the database's schema revision and whether it is the newest; change nothing."""

    def describe(engine: Engine) -> str:
        revision = current_revision(engine)
        head = head_revision()
        if revision is None:
            return "none: the database is empty; run 'assistgate db upgrade'"
        if revision == head:
            return f"{revision} (the newest)"
        return f"{revision} (the newest is {head}; run 'assistgate db upgrade')"

    click.echo(_with_engine(describe))
