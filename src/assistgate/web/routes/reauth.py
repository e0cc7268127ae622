"""Giving the password again: before a decision when the last sign-in is stale, and to
replace one's password (required after an administrator set it).

CJIS IA-11 / AC-12: re-authenticate for privileged functions. A wrong password here counts
toward the lockout like a failed sign-in, so a borrowed session cannot be used to guess it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from assistgate.auth import admin
from assistgate.auth.enums import AccountEvent
from assistgate.auth.models import LoginFailure
from assistgate.auth.security import (
    FAILED_LOGIN_WINDOW,
    FAILED_LOGINS_BEFORE_LOCK,
    check_password,
)
from assistgate.auth.sessions import SessionState, end_session, reauthenticated
from assistgate.db.base import utcnow
from assistgate.requests.errors import InvalidField
from assistgate.web.app import templates
from assistgate.web.deps import SESSION_COOKIE, AppDep, CsrfChecked, DbSession, LiveSession
from assistgate.web.routes.login import home_for

router = APIRouter(include_in_schema=False)

LOCKED = "Too many wrong passwords: this account is now locked. An administrator must unlock it."
ERRORS = {
    "password": "That is not your password. After five wrong passwords in fifteen minutes the "
    "account is locked.",
}


def safe_next(value: str) -> str:
    """Return `value` if it is a path on this site, else an empty string (no open redirect)."""
    ok = value.startswith("/") and not value.startswith("//") and "\\" not in value
    return value if ok else ""


def reauth_url(next_url: str) -> str:
    """Return the address of the re-authentication page that comes back to `next_url`."""
    return f"/reauth?next={quote(safe_next(next_url) or '/', safe='/')}"


def _page(request: Request, state: SessionState, context: dict[str, object],
          status_code: int = 200) -> Response:  # fmt: skip
    base = {"csrf": state.session.csrf_token, "user": state.user,
            "must_change": state.needs_password_change}  # fmt: skip
    return templates.TemplateResponse(request, "reauth.html", base | context,
                                      status_code=status_code)  # fmt: skip


@router.get("/reauth", response_class=HTMLResponse)
def reauth_form(request: Request, state: LiveSession, next: str = "", error: str = "") -> Response:
    return _page(request, state, {"mode": "reauth", "next": safe_next(next),
                                  "error": ERRORS.get(error, "")})  # fmt: skip


@router.post("/reauth")
def reauth(
    request: Request,
    app: AppDep,
    db: DbSession,
    state: CsrfChecked,
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    user, now = state.user, utcnow()
    target = safe_next(next)
    ledger = app.deployment.ledger
    if check_password(user.password_hash, password):
        reauthenticated(state.session, now=now)
        ledger.append(db, actor=user.username, event=AccountEvent.REAUTHENTICATED,
                      subject=admin.subject_of(user), data={})  # fmt: skip
        return RedirectResponse(target or home_for(user), status_code=303)
    address = request.client.host if request.client else ""
    db.add(LoginFailure(username=user.username, at=now, address=address,
                        detail={"during": "reauth"}))  # fmt: skip
    ledger.append(db, actor=user.username, event=AccountEvent.REAUTH_FAILED,
                  subject=admin.subject_of(user), data={"address": address})  # fmt: skip
    db.flush()
    recent = db.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username == user.username, LoginFailure.at > now - FAILED_LOGIN_WINDOW)
    )
    if (recent or 0) >= FAILED_LOGINS_BEFORE_LOCK:
        user.locked_at = now
        end_session(db, request.cookies.get(SESSION_COOKIE))
        ledger.append(db, actor=user.username, event=AccountEvent.ACCOUNT_LOCKED,
                      subject=admin.subject_of(user), data={"failures": recent})  # fmt: skip
        response = RedirectResponse(f"/login?error={quote(LOCKED)}", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response
    return _page(request, state, {"mode": "reauth", "next": target,
                                  "error": ERRORS["password"]}, status_code=401)  # fmt: skip


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, state: LiveSession, done: str = "") -> Response:
    return _page(request, state, {"mode": "password", "done": done == "1", "error": ""})


@router.post("/account/password")
def change_password(
    request: Request,
    app: AppDep,
    db: DbSession,
    state: CsrfChecked,
    current_password: Annotated[str, Form()],
    new_password: Annotated[str, Form()],
    confirm_password: Annotated[str, Form()],
) -> Response:
    user = state.user
    try:
        if new_password != confirm_password:
            raise InvalidField("confirm_password", "the two new passwords differ")
        admin.change_own_password(db, app.deployment.ledger, user=user, current=current_password,
                                  new=new_password, keep_session=state.session.id)  # fmt: skip
    except InvalidField as exc:
        return _page(request, state, {"mode": "password", "done": False, "error": str(exc)},
                     status_code=400)  # fmt: skip
    reauthenticated(state.session)
    return RedirectResponse("/account/password?done=1", status_code=303)
