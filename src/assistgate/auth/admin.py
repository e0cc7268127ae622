"""Administrative changes to accounts and API tokens; each one is a ledger entry.

Every function is keyword-only after the database session and the ledger writer, takes the
`actor` (an administrator's username, or `console:<login>` for the command line), checks what
it is asked, changes the rows and appends its audit event in the caller's transaction: both
are written, or neither (CJIS AC-2(4), AU-2, AC-6(9)).

A change to what an account may do (roles, deactivation, password, second factor) ends that
account's sessions, so that the next request signs in again under the new terms (AC-12).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistgate.auth.enums import AccountEvent, AdminEvent, Role
from assistgate.auth.models import ApiToken, LoginFailure, User, UserRole
from assistgate.auth.security import (
    WeakPassword,
    check_new_password,
    check_password,
    hash_password,
)
from assistgate.auth.service import add_user
from assistgate.auth.sessions import end_user_sessions
from assistgate.db.base import utcnow
from assistgate.ledger.store import LedgerWriter
from assistgate.requests.errors import InvalidField, NotPermitted

# People's roles; the dispatch system's account is a system, never a person.
PERSON_ROLES = (Role.CALL_TAKER, Role.COMMANDER, Role.AUDITOR, Role.ADMIN)


def subject_of(user: User) -> str:
    """Return the ledger subject naming an account."""
    return f"user:{user.username}"[:64]


def _record(
    db: Session, ledger: LedgerWriter, *, actor: str, event: str, subject: str,
    data: dict[str, Any],
) -> None:  # fmt: skip
    ledger.append(db, actor=actor[:64], event=event, subject=subject, data=data)


def _checked_roles(roles: Sequence[str]) -> set[str]:
    wanted = {r.strip() for r in roles if r.strip()}
    if not wanted:
        raise InvalidField("role", f"give at least one role: {', '.join(Role)}")
    for role in sorted(wanted):
        if role not in set(Role):
            raise InvalidField("role", f"expected one of {', '.join(Role)}; got {role!r}")
    if Role.DISPATCH_SYSTEM in wanted and len(wanted) > 1:
        raise InvalidField(
            "role",
            "dispatch_system is a system's account (API tokens only) and cannot be combined "
            "with a person's roles",
        )
    return wanted


def _strong(password: str, username: str) -> str:
    try:
        check_new_password(password, username=username)
    except WeakPassword as exc:
        raise InvalidField("password", str(exc).removeprefix("password: ")) from exc
    return hash_password(password)


def _active_admins(db: Session) -> set[int]:
    rows = db.execute(
        select(User.id).join(UserRole).where(User.active.is_(True), UserRole.role == Role.ADMIN)
    )
    return {row[0] for row in rows}


def _keep_an_administrator(db: Session, user: User, *, losing: bool) -> None:
    """Refuse a change that would leave no active administrator to undo it."""
    if losing and _active_admins(db) <= {user.id}:
        raise NotPermitted(
            f"{user.username} is the last active administrator; add another one first"
        )


def add_person(
    db: Session,
    ledger: LedgerWriter,
    *,
    actor: str,
    username: str,
    display_name: str,
    roles: Sequence[str],
    initial_password: str | None,
    extension: str | None = None,
) -> User:
    """Add an account: a person with an initial password to change at first sign-in, or a
    dispatch system's account (no password: it acts through API tokens)."""
    wanted = _checked_roles(roles)
    system = Role.DISPATCH_SYSTEM in wanted
    if system and initial_password:
        raise InvalidField("password", "a dispatch system's account has no password")
    if not system and not initial_password:
        raise InvalidField("password", "give an initial password (the person changes it)")
    password_hash = _strong(initial_password, username) if initial_password else None
    user = add_user(db, username=username, display_name=display_name, roles=sorted(wanted),
                    extension=extension or None, password_hash=password_hash)  # fmt: skip
    user.password_must_change = password_hash is not None
    _record(db, ledger, actor=actor, event=AdminEvent.USER_ADDED, subject=subject_of(user),
            data={"roles": sorted(wanted), "initial_password": bool(password_hash)})  # fmt: skip
    return user


def change_roles(
    db: Session, ledger: LedgerWriter, *, actor: str, user: User, roles: Sequence[str]
) -> bool:
    """Give `user` exactly `roles`; end their sessions. Return False if nothing changed."""
    wanted = _checked_roles(roles)
    before = set(user.roles)
    if wanted == before:
        return False
    if (Role.DISPATCH_SYSTEM in before) != (Role.DISPATCH_SYSTEM in wanted):
        raise InvalidField(
            "role", "a person's account cannot become a system's account, nor the reverse"
        )
    _keep_an_administrator(db, user, losing=Role.ADMIN in before - wanted)
    user.set_roles(wanted)
    ended = end_user_sessions(db, user.id)
    _record(db, ledger, actor=actor, event=AdminEvent.ROLES_CHANGED, subject=subject_of(user),
            data={"before": sorted(before), "after": sorted(wanted),
                  "sessions_ended": ended})  # fmt: skip
    return True


def deactivate(db: Session, ledger: LedgerWriter, *, actor: str, user: User) -> bool:
    """Deactivate an account (it can no longer sign in or act); end its sessions."""
    if not user.active:
        return False
    _keep_an_administrator(db, user, losing=Role.ADMIN in user.roles)
    user.active = False
    ended = end_user_sessions(db, user.id)
    _record(db, ledger, actor=actor, event=AdminEvent.USER_DEACTIVATED, subject=subject_of(user),
            data={"sessions_ended": ended})  # fmt: skip
    return True


def reactivate(db: Session, ledger: LedgerWriter, *, actor: str, user: User) -> bool:
    """Let a deactivated account sign in again."""
    if user.active:
        return False
    user.active = True
    _record(db, ledger, actor=actor, event=AdminEvent.USER_REACTIVATED, subject=subject_of(user),
            data={})  # fmt: skip
    return True


def unlock(db: Session, ledger: LedgerWriter, *, actor: str, user: User) -> bool:
    """Release an account locked after failed sign-ins (CJIS AC-7), clearing its count."""
    if user.locked_at is None:
        return False
    locked_at = user.locked_at
    user.locked_at = None
    # The failures stay in the ledger; the working count restarts, or the next typo would
    # lock the account again at once.
    cleared = db.execute(delete(LoginFailure).where(LoginFailure.username == user.username))
    _record(db, ledger, actor=actor, event=AdminEvent.USER_UNLOCKED, subject=subject_of(user),
            data={"locked_at": locked_at.isoformat(),
                  "failures_cleared": int(getattr(cleared, "rowcount", 0) or 0)})  # fmt: skip
    return True


def reset_second_factor(db: Session, ledger: LedgerWriter, *, actor: str, user: User) -> None:
    """Forget the account's authenticator: it enrols a new one at its next sign-in."""
    user.totp_secret = None
    user.totp_enrolled_at = None
    ended = end_user_sessions(db, user.id)
    _record(db, ledger, actor=actor, event=AdminEvent.SECOND_FACTOR_RESET,
            subject=subject_of(user), data={"sessions_ended": ended})  # fmt: skip


def set_password(
    db: Session,
    ledger: LedgerWriter,
    *,
    actor: str,
    user: User,
    password: str,
    must_change: bool = True,
) -> None:
    """Set an account's password (by default one its holder must change at next sign-in)."""
    if Role.DISPATCH_SYSTEM in user.roles:
        raise InvalidField("password", "a dispatch system's account has no password")
    try:
        check_new_password(password, username=user.username)
    except WeakPassword as exc:
        raise InvalidField("password", str(exc).removeprefix("password: ")) from exc
    user.password_hash = hash_password(password)
    user.password_must_change = must_change
    ended = end_user_sessions(db, user.id)
    _record(db, ledger, actor=actor, event=AdminEvent.PASSWORD_SET, subject=subject_of(user),
            data={"must_change": must_change, "sessions_ended": ended})  # fmt: skip


def change_own_password(
    db: Session,
    ledger: LedgerWriter,
    *,
    user: User,
    current: str,
    new: str,
    keep_session: str | None,
) -> None:
    """Replace one's own password, given the current one; end one's other sessions."""
    if not check_password(user.password_hash, current):
        raise InvalidField("current_password", "that is not your current password")
    try:
        check_new_password(new, username=user.username, current=current)
    except WeakPassword as exc:
        raise InvalidField("new_password", str(exc).removeprefix("password: ")) from exc
    user.password_hash = hash_password(new)
    user.password_must_change = False
    ended = end_user_sessions(db, user.id, keep=keep_session)
    _record(db, ledger, actor=user.username, event=AccountEvent.PASSWORD_CHANGED,
            subject=subject_of(user), data={"other_sessions_ended": ended})  # fmt: skip


def revoke_token(db: Session, ledger: LedgerWriter, *, actor: str, token: ApiToken) -> bool:
    """Revoke an API token for good; return False if it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    _record(db, ledger, actor=actor, event=AdminEvent.TOKEN_REVOKED,
            subject=f"token:{token.id}", data={"name": token.name,
                                               "scopes": list(token.scopes)})  # fmt: skip
    return True


def find_user(db: Session, username: str) -> User:
    """Return the account `username`, or refuse naming it."""
    user = db.scalars(select(User).where(User.username == username.strip().lower())).one_or_none()
    if user is None:
        raise InvalidField("username", f"no user named {username!r}")
    return user
