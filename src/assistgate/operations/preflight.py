"""Checks before a long-running process starts in production: no default or exposed secret.

assistgate has no shared application secret: session cookies, API tokens and webhook secrets
are random values made per session, token or endpoint (only their hashes, or the endpoint's
own secret, are stored). The secrets an installation holds are the ledger's signing key and
the recordings' key (files in `<data dir>/keys`), and the database's password. So "a default
or missing secret" means here, outside development and demo:

- the database is the default embedded SQLite file instead of PostgreSQL, or its password is
  a well-known default (or the user name again);
- the ledger's signing key is missing, or a key file or the key folder can be read by others;
- the data folder (keys and recordings) lies inside a source checkout, where a `git add` or a
  copy of the tree would carry the keys along;
- the settings file holds the database password and others may read it.

Each refusal names the setting or the file to fix; none prints a password.
"""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from assistgate.ledger.errors import KeyStoreError
from assistgate.ledger.keys import PRIVATE_KEY_FILE, FileKeyStore
from assistgate.recordings.crypto import FileRecordingKeyStore, RecordingKeyError
from assistgate.settings import Settings

# Passwords that ship in examples, images and tutorials; a database guarded by one is open.
WELL_KNOWN_PASSWORDS = frozenset(
    {"", "admin", "assistgate", "changeme", "password", "postgres", "secret", "test",
     "123456", "example", "letmein"}
)  # fmt: skip


class StartRefused(Exception):
    """The installation is not fit to run in production; the message says what to fix."""


def check_production(settings: Settings) -> None:
    """Refuse (StartRefused) a production installation with a default, missing or open secret."""
    if settings.environment != "production":
        return
    _check_database(settings)
    _check_data_dir(settings.data_dir)
    _check_keys(settings.data_dir / "keys")
    if settings.config_file is not None:
        _check_settings_file(settings.config_file, settings.database_url)


def _check_database(settings: Settings) -> None:
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        raise StartRefused("ASSISTGATE_DATABASE_URL: not a database URL") from None
    if url.get_backend_name() != "postgresql":
        raise StartRefused(
            "ASSISTGATE_DATABASE_URL: production runs on PostgreSQL, not "
            f"{url.get_backend_name()}; set it to postgresql+psycopg://USER@HOST/NAME "
            "(SQLite is for development and demo)"
        )
    if url.password is not None and (
        url.password.lower() in WELL_KNOWN_PASSWORDS or url.password == url.username
    ):
        raise StartRefused(
            "ASSISTGATE_DATABASE_URL: the database password is a well-known default; give the "
            "database role a long random password (or use peer authentication on a socket)"
        )


def _check_data_dir(data_dir: Path) -> None:
    folder = data_dir.resolve()
    for parent in (folder, *folder.parents):
        if (parent / ".git").exists():
            raise StartRefused(
                f"ASSISTGATE_DATA_DIR: {data_dir} is inside the source checkout {parent}; keep "
                "the keys and recordings outside it (for example /var/lib/assistgate)"
            )


def _check_keys(keys: Path) -> None:
    if not (keys / PRIVATE_KEY_FILE).exists():
        raise StartRefused(
            f"the ledger's signing key is missing ({keys / PRIVATE_KEY_FILE}); create it once "
            "with 'assistgate keys init' and back it up"
        )
    mode = keys.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StartRefused(
            f"{keys}: mode {stat.S_IMODE(mode):04o}; the key folder must be open to its owner "
            f"only (chmod 700 {keys})"
        )
    try:
        FileKeyStore(keys).ledger_private_key()
    except KeyStoreError as exc:  # each says which file and why
        raise StartRefused(f"the ledger's signing key cannot be used: {exc}") from None
    recordings = FileRecordingKeyStore(keys)
    if recordings.exists():  # made on first use when absent (mode 0600)
        try:
            recordings.current()
        except RecordingKeyError as exc:
            raise StartRefused(f"the recordings' key cannot be used: {exc}") from None


def _check_settings_file(path: Path, database_url: str) -> None:
    mode = path.stat().st_mode
    if mode & stat.S_IROTH and make_url(database_url).password:
        raise StartRefused(
            f"ASSISTGATE_CONFIG: {path} holds the database password and anyone on the machine "
            f"may read it (mode {stat.S_IMODE(mode):04o}); chmod 640 it, owned by root and "
            "the service's group"
        )
