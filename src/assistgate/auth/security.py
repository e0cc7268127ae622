"""Passwords (Argon2), second factor (TOTP), session and API-token secrets.

Secrets handed to a browser or a dispatch system are random; only their SHA-256 is stored,
so a copy of the database does not let anyone sign in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 12
# Long enough for any passphrase, short enough that hashing cannot be used to tie up the server.
MAX_PASSWORD = 256
# An initial password set by an administrator must be replaced at first sign-in. Until the
# users table has a column for it, the mark is a prefix of the stored hash (never a valid
# Argon2 hash, so nothing else can mistake it for one).
_HASHER = PasswordHasher()
# Lockout and session limits, from the FBI CJIS Security Policy (AC-7, AC-11, AC-12, IA-11).
FAILED_LOGINS_BEFORE_LOCK = 5
FAILED_LOGIN_WINDOW = dt.timedelta(minutes=15)
IDLE_LIMIT = dt.timedelta(minutes=30)
SESSION_LIMIT = dt.timedelta(hours=12)
REAUTH_FOR_DECISION = dt.timedelta(minutes=15)


class WeakPassword(ValueError):
    """A password the policy refuses; the message says why."""


def hash_password(password: str) -> str:
    """Return the Argon2id hash of a password that meets the length policy."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"password: at most {MAX_PASSWORD} characters")
    return _HASHER.hash(password)


def check_new_password(password: str, *, username: str, current: str | None = None) -> None:
    """Refuse a new password that is too short or long, holds the username, or is unchanged."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"password: at most {MAX_PASSWORD} characters")
    if username and username.lower() in password.lower():
        raise WeakPassword("password: must not contain the username")
    if len(set(password)) < 4:
        raise WeakPassword("password: use more than three different characters")
    if current is not None and password == current:
        raise WeakPassword("password: choose a password different from the current one")


def check_password(stored_hash: str | None, password: str) -> bool:
    """Say whether `password` matches the stored hash (False when there is none)."""
    if not stored_hash:
        # Hash anyway so that an unknown user takes as long as a wrong password.
        _HASHER.hash(password or "x")
        return False
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """Return a random URL-safe secret of 256 bits."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Return the SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_totp_secret() -> str:
    """Return a base32 secret for an authenticator app."""
    return pyotp.random_base32()


def totp_uri(secret: str, username: str, issuer: str = "assistgate") -> str:
    """Return the otpauth:// URI an authenticator app enrols from."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def check_totp(secret: str | None, code: str, *, at: dt.datetime | None = None) -> bool:
    """Say whether a six-digit code is valid now (one step of clock drift allowed)."""
    if not secret or not code.strip().isdigit():
        return False
    return bool(pyotp.TOTP(secret).verify(code.strip(), for_time=at, valid_window=1))
