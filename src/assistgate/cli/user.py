"""`assistgate user ...`: add the people (and systems) who act on requests, list them, and
the console's administrative changes (unlock, set a password, deactivate, reactivate).

The changes are the administrator screens' own, each a ledger entry whose actor is
`console:<login>`, the operating-system account that ran the command.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.auth import admin
from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.auth.service import add_user
from assistgate.cli.common import (
    EXIT_INVALID,
    echo_json,
    fail,
    local_time,
    opened_app,
    reports_errors,
    table,
)
from assistgate.ledger.store import LedgerWriter
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


def console_actor() -> str:
    """Return who acts from the console: `console:<operating-system login>`."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):
        login = "unknown"
    return f"console:{login}"[:64]


def _change(username: str, change: Callable[[Session, LedgerWriter, User], str]) -> None:
    """Apply one administrative change to USERNAME in one transaction; print what happened."""
    with opened_app() as app, app.transaction() as session:
        target = admin.find_user(session, username)
        message = change(session, app.deployment.ledger, target)
    click.echo(message)


@user.command()
@click.argument("username")
@reports_errors
def unlock(username: str) -> None:
    """Unlock USERNAME, locked after five failed sign-ins within fifteen minutes."""
    actor = console_actor()

    def run(session: Session, ledger: LedgerWriter, target: User) -> str:
        if admin.unlock(session, ledger, actor=actor, user=target):
            return f"unlocked {target.username}"
        return f"{target.username} was not locked; nothing changed"

    _change(username, run)


@user.command("set-password")
@click.argument("username")
@click.option(
    "--no-change-required",
    "keep",
    is_flag=True,
    help="The person types their own password here: do not make them change it at sign-in.",
)
@reports_errors
def set_password(username: str, keep: bool) -> None:
    """Set the password of USERNAME (typed twice, not shown).

    By default it is an initial password: the person must choose their own at their next
    sign-in. Their open sessions end.
    """
    actor = console_actor()
    with opened_app() as app, app.sessions() as session:
        admin.find_user(session, username)  # say "no user" before asking for a password
    try:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True,
                                err=True)  # fmt: skip
    except click.Abort:
        fail("no password given; nothing changed", EXIT_INVALID)

    def run(session: Session, ledger: LedgerWriter, target: User) -> str:
        admin.set_password(session, ledger, actor=actor, user=target, password=password,
                           must_change=not keep)  # fmt: skip
        then = "" if keep else "; it must be changed at the next sign-in"
        return f"password set for {target.username}{then}"

    _change(username, run)


@user.command()
@click.argument("username")
@reports_errors
def deactivate(username: str) -> None:
    """Deactivate USERNAME: it can no longer sign in or act, and its sessions end."""
    actor = console_actor()

    def run(session: Session, ledger: LedgerWriter, target: User) -> str:
        if admin.deactivate(session, ledger, actor=actor, user=target):
            return f"deactivated {target.username}"
        return f"{target.username} was already inactive; nothing changed"

    _change(username, run)


@user.command()
@click.argument("username")
@reports_errors
def reactivate(username: str) -> None:
    """Let a deactivated USERNAME sign in and act again."""
    actor = console_actor()

    def run(session: Session, ledger: LedgerWriter, target: User) -> str:
        if admin.reactivate(session, ledger, actor=actor, user=target):
            return f"reactivated {target.username}"
        return f"{target.username} was already active; nothing changed"

    _change(username, run)
