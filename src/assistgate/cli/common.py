"""What every command shares: opening the app, reading JSON, exit codes, errors, times.

Exit codes, the same for every command:

    0  done (or: verified)
    1  refused: the lifecycle, a rule, another officer's hold or a role does not allow it,
       a key would be overwritten, or a verification failed; nothing was written
    2  invalid: a malformed field or document, a missing file, an unknown request or user,
       a bad setting, an unreachable database or a missing key; nothing was written

Every failure prints one line on standard error starting with `assistgate: `.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from assistgate.app import App, key_dir, open_app
from assistgate.auth.models import User
from assistgate.db.session import DatabaseUnavailable
from assistgate.ledger.entry import parse_timestamp
from assistgate.ledger.errors import KeyExistsError, KeyNotFoundError, KeyStoreError
from assistgate.ledger.keys import FileKeyStore
from assistgate.ledger.store import LedgerNotInitialised
from assistgate.operations.preflight import StartRefused, check_production
from assistgate.requests.errors import (
    AlreadyHeld,
    InvalidField,
    NotPermitted,
    RequestNotFound,
    RuleNotMet,
)
from assistgate.requests.flows import TransitionRefused
from assistgate.settings import Settings, SettingsError

EXIT_REFUSED = 1
EXIT_INVALID = 2

P = ParamSpec("P")
R = TypeVar("R")


class UnknownUser(Exception):
    """`--as` names nobody in the register (told apart from a role that may not act)."""


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print `assistgate: message` on one line of standard error and exit with `code`."""
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"assistgate: {line}", err=True)
    sys.exit(code)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def load_json_document(text: str, name: str) -> Any:
    """Decode strict JSON (no NaN, no repeated keys), or exit 2 saying where it is malformed."""
    try:
        return json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
        )
    except json.JSONDecodeError as exc:
        fail(f"{name} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}")
    except ValueError as exc:
        fail(f"{name} is not valid JSON: {exc}")


def read_json(source: str, option: str) -> Any:
    """Read strict JSON from the file `source` ('-' for standard input), or exit 2."""
    if source == "-":
        name = f"{option}: standard input"
        try:
            text = sys.stdin.read()
        except UnicodeDecodeError:
            fail(f"{option}: standard input is not UTF-8 text")
    else:
        name = f"{option}: {source}"
        try:
            text = Path(source).read_text(encoding="utf-8")
        except FileNotFoundError:
            fail(f"{option}: {source}: no such file")
        except UnicodeDecodeError:
            fail(f"{option}: {source} is not UTF-8 text")
        except OSError as exc:
            fail(f"{option}: {source}: {exc.strerror or exc}")
    return load_json_document(text, name)


def load_settings() -> Settings:
    """Read the settings from the environment, or exit 2 naming the variable."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        fail(str(exc))


def key_store(settings: Settings) -> FileKeyStore:
    """Return the deployment's key store (`<data_dir>/keys`), whether or not it holds a key."""
    return FileKeyStore(key_dir(settings))


def open_app_or_exit(*, migrate: bool = True, service: bool = False) -> App:
    """Open the app named by the environment, or exit 2 naming the setting or the database.

    A long-running `service` (the web service, a worker) first passes the production checks.
    """
    settings = load_settings()
    if service:
        try:
            check_production(settings)
        except StartRefused as exc:
            fail(f"refusing to start in production: {exc}")
    try:
        return open_app(settings, migrate=migrate)
    except SettingsError as exc:
        fail(str(exc))
    except DatabaseUnavailable as exc:
        fail(f"{exc} (check ASSISTGATE_DATABASE_URL)")


@contextmanager
def opened_app(*, service: bool = False) -> Iterator[App]:
    """Open the app for one command and close its database connections afterwards."""
    app = open_app_or_exit(service=service)
    try:
        yield app
    finally:
        app.close()


def acting_user(app: App, session: Session, username: str) -> User:
    """Return the user named by `--as`, or raise `UnknownUser`."""
    try:
        return app.user(session, username)
    except NotPermitted as exc:
        raise UnknownUser(str(exc)) from exc


acting_as = click.option(
    "--as",
    "username",
    required=True,
    metavar="USERNAME",
    help="Who acts: a user added with 'assistgate user add' whose role allows this step.",
)

_REFUSED: tuple[type[Exception], ...] = (
    TransitionRefused,
    RuleNotMet,
    AlreadyHeld,
    NotPermitted,
    KeyExistsError,
)
_INVALID: tuple[type[Exception], ...] = (
    InvalidField,
    RequestNotFound,
    UnknownUser,
    SettingsError,
    DatabaseUnavailable,
    LedgerNotInitialised,
)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the register's refusals and invalid input into one stderr line and an exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except _REFUSED as exc:
            fail(str(exc), EXIT_REFUSED)
        except _INVALID as exc:
            fail(str(exc), EXIT_INVALID)
        except KeyNotFoundError as exc:
            fail(f"{exc}; create the ledger's key with 'assistgate keys init'", EXIT_INVALID)
        except KeyStoreError as exc:
            fail(f"the ledger's signing key cannot be used: {exc}", EXIT_INVALID)
        except IntegrityError:
            fail(
                "the database refused the change: it conflicts with one made at the same time; "
                "nothing was written, try again",
                EXIT_REFUSED,
            )
        except OperationalError as exc:
            fail(f"the database failed: {exc.orig}", EXIT_INVALID)
        except OSError as exc:
            fail(f"{exc.filename or 'a file'}: {exc.strerror or exc}", EXIT_INVALID)

    return run


def local_time(moment: dt.datetime | str | None, zone: dt.tzinfo) -> str:
    """Show a UTC moment (or ledger timestamp) in `zone`, like 2018-03-06 09:41 EST."""
    if moment is None or moment == "":
        return "-"
    if isinstance(moment, str):
        moment = parse_timestamp(moment)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def echo_json(value: Any) -> None:
    """Print `value` as indented JSON, keys in a fixed order, non-ASCII kept readable."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def table(rows: list[list[str]], header: list[str]) -> str:
    """Return rows as left-aligned columns under a header, two spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    return "\n".join(lines)


def write_atomically(path: Path, chunks: Iterable[str]) -> None:
    """Write `chunks` to `path` whole or not at all: a temporary file, synced, renamed over it.

    If `chunks` raises, the temporary file is removed and `path` is left as it was.
    """
    directory = path.parent
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        fail(f"{path}: cannot write in {directory}: {exc.strerror or exc}")
    temp = Path(temp_name)
    try:
        # mkstemp makes the file private; give it the mode a plain new file would have.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    # The rename itself is durable only once the directory is synced.
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)
