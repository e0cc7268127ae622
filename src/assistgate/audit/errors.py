"""Typed errors of the audit scanner: each names the rule, file, column or line at fault."""

from __future__ import annotations

from collections.abc import Sequence


class AuditError(Exception):
    """Base of every error the audit scanner raises on purpose."""


class RulesError(AuditError, ValueError):
    """A rules file is malformed; the message names the file, the rule id and the field."""

    def __init__(self, source: str, rule: str, field: str, message: str) -> None:
        self.source, self.rule, self.field, self.message = source, rule, field, message
        where = source
        if rule:
            where += f": rule {rule}"
        if field:
            where += f": {field}"
        super().__init__(f"{where}: {message}")


class ReadError(AuditError):
    """An input file cannot be read as calls for service; names the file and, if known, line."""

    def __init__(self, file: str, message: str, line: int | None = None) -> None:
        self.file, self.message, self.line = file, message, line
        where = f"{file}, line {line}" if line is not None else file
        super().__init__(f"{where}: {message}")


class MissingColumnError(ReadError):
    """A column the scan needs is not in the file; the message lists the columns it has."""

    def __init__(self, file: str, role: str, wanted: Sequence[str], have: Sequence[str]) -> None:
        self.role, self.wanted, self.have = role, tuple(wanted), tuple(have)
        names = " or ".join(repr(w) for w in wanted)
        listed = ", ".join(have) if have else "(none)"
        super().__init__(file, f"no {role} column {names}; the file's columns are: {listed}")
