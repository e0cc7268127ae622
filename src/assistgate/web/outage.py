"""The database gone, or the disk full: a plain answer (503, 507) instead of a 500.

Every request opens its own transaction, so a request that meets a lost connection has written
nothing: it is rolled back with its session. The next request gets a fresh connection (the
pool pings each one before use), so the service recovers by itself once the database is back.
"""

from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from assistgate.db.session import DatabaseUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = ("the database cannot be reached at the moment; nothing was written, send it again "
           "in a few seconds")  # fmt: skip


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    reason = getattr(exc, "orig", None) or exc
    # One line, no traceback, no parameters: the SQL's values may hold personal data.
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path,
                type(reason).__name__)  # fmt: skip
    return JSONResponse({"detail": MESSAGE, "error": "database_unavailable"}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})  # fmt: skip


FULL = (errno.ENOSPC, errno.EDQUOT)
FULL_MESSAGE = ("the recordings store is full: nothing was stored or recorded; tell the "
                "administrator, then send it again")  # fmt: skip


def add_outage_handlers(web: FastAPI) -> None:
    """Answer a lost database with 503 and Retry-After, a full disk with 507."""

    @web.exception_handler(OSError)
    async def disk(request: Request, exc: OSError) -> JSONResponse:
        if exc.errno not in FULL:
            raise exc
        log.error("disk full during %s %s: %s", request.method, request.url.path,
                  exc.strerror)  # fmt: skip
        return JSONResponse({"detail": FULL_MESSAGE, "error": "storage_full"}, status_code=507)

    @web.exception_handler(OperationalError)
    async def operational(request: Request, exc: OperationalError) -> JSONResponse:
        return _unavailable(request, exc)

    @web.exception_handler(DatabaseUnavailable)
    async def unavailable(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return _unavailable(request, exc)

    @web.exception_handler(DBAPIError)
    async def disconnected(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:  # the server closed the connection under the request
            return _unavailable(request, exc)
        raise exc
