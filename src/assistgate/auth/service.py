"""Adding the people (and systems) who act on requests; each failure names the field."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.requests import validation as check
from assistgate.requests.errors import InvalidField

USERNAME = re.compile(r"[a-z0-9._-]{2,64}")
EXTENSION = re.compile(r"[0-9]{1,32}")


def add_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    roles: Sequence[str],
    extension: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Add an active user holding `roles`; refuse a malformed or already-taken username."""
    if not USERNAME.fullmatch(username):
        raise InvalidField(
            "username",
            f"expected 2 to 64 lowercase letters, digits, '.', '_' or '-'; got {username!r}",
        )
    if not roles:
        raise InvalidField("role", f"give at least one role: {', '.join(Role)}")
    for role in roles:
        if role not in set(Role):
            raise InvalidField("role", f"expected one of {', '.join(Role)}; got {role!r}")
    name = check.text("display_name", display_name, limit=200)
    if extension is not None and not EXTENSION.fullmatch(extension.strip()):
        raise InvalidField("extension", f"expected the phone extension's digits; got {extension!r}")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidField("username", f"{username} is already a user")
    user = User(
        username=username,
        display_name=name,
        extension=extension.strip() if extension is not None else None,
        active=True,
        password_hash=password_hash,
    )
    user.set_roles(set(roles))
    session.add(user)
    session.flush()
    return user
