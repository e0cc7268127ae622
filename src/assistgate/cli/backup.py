"""`assistgate backup ...`: make a backup while the service runs, check it, restore it.

Exit codes as everywhere: 1 when a backup does not verify or a restore is refused (the target
is not empty), 2 for invalid input (a missing folder, a short or wrong passphrase, a database
that cannot be reached or a tool that is missing). See docs/BACKUPS.md.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from assistgate.backup.errors import BackupError, BackupInvalid, NotEmpty, PassphraseError
from assistgate.backup.service import BackupSummary, create_backup, restore_backup, verify_backup
from assistgate.cli.common import EXIT_INVALID, EXIT_REFUSED, fail, load_settings
from assistgate.ledger.keys import PUBLIC_KEY_FILE, load_public_key
from assistgate.ledger.verify import verify_database

P = ParamSpec("P")
R = TypeVar("R")
PASSPHRASE_ENV = "ASSISTGATE_BACKUP_PASSPHRASE"


def _backup_errors(command: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (BackupInvalid, NotEmpty) as exc:
            fail(str(exc), EXIT_REFUSED)
        except (PassphraseError, BackupError) as exc:
            fail(str(exc), EXIT_INVALID)
        except OSError as exc:
            fail(f"{exc.filename or 'a file'}: {exc.strerror or exc}", EXIT_INVALID)

    return run


def _passphrase(source: Path | None) -> str | None:
    """Read the passphrase from `--passphrase-file` (first line) or the environment."""
    if source is not None:
        try:
            lines = source.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            fail(f"--passphrase-file: {source}: {exc.strerror or exc}")
        return lines[0] if lines else ""
    return os.environ.get(PASSPHRASE_ENV)


passphrase_file = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help=f"The passphrase that seals the private keys (first line of FILE; or set "
    f"{PASSPHRASE_ENV}).",
)


def _describe(summary: BackupSummary) -> None:
    click.echo(f"  database: {summary.backend}, schema {summary.revision}, "
               f"{summary.requests} request(s)")  # fmt: skip
    click.echo(f"  ledger checkpoint: {summary.ledger_size} entries, root {summary.ledger_root}")
    click.echo(
        f"  recordings: {summary.recordings}; files: {summary.files}; private keys: "
        f"{'sealed under the passphrase' if summary.private_keys else 'not included'}"
    )
    for note in summary.notes:
        click.echo(f"  {note}")


@click.group()
def backup() -> None:
    """Back up the database, the recordings and the keys while the service runs; restore them."""


@backup.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@passphrase_file
@click.option(
    "--without-private-keys",
    is_flag=True,
    help="Leave the private keys out (they are kept and backed up separately).",
)
@_backup_errors
def create(folder: Path, passphrase_file: Path | None, without_private_keys: bool) -> None:
    """Back up this installation into the new folder FOLDER (consistent while it serves)."""
    passphrase = _passphrase(passphrase_file)
    if passphrase is None and not without_private_keys:
        fail(f"give --passphrase-file FILE (or {PASSPHRASE_ENV}) to seal the private keys into "
             "the backup, or --without-private-keys if they are backed up separately")  # fmt: skip
    if passphrase is not None and without_private_keys:
        fail("--without-private-keys and a passphrase exclude each other")
    summary = create_backup(load_settings(), folder, passphrase=passphrase)
    click.echo(f"backup written to {summary.path}")
    _describe(summary)


def _ledger_findings(url: str, keys: Path) -> list[str]:
    """Verify the ledger of the database at `url` with the backed-up public key."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            report = verify_database(session, load_public_key(keys / PUBLIC_KEY_FILE))
    finally:
        engine.dispose()
    return [str(f) for f in report.findings]


@backup.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@passphrase_file
@click.option(
    "--restore-check",
    is_flag=True,
    help="Also restore the database into a scratch copy and verify its ledger.",
)
@click.option(
    "--scratch-url",
    metavar="URL",
    help="For --restore-check of a PostgreSQL backup: an empty database to use.",
)
@_backup_errors
def verify(folder: Path, passphrase_file: Path | None, restore_check: bool,
           scratch_url: str | None) -> None:  # fmt: skip
    """Check the backup FOLDER: every file's hash, the checkpoint, the dump readable."""
    summary = verify_backup(folder, passphrase=_passphrase(passphrase_file),
                            scratch_url=scratch_url,
                            ledger_check=_ledger_findings if restore_check else None)  # fmt: skip
    click.echo(f"backup OK: {folder}")
    _describe(summary)


@backup.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@passphrase_file
@click.option(
    "--without-private-keys",
    is_flag=True,
    help="Restore without the private keys (they are put back separately).",
)
@_backup_errors
def restore(folder: Path, passphrase_file: Path | None, without_private_keys: bool) -> None:
    """Restore the backup FOLDER into this installation, which must be empty."""
    passphrase = _passphrase(passphrase_file)
    if passphrase is None and not without_private_keys:
        fail(f"give --passphrase-file FILE (or {PASSPHRASE_ENV}) to open the sealed keys, or "
             "--without-private-keys to restore without them")  # fmt: skip
    summary = restore_backup(folder, load_settings(),
                             passphrase=None if without_private_keys else passphrase)  # fmt: skip
    click.echo(f"restored {folder}; now run 'assistgate ledger verify' and "
               "'assistgate recordings verify'")  # fmt: skip
    _describe(summary)
