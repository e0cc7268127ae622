"""Signing in and out: the monitored-system banner, password, second factor, lockout.

Every sign-in, failed attempt, lockout and sign-out is a ledger entry (CJIS AU-2).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistgate.app import App
from assistgate.auth.enums import NEEDS_SECOND_FACTOR, Role
from assistgate.auth.models import LoginFailure, User
from assistgate.auth.security import (
    FAILED_LOGIN_WINDOW,
    FAILED_LOGINS_BEFORE_LOCK,
    check_password,
    check_totp,
    new_secret,
    new_totp_secret,
    totp_uri,
)
from assistgate.auth.sessions import end_session, lookup_session, start_session
from assistgate.db.base import utcnow
from assistgate.web.app import templates
from assistgate.web.deps import SESSION_COOKIE, AppDep, DbSession

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "ag_login_csrf"


def home_for(user: User) -> str:
    """Return the first screen for a user's roles."""
    roles = user.roles
    if Role.COMMANDER in roles:
        return "/queue"
    if Role.CALL_TAKER in roles:
        return "/intake"
    if Role.AUDITOR in roles:
        return "/audit"
    if Role.ADMIN in roles:
        return "/admin"
    return "/login"


def audit_event(app: App, db: Session, *, actor: str, event: str, data: dict[str, object]) -> None:
    """Append a sign-in event to the ledger, in the caller's transaction."""
    app.deployment.ledger.append(db, actor=actor, event=event, subject=f"user:{actor}",
                                 data=dict(data))  # fmt: skip


def _cookie_secure(app: App) -> bool:
    # Browsers only send Secure cookies over HTTPS (or to localhost); production is behind TLS.
    return app.settings.environment == "production"


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else ""


@router.get("/")
def index(request: Request, db: DbSession) -> Response:
    state = lookup_session(db, request.cookies.get(SESSION_COOKIE), touch=False)
    if state is None:
        return RedirectResponse("/login", status_code=303)
    if state.needs_second_factor:
        return RedirectResponse("/login/second-factor", status_code=303)
    return RedirectResponse(home_for(state.user), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, app: AppDep, next: str = "", error: str = "") -> Response:
    token = new_secret()
    response = templates.TemplateResponse(
        request, "login.html", {"csrf": token, "next": _safe_next(next), "error": error}
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=_cookie_secure(app), max_age=900)  # fmt: skip
    return response


def _fail(request: Request, message: str, next_url: str) -> Response:
    return templates.TemplateResponse(
        request, "login.html",
        {"csrf": request.cookies.get(LOGIN_CSRF_COOKIE, ""), "next": next_url, "error": message},
        status_code=401,
    )  # fmt: skip


@router.post("/login")
def login(
    request: Request,
    app: AppDep,
    db: DbSession,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    next_url = _safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _fail(request, "The form expired; please sign in again.", next_url)
    now = utcnow()
    name = username.strip().lower()
    user = db.scalars(select(User).where(User.username == name)).one_or_none()
    recent = (
        db.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.username == name, LoginFailure.at > now - FAILED_LOGIN_WINDOW)
        )
        or 0
    )
    if user is not None and user.locked_at is not None:
        audit_event(app, db, actor=name, event="auth:login_refused", data={"reason": "locked"})
        return _fail(request, "This account is locked. An administrator must unlock it.",
                     next_url)  # fmt: skip
    ok = (
        user is not None
        and user.active
        and Role.DISPATCH_SYSTEM not in user.roles
        and check_password(user.password_hash, password)
    )
    if not ok:
        db.add(LoginFailure(username=name[:64], at=now, address=_client(request)))
        audit_event(app, db, actor=name[:64] or "unknown", event="auth:login_failed",
                    data={"address": _client(request)})  # fmt: skip
        if user is not None and recent + 1 >= FAILED_LOGINS_BEFORE_LOCK:
            user.locked_at = now
            audit_event(app, db, actor=name, event="auth:account_locked",
                        data={"failures": recent + 1})  # fmt: skip
            return _fail(request, "Too many failed sign-ins: this account is now locked. An "
                         "administrator must unlock it.", next_url)  # fmt: skip
        return _fail(request, "Wrong username or password.", next_url)
    assert user is not None
    needs_factor = user.has_any(NEEDS_SECOND_FACTOR)
    token, _ = start_session(db, user, second_factor_ok=not needs_factor)
    user.last_login_at = now
    audit_event(
        app,
        db,
        actor=user.username,
        event="auth:login",
        data={"address": _client(request), "second_factor_pending": needs_factor},
    )
    target = "/login/second-factor" if needs_factor else (next_url or home_for(user))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=_cookie_secure(app))  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.get("/login/second-factor", response_class=HTMLResponse)
def second_factor_form(request: Request, db: DbSession, error: str = "") -> Response:
    state = lookup_session(db, request.cookies.get(SESSION_COOKIE))
    if state is None:
        return RedirectResponse("/login", status_code=303)
    user = state.user
    enrolling = user.totp_enrolled_at is None
    if enrolling and not user.totp_secret:
        user.totp_secret = new_totp_secret()
    context = {
        "csrf": state.session.csrf_token,
        "enrolling": enrolling,
        "secret": user.totp_secret if enrolling else "",
        "uri": totp_uri(user.totp_secret or "", user.username) if enrolling else "",
        "error": error,
    }
    return templates.TemplateResponse(request, "second_factor.html", context)


@router.post("/login/second-factor")
def second_factor(
    request: Request,
    app: AppDep,
    db: DbSession,
    code: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
) -> Response:
    state = lookup_session(db, request.cookies.get(SESSION_COOKIE))
    if state is None:
        return RedirectResponse("/login", status_code=303)
    if not hmac.compare_digest(state.session.csrf_token, csrf_token):
        return RedirectResponse("/login/second-factor?error=expired", status_code=303)
    user = state.user
    if not check_totp(user.totp_secret, code):
        audit_event(app, db, actor=user.username, event="auth:second_factor_failed", data={})
        return RedirectResponse("/login/second-factor?error=code", status_code=303)
    if user.totp_enrolled_at is None:
        user.totp_enrolled_at = utcnow()
        audit_event(app, db, actor=user.username, event="auth:second_factor_enrolled", data={})
    state.session.second_factor_ok = True
    state.session.authenticated_at = utcnow()
    return RedirectResponse(home_for(user), status_code=303)


@router.post("/logout")
def logout(request: Request, app: AppDep, db: DbSession,
           csrf_token: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    token = request.cookies.get(SESSION_COOKIE)
    state = lookup_session(db, token, touch=False)
    if state is not None and hmac.compare_digest(state.session.csrf_token, csrf_token):
        end_session(db, token)
        audit_event(app, db, actor=state.user.username, event="auth:logout", data={})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
