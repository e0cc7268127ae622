"""Dependencies shared by every route: the app, a database transaction, who is calling.

Routes declare what they need with these `Annotated` aliases, so that the permission of a
route is visible in its signature:

    def queue(user: Commander, db: DbSession) -> ...
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from assistgate.app import App
from assistgate.auth.enums import Role
from assistgate.auth.models import ApiToken, User
from assistgate.auth.sessions import SessionState, lookup_session, lookup_token

SESSION_COOKIE = "ag_session"


class LoginRequired(Exception):
    """No live session: the page handler redirects to the login screen."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class SecondFactorRequired(Exception):
    """The session has a password but not yet the second factor."""


class PasswordChangeRequired(Exception):
    """The password was set by an administrator and must be changed before anything else."""


# The pages a person whose password must change may still reach.
PASSWORD_CHANGE_PAGES = ("/account/password", "/logout")


def get_app(request: Request) -> App:
    app: App = request.app.state.assistgate
    return app


AppDep = Annotated[App, Depends(get_app)]


def db_session(app: AppDep) -> Iterator[Session]:
    """Yield a session in one transaction, committed when the route returns without error."""
    with app.sessions() as session, session.begin():
        yield session


# "function" scope: the transaction commits before the response leaves, so a redirect is never
# followed to a page that cannot yet see what the request wrote.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def current_session(request: Request, db: DbSession) -> SessionState:
    """Return the caller's live browser session, or send them to the login screen."""
    state = lookup_session(db, request.cookies.get(SESSION_COOKIE))
    if state is None:
        raise LoginRequired(str(request.url.path))
    if state.needs_second_factor:
        raise SecondFactorRequired()
    if state.needs_password_change and request.url.path not in PASSWORD_CHANGE_PAGES:
        raise PasswordChangeRequired()
    request.state.csrf_token = state.session.csrf_token
    request.state.user = state.user
    return state


LiveSession = Annotated[SessionState, Depends(current_session)]


async def csrf_checked(request: Request, state: LiveSession) -> SessionState:
    """Admit a form post only with the session's CSRF token (403 otherwise)."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, state.session.csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form's security token is missing "
                            "or stale; reload the page and try again")  # fmt: skip
    return state


CsrfChecked = Annotated[SessionState, Depends(csrf_checked)]


def current_user(state: LiveSession) -> User:
    return state.user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    """Return a dependency that admits only users holding one of `roles` (403 otherwise)."""
    wanted = frozenset(roles)

    def check(user: CurrentUser) -> User:
        if not user.has_any(wanted):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"this page is for: {', '.join(sorted(wanted))}")  # fmt: skip
        return user

    return check


CallTaker = Annotated[User, Depends(require_roles(Role.CALL_TAKER, Role.COMMANDER))]
Commander = Annotated[User, Depends(require_roles(Role.COMMANDER))]
Auditor = Annotated[User, Depends(require_roles(Role.AUDITOR, Role.COMMANDER))]
Admin = Annotated[User, Depends(require_roles(Role.ADMIN))]


def api_caller(scope: str) -> Callable[[Request, Session], tuple[ApiToken, User]]:
    """Return a dependency that admits a bearer token holding `scope` (401 / 403 otherwise)."""

    def check(request: Request, db: DbSession) -> tuple[ApiToken, User]:
        header = request.headers.get("authorization", "")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "an API token is required "
                                "(Authorization: Bearer ...)",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        found = lookup_token(db, token.strip())
        if found is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked API token",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        if scope not in found[0].scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this token lacks the scope {scope}")
        return found

    return check
