"""`assistgate endpoint ...`: the dispatch-system URLs that receive signed notifications."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import click
from sqlalchemy import func, select

from assistgate.cli.common import (
    EXIT_REFUSED,
    echo_json,
    fail,
    local_time,
    opened_app,
    reports_errors,
    table,
)
from assistgate.cli.token import operator
from assistgate.db.base import utcnow
from assistgate.integrations.models import OutboxMessage, WebhookEndpoint
from assistgate.requests.errors import InvalidField
from assistgate.requests.snapshot import json_value


def check_url(url: str) -> str:
    """Return an http(s) URL with a host, or refuse it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidField("url", f"expected an http:// or https:// URL with a host; got {url!r}")
    if len(url.strip()) > 500:
        raise InvalidField("url", "at most 500 characters")
    return url.strip()


@click.group()
def endpoint() -> None:
    """Add, list and disable dispatch-system endpoints (signed webhooks)."""


@endpoint.command()
@click.argument("name")
@click.option("--url", required=True, help="Where notifications are POSTed (https in production).")
@reports_errors
def add(name: str, url: str) -> None:
    """Add the endpoint NAME and print its signing secret once."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidField("name", "expected 1 to 100 characters")
    target = check_url(url)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with opened_app() as app, app.transaction() as session:
        if session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.name == name)):
            raise InvalidField("name", f"an endpoint named {name} already exists")
        session.add(WebhookEndpoint(name=name, url=target, secret=secret, active=True,
                                    created_at=utcnow()))  # fmt: skip
        app.deployment.ledger.append(session, actor=operator(), event="admin:endpoint_added",
                                     subject=f"endpoint:{name}",
                                     data={"name": name, "url": target})  # fmt: skip
    click.echo(f"endpoint {name} receives notifications at {target}; its signing secret is "
               f"shown this once, give it to the dispatch system now:", err=True)  # fmt: skip
    click.echo(secret)


@endpoint.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def list_endpoints(as_json: bool) -> None:
    """List endpoints with their pending notifications and last error."""
    with opened_app() as app, app.sessions() as session:
        pending = dict(
            session.execute(
                select(OutboxMessage.endpoint_id, func.count())
                .where(OutboxMessage.delivered_at.is_(None))
                .group_by(OutboxMessage.endpoint_id)
            ).all()
        )
        rows = list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name)))
        zone = app.settings.zone
    if as_json:
        echo_json([{"name": e.name, "url": e.url, "active": e.active,
                    "created_at": json_value(e.created_at),
                    "pending": pending.get(e.id, 0)} for e in rows])  # fmt: skip
        return
    click.echo(table(
        [[e.name, e.url, "yes" if e.active else "no", str(pending.get(e.id, 0)),
          local_time(e.created_at, zone)] for e in rows],
        ["NAME", "URL", "ACTIVE", "PENDING", "ADDED"],
    ))  # fmt: skip


def _set_active(name: str, active: bool) -> None:
    with opened_app() as app, app.transaction() as session:
        row = session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.name == name)
        ).one_or_none()
        if row is None:
            raise InvalidField("name", f"no endpoint named {name}")
        if row.active == active:
            fail(f"endpoint {name} is already {'active' if active else 'disabled'}", EXIT_REFUSED)
        row.active = active
        event = "admin:endpoint_enabled" if active else "admin:endpoint_disabled"
        app.deployment.ledger.append(session, actor=operator(), event=event,
                                     subject=f"endpoint:{name}", data={"name": name})  # fmt: skip


@endpoint.command()
@click.argument("name")
@reports_errors
def disable(name: str) -> None:
    """Stop writing and sending notifications for NAME; pending ones wait for `enable`."""
    _set_active(name, False)
    click.echo(f"disabled endpoint {name}")


@endpoint.command()
@click.argument("name")
@reports_errors
def enable(name: str) -> None:
    """Send to NAME again (what was pending when it was disabled goes first; nothing was
    written for it while disabled)."""
    _set_active(name, True)
    click.echo(f"enabled endpoint {name}")
