"""The FastAPI application: security headers, static files, templates, and the routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from assistgate import __version__
from assistgate.app import App
from assistgate.operations.metrics import HttpMetrics
from assistgate.web.admission import Admission
from assistgate.web.deps import LoginRequired, PasswordChangeRequired, SecondFactorRequired
from assistgate.web.observe import Observe
from assistgate.web.outage import add_outage_handlers

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

# No inline script or style anywhere: every script and stylesheet is a file under /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; media-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")  # fmt: skip
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_web_app(app: App) -> FastAPI:
    """Build the web service around an opened `App`."""
    # The interactive explorers load script from elsewhere and run it inline, which the CSP
    # forbids; the description itself stays at /openapi.json.
    web = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="assistgate",
        version=__version__,
        description="Requests for police help from federal immigration agencies: intake from "
        "dispatch systems, the commanding officer's decision, and its outcome.",
    )
    web.state.assistgate = app
    web.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @web.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith(("/api/", "/requests", "/queue", "/audit", "/admin")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @web.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    @web.exception_handler(SecondFactorRequired)
    async def to_second_factor(request: Request, exc: SecondFactorRequired) -> Response:
        return RedirectResponse("/login/second-factor", status_code=303)

    @web.exception_handler(PasswordChangeRequired)
    async def to_password_change(request: Request, exc: PasswordChangeRequired) -> Response:
        return RedirectResponse("/account/password", status_code=303)

    add_outage_handlers(web)  # the database gone: 503, not 500

    @web.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    # A request waits its turn before anything else runs for it; outside that, each request is
    # given its id, logged and timed (waiting included).
    web.add_middleware(Admission)
    web.state.http_metrics = HttpMetrics()
    web.add_middleware(Observe, metrics=web.state.http_metrics)

    from assistgate.web.routers import all_routers

    for router in all_routers():
        web.include_router(router)
    return web
