"""Browser sessions and API tokens: creation, lookup with every limit checked, and ending."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistgate.auth.enums import NEEDS_SECOND_FACTOR
from assistgate.auth.models import ApiToken, User, WebSession
from assistgate.auth.security import (
    IDLE_LIMIT,
    REAUTH_FOR_DECISION,
    SESSION_LIMIT,
    digest,
    new_secret,
)
from assistgate.db.base import utcnow

# metrics:read is for a monitoring system's token: /metrics and nothing else.
SCOPES = ("requests:write", "requests:read", "recordings:write", "metrics:read")


@dataclass(frozen=True)
class SessionState:
    """A live session and what it still needs before its user may work."""

    session: WebSession
    user: User
    needs_second_factor: bool

    def fresh_for_decision(self, now: dt.datetime) -> bool:
        """Say whether the password was given recently enough to confirm a decision."""
        return now - self.session.authenticated_at <= REAUTH_FOR_DECISION

    @property
    def needs_password_change(self) -> bool:
        """Say whether the user still holds a password an administrator set for them."""
        return self.user.password_must_change


def start_session(db: Session, user: User, *, second_factor_ok: bool) -> tuple[str, WebSession]:
    """Open a session for `user`; return the cookie value (shown once) and the row."""
    token = new_secret()
    now = utcnow()
    row = WebSession(id=digest(token), user_id=user.id, created_at=now, last_seen_at=now,
                     authenticated_at=now, second_factor_ok=second_factor_ok,
                     csrf_token=new_secret())  # fmt: skip
    db.add(row)
    return token, row


def lookup_session(
    db: Session, token: str | None, *, now: dt.datetime | None = None, touch: bool = True
) -> SessionState | None:
    """Return the live session for a cookie value, or None if absent, ended or expired."""
    if not token:
        return None
    now = now or utcnow()
    row = db.get(WebSession, digest(token))
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > IDLE_LIMIT or now - row.created_at > SESSION_LIMIT:
        row.ended_at = now
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active or user.locked_at is not None:
        row.ended_at = now
        return None
    if touch:
        row.last_seen_at = now
    needs = user.has_any(NEEDS_SECOND_FACTOR) and not row.second_factor_ok
    return SessionState(row, user, needs)


def end_session(db: Session, token: str | None) -> None:
    """End a session (logout)."""
    if token and (row := db.get(WebSession, digest(token))) is not None:
        row.ended_at = row.ended_at or utcnow()


def reauthenticated(row: WebSession, *, now: dt.datetime | None = None) -> None:
    """Record that the session's user has just given their password again."""
    row.authenticated_at = now or utcnow()


def end_user_sessions(
    db: Session, user_id: int, *, keep: str | None = None, now: dt.datetime | None = None
) -> int:
    """End every live session of a user (but `keep`, a session id); return how many ended.

    Called whenever what a session was opened for no longer holds: new roles, a deactivated
    account, a new password or second factor (CJIS AC-12: re-authenticate on role change).
    """
    query = (
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if keep is not None:
        query = query.where(WebSession.id != keep)
    result = db.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


def create_token(db: Session, *, name: str, scopes: list[str], user: User) -> str:
    """Create an API token acting as `user`; return the token, which is never shown again."""
    token = "agt_" + new_secret()
    db.add(ApiToken(name=name, token_hash=digest(token), scopes=sorted(set(scopes)),
                    user_id=user.id, created_at=utcnow()))  # fmt: skip
    return token


def lookup_token(db: Session, token: str) -> tuple[ApiToken, User] | None:
    """Return the live token and its account for a bearer token, or None."""
    row = db.scalars(select(ApiToken).where(ApiToken.token_hash == digest(token))).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = utcnow()
    return row, user
