"""`assistgate token ...`: API tokens for dispatch systems (shown once, stored as a hash)."""

from __future__ import annotations

import getpass

import click
from sqlalchemy import select

from assistgate.auth.enums import Role
from assistgate.auth.models import ApiToken, User
from assistgate.auth.sessions import SCOPES, create_token
from assistgate.cli.common import (
    EXIT_REFUSED,
    acting_user,
    echo_json,
    fail,
    local_time,
    opened_app,
    reports_errors,
    table,
)
from assistgate.db.base import utcnow
from assistgate.requests.errors import InvalidField, NotPermitted
from assistgate.requests.snapshot import json_value


def operator() -> str:
    """Return who runs an administrative command, as the ledger records it."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no login name (a container without /etc/passwd entry)
        return "cli:unknown"


@click.group()
def token() -> None:
    """Create, list and revoke the API tokens dispatch systems call the API with."""


@token.command()
@click.option("--name", required=True, help="A name for the token (unique), e.g. cad-main.")
@click.option("--scope", "scopes", required=True, multiple=True, type=click.Choice(SCOPES),
              help="Repeat for several.")  # fmt: skip
@click.option("--as", "username", required=True, metavar="USERNAME",
              help="The account the token acts as (role dispatch_system).")  # fmt: skip
@reports_errors
def create(name: str, scopes: tuple[str, ...], username: str) -> None:
    """Create a token and print it once: only its hash is kept."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidField("name", "expected 1 to 100 characters")
    with opened_app() as app, app.transaction() as session:
        user = acting_user(app, session, username)
        if Role.DISPATCH_SYSTEM not in user.roles:
            raise NotPermitted(
                f"{username} does not hold the role dispatch_system; API tokens act as a "
                f"dispatch system's account (add one with 'assistgate user add NAME --role "
                f"dispatch_system --name ...')"
            )
        if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
            raise InvalidField("name", f"a token named {name} already exists")
        secret = create_token(session, name=name, scopes=list(scopes), user=user)
        app.deployment.ledger.append(session, actor=operator(), event="admin:token_created",
                                     subject=f"token:{name}",
                                     data={"name": name, "scopes": sorted(set(scopes)),
                                           "account": username})  # fmt: skip
    click.echo(f"token {name} for {username} ({', '.join(sorted(set(scopes)))}); it is shown "
               f"this once, store it in the dispatch system now:", err=True)  # fmt: skip
    click.echo(secret)


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def list_tokens(as_json: bool) -> None:
    """List tokens: name, account, scopes, when made, last used, revoked."""
    with opened_app() as app, app.sessions() as session:
        rows = session.execute(
            select(ApiToken, User.username)
            .join(User, User.id == ApiToken.user_id)
            .order_by(ApiToken.name)
        ).all()
        zone = app.settings.zone
    if as_json:
        echo_json([{"name": t.name, "account": who, "scopes": list(t.scopes),
                    "created_at": json_value(t.created_at),
                    "last_used_at": json_value(t.last_used_at),
                    "revoked_at": json_value(t.revoked_at)} for t, who in rows])  # fmt: skip
        return
    click.echo(table(
        [[t.name, who, " ".join(t.scopes), local_time(t.created_at, zone),
          local_time(t.last_used_at, zone), local_time(t.revoked_at, zone)] for t, who in rows],
        ["NAME", "ACCOUNT", "SCOPES", "CREATED", "LAST USED", "REVOKED"],
    ))  # fmt: skip


@token.command()
@click.argument("name")
@reports_errors
def revoke(name: str) -> None:
    """Revoke the token NAME: the next call with it is refused (401)."""
    with opened_app() as app, app.transaction() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == name)).one_or_none()
        if row is None:
            raise InvalidField("name", f"no token named {name}")
        if row.revoked_at is not None:
            fail(f"token {name} is already revoked", EXIT_REFUSED)
        row.revoked_at = utcnow()
        app.deployment.ledger.append(session, actor=operator(), event="admin:token_revoked",
                                     subject=f"token:{name}", data={"name": name})  # fmt: skip
    click.echo(f"revoked token {name}")
