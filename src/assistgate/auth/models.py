"""People and systems, their roles, sessions, API tokens and failed logins."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assistgate.db.base import Base, UTCDateTime, utcnow


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # The phone extension a commanding officer calls from; recordings are matched by it.
    extension: Mapped[str | None] = mapped_column(String(32), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    # Set by an administrator (an initial or reset password): replaced at the next sign-in.
    password_must_change: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_enrolled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Commanders on duty receive alerts, in ascending duty_rank; escalation walks that order.
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    duty_rank: Mapped[int] = mapped_column(Integer, default=100)
    contact: Mapped[str] = mapped_column(String(200), default="")

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=UserRole.role
    )

    @property
    def roles(self) -> frozenset[str]:
        """Return the roles this user holds."""
        return frozenset(r.role for r in self.role_rows)

    def has_any(self, roles: frozenset[str] | set[str]) -> bool:
        """Say whether the user holds at least one of `roles`."""
        return not self.roles.isdisjoint(roles)

    def set_roles(self, roles: set[str] | frozenset[str] | list[str]) -> None:
        """Replace the user's roles."""
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=role) for role in sorted(wanted - self.roles)
        ]


class WebSession(Base):
    """A browser session; only the hash of its cookie is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # When the password (and second factor) were last given: a decision asks again if stale.
    authenticated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    second_factor_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    csrf_token: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class ApiToken(Base):
    """A token for a dispatch system or recorder; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class LoginFailure(Base):
    """One failed login, kept to lock an account after five within fifteen minutes."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
