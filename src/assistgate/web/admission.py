"""Admission: at most a fixed number of requests at work at once; the rest wait their turn.

Each request that touches the database needs a worker thread three times in turn (to open its
transaction, to run the route, to commit), and SQLite lets one transaction write at a time.
Were every arrival admitted at once under a burst, the worker threads could all be taken by
requests waiting to write while the one transaction that holds the write turn waits for a
thread to commit in: nothing moves until timeouts fire, and the dispatch system sees errors.
Admitting fewer requests than there are worker threads and database connections keeps a
thread and a connection free for whoever holds the turn, so a burst only waits, in arrival
order, and the service keeps its full pace.

A request that cannot start within `wait_seconds` is answered 503 with Retry-After, which a
dispatch system retries (its intake is idempotent on the CAD incident id). The live event
streams and static files are not counted: they hold no transaction while they wait.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Fewer than the worker threads (anyio's default: 40) and the database connections (the
# engine's pool, see db/session.py), with room left for the service's background threads.
DEFAULT_LIMIT = 16
DEFAULT_WAIT_SECONDS = 30.0
UNCOUNTED = ("/queue/events", "/static/", "/healthz")


class Admission:
    """ASGI middleware that admits at most `limit` requests at once, the others in order."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int = DEFAULT_LIMIT,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> None:
        self.app, self.limit, self.wait_seconds = app, limit, wait_seconds
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(UNCOUNTED):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # created on the server's event loop
            self._slots = asyncio.Semaphore(self.limit)
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self.wait_seconds)
        except TimeoutError:
            await _busy(send, self.wait_seconds)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()


async def _busy(send: Send, waited: float) -> None:
    body = json.dumps({"detail": f"the service is busy: no turn within {waited:.0f} s; "
                       "nothing was written, send it again"}).encode()  # fmt: skip
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
