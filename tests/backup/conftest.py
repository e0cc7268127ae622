"""Fixtures of the backup tests: the CLI as an operator runs it."""

from __future__ import annotations

from tests.cli.conftest import cli, staffed

__all__ = ["cli", "staffed"]
