"""A dispatch system's webhook receiver, for tests: a real HTTP server on 127.0.0.1.

It checks each notification's signature as docs/API.md tells a CAD vendor to, records what it
received, and answers with whatever status the test sets (503 while "down").
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from assistgate.integrations.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers `status`, after `delay` seconds."""

    secret: str = ""
    status: int = 204
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/assistgate"

    def accepted(self) -> list[Received]:
        """Return what was received while answering 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.received if r.headers.get("x-test-status", "").startswith("2")]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                ok = verify_signature(
                    receiver.secret,
                    timestamp=headers.get(TIMESTAMP_HEADER.lower(), ""),
                    body=body,
                    signature_header=headers.get(SIGNATURE_HEADER.lower(), ""),
                    now=dt.datetime.now(dt.UTC),
                )
                status = receiver.status
                headers["x-test-status"] = str(status)
                with receiver.lock:
                    receiver.received.append(Received(self.path, headers, body, ok))
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def serving(receiver: Receiver) -> Iterator[Receiver]:
    """Serve `receiver` on a loopback port (the same one again if it was set) until the end."""
    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), receiver.handler())
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)  # fmt: skip
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
