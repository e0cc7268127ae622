"""`assistgate serve`: the web service (the dispatch-system API and the screens)."""

from __future__ import annotations

import click
import uvicorn

from assistgate.cli.common import open_app_or_exit
from assistgate.integrations.webhooks import start_worker_thread
from assistgate.operations.logs import configure_logging
from assistgate.requests.escalation import EscalationLoop
from assistgate.web.app import create_web_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")  # fmt: skip
def serve(host: str, port: int) -> None:
    """Start the web service and print its address; log JSON lines on standard error.

    In production it first refuses a default or missing secret (docs/OPERATIONS.md).
    """
    app = open_app_or_exit(service=True)
    configure_logging(app.settings.log_level)
    web = create_web_app(app)
    click.echo(f"assistgate is serving at http://{host}:{port}/  (database: "
               f"{app.settings.data_dir}; stop with Ctrl-C)", err=True)  # fmt: skip
    # Notifications to dispatch systems go out from this process too (claims keep workers in
    # several processes from sending one twice).
    worker, stop_worker = start_worker_thread(app)
    web.state.outbox_worker = worker  # /readyz reports it if it stops
    # A request nobody claims in time is alerted further along the duty list.
    escalations = EscalationLoop.from_settings(app.sessions, app.deployment, app.settings).start()
    try:
        # Open queues hold their event streams: stop waiting for them after a few seconds.
        uvicorn.run(web, host=host, port=port, log_config=None, access_log=False,
                    timeout_graceful_shutdown=5)  # fmt: skip
    finally:
        escalations.stop()
        stop_worker.set()
        worker.join(timeout=15)
        app.close()
