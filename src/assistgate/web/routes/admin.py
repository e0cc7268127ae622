"""The administrator's screens: accounts and roles, API tokens, dispatch-system endpoints.

Administrators manage who may act; they do not read requests (least privilege). Every change
goes through `assistgate.auth.admin`, which writes its ledger entry in the same transaction,
and needs a password given within the last fifteen minutes (CJIS IA-11: re-authenticate for
privileged functions). An administrator cannot change their own roles, account or second
factor here: another administrator must (separation of duties).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistgate.app import App
from assistgate.auth import admin
from assistgate.auth.enums import NEEDS_SECOND_FACTOR, Role
from assistgate.auth.models import ApiToken, User
from assistgate.auth.sessions import SessionState
from assistgate.cli.common import local_time
from assistgate.db.base import utcnow
from assistgate.integrations.models import OutboxMessage, WebhookEndpoint
from assistgate.requests.errors import InvalidField, NotPermitted
from assistgate.web.app import templates
from assistgate.web.deps import Admin, AppDep, CsrfChecked, DbSession
from assistgate.web.routes.reauth import reauth_url

router = APIRouter(include_in_schema=False)

# Confirmations shown after a change, chosen by a fixed key (never text from the address).
DONE = {
    "added": "The account was added. Give the person their initial password in person; they "
    "must change it at first sign-in.",
    "roles": "Roles changed. The person's sessions were ended: they sign in again.",
    "unchanged": "Nothing changed.",
    "deactivated": "The account is deactivated and its sessions ended.",
    "reactivated": "The account is active again.",
    "unlocked": "The account is unlocked.",
    "second_factor": "The second factor is reset: the person enrols a new one at next sign-in.",
    "password": "The password is set; the person must change it at next sign-in.",
    "revoked": "The token is revoked.",
}
ROLE_LABELS = {
    Role.CALL_TAKER: "Call taker (911 floor: intake)",
    Role.COMMANDER: "Commanding officer (queue, decisions)",
    Role.AUDITOR: "Auditor (reads everything, changes nothing)",
    Role.ADMIN: "Administrator (accounts, tokens)",
    Role.DISPATCH_SYSTEM: "Dispatch system (API tokens only)",
}


def _user_row(user: User, app: App) -> dict[str, Any]:
    zone = app.settings.zone
    status_text = "active" if user.active else "deactivated"
    if user.locked_at is not None:
        status_text += ", locked"
    if Role.DISPATCH_SYSTEM in user.roles:
        factor, password = "not used", "none (API tokens)"
    else:
        needs = user.has_any(NEEDS_SECOND_FACTOR)
        factor = ("enrolled" if user.totp_enrolled_at else "not enrolled yet") if needs else (
            "enrolled" if user.totp_enrolled_at else "not required")  # fmt: skip
        password = (
            "not set" if not user.password_hash
            else "initial (must change)" if user.password_must_change
            else "set"
        )  # fmt: skip
    return {
        "user": user,
        "roles": sorted(user.roles),
        "status": status_text,
        "second_factor": factor,
        "password": password,
        "last_login": local_time(user.last_login_at, zone),
        "added": local_time(user.created_at, zone),
        "locked_at": local_time(user.locked_at, zone) if user.locked_at else "",
    }


def _load(db: Session, username: str) -> User:
    try:
        return admin.find_user(db, username)
    except InvalidField as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc


def _stale(state: SessionState, back_to: str) -> Response | None:
    """Send the administrator to give their password again if their sign-in is stale."""
    if state.fresh_for_decision(utcnow()):
        return None
    return RedirectResponse(reauth_url(back_to), status_code=303)


@router.get("/admin", response_class=HTMLResponse)
def overview(request: Request, user: Admin, app: AppDep, db: DbSession) -> Response:
    users = list(db.scalars(select(User).order_by(User.username)))
    context = {"rows": [_user_row(u, app) for u in users], "me": user}
    return templates.TemplateResponse(request, "admin_users.html", context)


@router.get("/admin/users/new", response_class=HTMLResponse)
def new_user_form(request: Request, user: Admin) -> Response:
    return _new_form(request, {}, "")


def _new_form(request: Request, values: dict[str, Any], error: str, code: int = 200) -> Response:
    context = {"values": values, "error": error, "role_labels": ROLE_LABELS}
    return templates.TemplateResponse(request, "admin_user_new.html", context, status_code=code)


@router.post("/admin/users")
def add_user(
    request: Request,
    actor: Admin,
    state: CsrfChecked,
    app: AppDep,
    db: DbSession,
    username: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    roles: Annotated[list[str] | None, Form()] = None,
    extension: Annotated[str, Form()] = "",
    initial_password: Annotated[str, Form()] = "",
) -> Response:
    if (stale := _stale(state, "/admin/users/new")) is not None:
        return stale
    values = {"username": username, "display_name": display_name, "roles": roles or [],
              "extension": extension}  # fmt: skip
    try:
        with db.begin_nested():
            added = admin.add_person(
                db, app.deployment.ledger, actor=actor.username,
                username=username.strip().lower(), display_name=display_name,
                roles=roles or [], extension=extension.strip() or None,
                initial_password=initial_password or None,
            )  # fmt: skip
    except InvalidField as exc:
        return _new_form(request, values, str(exc), status.HTTP_400_BAD_REQUEST)
    return RedirectResponse(f"/admin/users/{added.username}?done=added", status_code=303)


ERRORS = {
    "self": "You cannot change your own account here; another administrator must.",
    "last_admin": "That would leave no active administrator; add another one first.",
}


def _user_context(actor: User, app: App, db: Session, user: User) -> dict[str, Any]:
    tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                        .order_by(ApiToken.name))  # fmt: skip
    system = Role.DISPATCH_SYSTEM in user.roles
    choices = [Role.DISPATCH_SYSTEM] if system else list(admin.PERSON_ROLES)
    return {
        "row": _user_row(user, app),
        "is_self": actor.id == user.id,
        "system": system,
        "role_choices": [(r.value, ROLE_LABELS[r]) for r in choices],
        "tokens": [_token_row(t, user, app) for t in tokens],
        "done": "",
        "error_text": "",
    }


@router.get("/admin/users/{username}", response_class=HTMLResponse)
def user_page(
    request: Request, username: str, actor: Admin, app: AppDep, db: DbSession,
    done: str = "", error: str = "",
) -> Response:  # fmt: skip
    context = _user_context(actor, app, db, _load(db, username))
    context.update(done=DONE.get(done, ""), error_text=ERRORS.get(error, ""))
    return templates.TemplateResponse(request, "admin_user.html", context)


def _change(
    request: Request,
    actor: User,
    state: SessionState,
    app: App,
    db: Session,
    username: str,
    change: Callable[[User], str],
) -> Response:
    """Run one change to account `username` and come back to its page saying what happened."""
    page = f"/admin/users/{username}"
    if (stale := _stale(state, page)) is not None:
        return stale
    user = _load(db, username)
    if actor.id == user.id:
        return RedirectResponse(f"{page}?error=self", status_code=303)
    try:
        with db.begin_nested():
            done = change(user)
    except NotPermitted:
        return RedirectResponse(f"{page}?error=last_admin", status_code=303)
    except InvalidField as exc:
        context = _user_context(actor, app, db, user)
        context["error_text"] = str(exc)
        return templates.TemplateResponse(request, "admin_user.html", context,
                                          status_code=status.HTTP_400_BAD_REQUEST)  # fmt: skip
    return RedirectResponse(f"{page}?done={done}", status_code=303)


@router.post("/admin/users/{username}/roles")
def change_roles(
    request: Request, username: str, actor: Admin, state: CsrfChecked, app: AppDep,
    db: DbSession, roles: Annotated[list[str] | None, Form()] = None,
) -> Response:  # fmt: skip
    ledger = app.deployment.ledger

    def run(user: User) -> str:
        changed = admin.change_roles(db, ledger, actor=actor.username, user=user,
                                     roles=roles or [])  # fmt: skip
        return "roles" if changed else "unchanged"

    return _change(request, actor, state, app, db, username, run)


@router.post("/admin/users/{username}/deactivate")
def deactivate(
    request: Request, username: str, actor: Admin, state: CsrfChecked, app: AppDep, db: DbSession
) -> Response:
    def run(user: User) -> str:
        changed = admin.deactivate(db, app.deployment.ledger, actor=actor.username, user=user)
        return "deactivated" if changed else "unchanged"

    return _change(request, actor, state, app, db, username, run)


@router.post("/admin/users/{username}/reactivate")
def reactivate(
    request: Request, username: str, actor: Admin, state: CsrfChecked, app: AppDep, db: DbSession
) -> Response:
    def run(user: User) -> str:
        changed = admin.reactivate(db, app.deployment.ledger, actor=actor.username, user=user)
        return "reactivated" if changed else "unchanged"

    return _change(request, actor, state, app, db, username, run)


@router.post("/admin/users/{username}/unlock")
def unlock(
    request: Request, username: str, actor: Admin, state: CsrfChecked, app: AppDep, db: DbSession
) -> Response:
    def run(user: User) -> str:
        changed = admin.unlock(db, app.deployment.ledger, actor=actor.username, user=user)
        return "unlocked" if changed else "unchanged"

    return _change(request, actor, state, app, db, username, run)


@router.post("/admin/users/{username}/second-factor/reset")
def reset_second_factor(
    request: Request, username: str, actor: Admin, state: CsrfChecked, app: AppDep, db: DbSession
) -> Response:
    def run(user: User) -> str:
        admin.reset_second_factor(db, app.deployment.ledger, actor=actor.username, user=user)
        return "second_factor"

    return _change(request, actor, state, app, db, username, run)


@router.post("/admin/users/{username}/password")
def set_password(
    request: Request, username: str, actor: Admin, state: CsrfChecked, app: AppDep,
    db: DbSession, password: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    def run(user: User) -> str:
        admin.set_password(db, app.deployment.ledger, actor=actor.username, user=user,
                           password=password)  # fmt: skip
        return "password"

    return _change(request, actor, state, app, db, username, run)


def _token_row(token: ApiToken, owner: User | None, app: App) -> dict[str, Any]:
    zone = app.settings.zone
    return {
        "token": token,
        "account": owner.username if owner else "?",
        "scopes": ", ".join(token.scopes),
        "created": local_time(token.created_at, zone),
        "last_used": local_time(token.last_used_at, zone),
        "revoked": local_time(token.revoked_at, zone) if token.revoked_at else "",
    }


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens(request: Request, actor: Admin, app: AppDep, db: DbSession, done: str = "") -> Response:
    owners = {u.id: u for u in db.scalars(select(User))}
    rows = [
        _token_row(t, owners.get(t.user_id), app)
        for t in db.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None),
                                                      ApiToken.name))
    ]  # fmt: skip
    context = {"rows": rows, "done": DONE.get(done, "")}
    return templates.TemplateResponse(request, "admin_tokens.html", context)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int, actor: Admin, state: CsrfChecked, app: AppDep, db: DbSession
) -> Response:
    if (stale := _stale(state, "/admin/tokens")) is not None:
        return stale
    token = db.get(ApiToken, token_id)
    if token is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no API token number {token_id}")
    changed = admin.revoke_token(db, app.deployment.ledger, actor=actor.username, token=token)
    return RedirectResponse(f"/admin/tokens?done={'revoked' if changed else 'unchanged'}",
                            status_code=303)  # fmt: skip


def shown_url(url: str) -> str:
    """Return an endpoint's URL without any user name or password in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@router.get("/admin/endpoints", response_class=HTMLResponse)
def endpoints(request: Request, actor: Admin, app: AppDep, db: DbSession) -> Response:
    counts = db.execute(
        select(OutboxMessage.endpoint_id, func.count())
        .where(OutboxMessage.delivered_at.is_(None))
        .group_by(OutboxMessage.endpoint_id)
    )
    # A Result has .keys(), so dict() would take it for a mapping: give it the rows.
    pending: dict[int, int] = dict(counts.all())
    rows = [
        {
            "endpoint": e,
            "url": shown_url(e.url),
            "created": local_time(e.created_at, app.settings.zone),
            "pending": pending.get(e.id, 0),
        }
        for e in db.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name))
    ]
    return templates.TemplateResponse(request, "admin_endpoints.html", {"rows": rows})
