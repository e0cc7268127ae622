"""`assistgate serve`: the web service (the dispatch-system API and the screens)."""

from __future__ import annotations

import click
import uvicorn

from assistgate.cli.common import open_app_or_exit
from assistgate.web.app import create_web_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")  # fmt: skip
def serve(host: str, port: int) -> None:
    """Start the web service and print its address."""
    app = open_app_or_exit()
    web = create_web_app(app)
    click.echo(f"assistgate is serving at http://{host}:{port}/  (database: "
               f"{app.settings.data_dir}; stop with Ctrl-C)", err=True)  # fmt: skip
    try:
        uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False)
    finally:
        app.close()
