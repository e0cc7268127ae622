"""Typed errors of the policy engine: each names where the problem is and what was expected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One invalid field of an assessment: its dotted path and what was wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class AssessmentError(ValueError):
    """An assessment does not follow the contract; `problems` lists every invalid field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in problems))


class ProfileError(ValueError):
    """A profile file is malformed, or two dated versions of a profile do not fit together."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source = source
        self.path = path
        self.message = message
        where = f"{source}: {path}" if path else source
        super().__init__(f"{where}: {message}")
