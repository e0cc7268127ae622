"""`assistgate user ...`: add the people (and systems) who act on requests, and list them."""

from __future__ import annotations

import click
from sqlalchemy import select

from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.auth.service import add_user
from assistgate.cli.common import echo_json, local_time, opened_app, reports_errors, table
from assistgate.requests.snapshot import json_value


@click.group()
def user() -> None:
    """Add and list users; a person may hold several roles."""


@user.command()
@click.argument("username")
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    metavar="ROLE",
    help=f"Repeat for several. One of: {', '.join(Role)}.",
)
@click.option("--name", "display_name", required=True, help="The name shown on screens.")
@click.option(
    "--extension",
    metavar="DIGITS",
    help="The phone extension a commanding officer calls from (recordings are matched by it).",
)
@reports_errors
def add(username: str, roles: tuple[str, ...], display_name: str, extension: str | None) -> None:
    """Add USERNAME (2 to 64 of a-z 0-9 . _ -) with its roles."""
    with opened_app() as app, app.transaction() as session:
        added = add_user(
            session, username=username, display_name=display_name, roles=roles, extension=extension
        )
        held = ", ".join(sorted(added.roles))
    click.echo(f"added {added.username} ({held}): {added.display_name}")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def list_users(as_json: bool) -> None:
    """List every user: username, role, name, extension, whether active."""
    with opened_app() as app, app.sessions() as session:
        users = list(session.scalars(select(User).order_by(User.username)))
        zone = app.settings.zone
    if as_json:
        echo_json(
            [
                {
                    "username": u.username,
                    "display_name": u.display_name,
                    "roles": sorted(u.roles),
                    "extension": u.extension,
                    "active": u.active,
                    "created_at": json_value(u.created_at),
                }
                for u in users
            ]
        )
        return
    rows = [
        [
            u.username,
            ", ".join(sorted(u.roles)),
            u.display_name,
            u.extension or "",
            "yes" if u.active else "no",
            local_time(u.created_at, zone),
        ]
        for u in users
    ]
    click.echo(table(rows, ["USERNAME", "ROLES", "NAME", "EXTENSION", "ACTIVE", "ADDED"]))
