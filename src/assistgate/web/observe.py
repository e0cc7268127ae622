"""The outermost middleware: a request id, one log line and the latency of every request.

The request id is the caller's `X-Request-ID` when it is a plain token (nginx sends its own),
otherwise a new random one; it goes back in the response's `X-Request-ID` header and on every
log line written while the request is handled. The log line and the metric name the route's
template (`/requests/{ref}`), never the path's values or the query string, which may carry
personal data. It sits outside `Admission`, so that time spent waiting for a turn counts.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from assistgate.operations.logs import current_request_id
from assistgate.operations.metrics import HttpMetrics
from assistgate.web.admission import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("assistgate.http")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def route_template(scope: Scope) -> str:
    """Return the template of the route that handled `scope`, or "unmatched"."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class Observe:
    """ASGI middleware: request id, one JSON log line, and the HTTP latency metric."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status, first_byte = 500, None

        async def send_with_id(message: Message) -> None:
            nonlocal status, first_byte
            if message["type"] == "http.response.start":
                status, first_byte = message["status"], time.perf_counter()
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"x-request-id"]  # fmt: skip
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            failed = True
            raise
        finally:
            ended = time.perf_counter()
            route, method = route_template(scope), str(scope.get("method", ""))
            self.metrics.observe(method, route, status, (first_byte or ended) - started)
            level = logging.ERROR if status >= 500 or failed else logging.INFO
            log.log(level, "request", extra={
                "request_id": request_id, "method": method, "route": route, "status": status,
                "duration_ms": round((ended - started) * 1000, 1)})  # fmt: skip
            current_request_id.reset(token)
