"""Roles, one per job; a person holds exactly one."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CALL_TAKER = "call_taker"
    COMMANDING_OFFICER = "commanding_officer"
    COMMAND_STAFF = "command_staff"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"
    DISPATCH_SYSTEM = "dispatch_system"
