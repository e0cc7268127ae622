"""Helpers the audit commands share: failing with exit status 2, writing a CSV whole or not."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NoReturn

import click

EXIT_INVALID = 2
EXIT_BELOW_TARGET = 1


def fail(message: str) -> NoReturn:
    click.echo(f"assistgate: {message}", err=True)
    sys.exit(EXIT_INVALID)


@contextmanager
def atomic_csv(path: Path) -> Iterator[IO[str]]:
    """Write to a temporary file beside `path` and rename it over `path` only on success."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
