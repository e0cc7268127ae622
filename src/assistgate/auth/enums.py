"""Roles: a person may hold several; a dispatch system acts through its own account."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CALL_TAKER = "call_taker"
    COMMANDER = "commander"
    AUDITOR = "auditor"
    ADMIN = "admin"
    # The account a dispatch system (CAD) or recorder acts as, through API tokens only.
    DISPATCH_SYSTEM = "dispatch_system"


# Roles whose holders must enrol a second factor (TOTP) before using the system.
NEEDS_SECOND_FACTOR = frozenset({Role.COMMANDER, Role.AUDITOR, Role.ADMIN})


class AdminEvent(StrEnum):
    """Ledger event names of administrative changes, "subject:action" (CJIS AC-2(4), AU-2)."""

    USER_ADDED = "admin:user_added"
    ROLES_CHANGED = "admin:user_roles_changed"
    USER_DEACTIVATED = "admin:user_deactivated"
    USER_REACTIVATED = "admin:user_reactivated"
    USER_UNLOCKED = "admin:user_unlocked"
    SECOND_FACTOR_RESET = "admin:second_factor_reset"
    PASSWORD_SET = "admin:password_set"
    TOKEN_REVOKED = "admin:token_revoked"


class AccountEvent(StrEnum):
    """Ledger event names of what people do with their own credentials."""

    PASSWORD_CHANGED = "auth:password_changed"
    REAUTHENTICATED = "auth:reauthenticated"
    REAUTH_FAILED = "auth:reauth_failed"
    ACCOUNT_LOCKED = "auth:account_locked"
