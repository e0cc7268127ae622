"""For the people who run the service: readiness (/readyz) and Prometheus metrics (/metrics).

/healthz (in web/app.py) says only that the process answers. /readyz checks what this process
needs to work and answers 503 naming the part that fails; it is open like /healthz, and says
nothing but the names of the checks and the kind of failure. /metrics needs an API token with
the scope `metrics:read` (a monitoring account's token that can do nothing else): the figures
are not personal, but the service's load and backlog are nobody else's business.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from assistgate.auth.models import ApiToken, User
from assistgate.operations.health import readiness
from assistgate.operations.metrics import CONTENT_TYPE, HttpMetrics, exposition
from assistgate.web.deps import AppDep, DbSession, api_caller

router = APIRouter(include_in_schema=False)
MetricsReader = Annotated[tuple[ApiToken, User], Depends(api_caller("metrics:read"))]


@router.get("/readyz")
def readyz(request: Request, app: AppDep) -> JSONResponse:
    """Answer 200 when every check passes, else 503 naming the failing ones."""
    checks = readiness(app, getattr(request.app.state, "outbox_worker", None))
    failing = [c.name for c in checks if not c.ok]
    body = {"status": "not ready" if failing else "ready", "failing": failing,
            "checks": {c.name: c.detail for c in checks}}  # fmt: skip
    response = JSONResponse(body, status_code=503 if failing else 200)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/metrics")
def metrics(request: Request, caller: MetricsReader, db: DbSession) -> Response:
    """Return the metrics in Prometheus's text format."""
    http: HttpMetrics = request.app.state.http_metrics
    return Response(exposition(http, db), media_type=CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})  # fmt: skip
