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
