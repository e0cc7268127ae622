"""The structured log: one JSON object per line on standard error, never personal data.

Fields of every line: `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message`;
a request's line adds `request_id`, `method`, `route` (the route's template, such as
`/requests/{ref}`, never the path with its values or the query string), `status` and
`duration_ms`. An exception adds only its type and where it was raised (`error`, `at`): an
exception's message may quote the input that caused it, and input is personal data.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
import traceback
from typing import Any

# Extra attributes a record may carry that become fields of their own.
FIELDS = ("request_id", "method", "route", "status", "duration_ms")
# The id of the request being handled (set by the web service's outermost middleware).
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "assistgate_request_id", default=None
)


class RequestIdFilter(logging.Filter):
    """Add the id of the request being handled to every record written on its behalf."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON with the fields above."""

    def format(self, record: logging.LogRecord) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if (value := getattr(record, name, None)) is not None:
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            kind, _value, tb = record.exc_info
            line["error"] = kind.__name__
            frames = traceback.extract_tb(tb)
            if frames:
                line["at"] = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}"
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def configure_logging(level: str = "info") -> None:
    """Send every logger's records, uvicorn's included, to standard error as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # uvicorn's access log repeats the path with its query string: ours has the template.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every URL it calls (the webhook sender's); the outbox logs failures itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
