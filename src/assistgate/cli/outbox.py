"""`assistgate outbox ...`: deliver the notifications owed to dispatch systems, and list them."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click
from sqlalchemy import select

from assistgate.cli.common import echo_json, local_time, opened_app, reports_errors, table
from assistgate.integrations.models import OutboxMessage, WebhookEndpoint
from assistgate.integrations.webhooks import HttpxSender, deliver_due, run_worker
from assistgate.requests.snapshot import json_value


@click.group()
def outbox() -> None:
    """Deliver and inspect the outbox of signed notifications to dispatch systems."""


@outbox.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then stop.")
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.05, 3600),
              help="Seconds between passes when running until stopped.")  # fmt: skip
@reports_errors
def deliver(once: bool, interval: float) -> None:
    """Send due notifications (retrying failures with backoff) until stopped, or once."""
    sender = HttpxSender()
    with opened_app(service=not once) as app:
        try:
            if once:
                report = deliver_due(app, sender=sender)
                click.echo(f"delivered {len(report.delivered)}, failed {len(report.failed)}")
                for message_id, error in report.failed:
                    click.echo(f"  message {message_id}: {error}", err=True)
                return
            stop = threading.Event()

            def stop_on(signum: int, frame: FrameType | None) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, stop_on)
            signal.signal(signal.SIGINT, stop_on)
            click.echo("delivering the outbox; stop with Ctrl-C", err=True)
            run_worker(app, sender=sender, stop=stop, interval=interval)
        finally:
            sender.close()


@outbox.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include delivered notifications.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def list_messages(show_all: bool, as_json: bool) -> None:
    """List notifications not yet delivered (oldest first), with attempts and last error."""
    with opened_app() as app, app.sessions() as session:
        query = (
            select(OutboxMessage, WebhookEndpoint.name)
            .join(WebhookEndpoint, WebhookEndpoint.id == OutboxMessage.endpoint_id)
            .order_by(OutboxMessage.id)
        )
        if not show_all:
            query = query.where(OutboxMessage.delivered_at.is_(None))
        rows = session.execute(query).all()
        zone = app.settings.zone
    if as_json:
        echo_json([{"id": m.id, "endpoint": name, "event": m.event, "ref": m.request_ref,
                    "created_at": json_value(m.created_at), "attempts": m.attempts,
                    "next_attempt_at": json_value(m.next_attempt_at),
                    "delivered_at": json_value(m.delivered_at),
                    "last_error": m.last_error} for m, name in rows])  # fmt: skip
        return
    click.echo(table(
        [[str(m.id), name, m.event, m.request_ref, str(m.attempts),
          local_time(m.delivered_at, zone) if m.delivered_at else
          f"next {local_time(m.next_attempt_at, zone)}", m.last_error] for m, name in rows],
        ["ID", "ENDPOINT", "EVENT", "REF", "ATTEMPTS", "DELIVERED", "LAST ERROR"],
    ))  # fmt: skip
