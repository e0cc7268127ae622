"""The database part of a backup: a consistent copy, what it holds, and putting it back.

SQLite: the sqlite3 module's online backup API copies every page inside one read transaction,
so the copy is one moment of the database while the service keeps writing (WAL lets readers
and the writer work side by side). What the copy holds is read from the copy itself.

PostgreSQL: `pg_dump --format=custom`, run with the PostgreSQL tools of the server's major
version (never older than the server), inside a snapshot this module holds open: a REPEATABLE
READ transaction exports its snapshot with `pg_export_snapshot()`, reads the ledger head and
the schema revision, and `pg_dump --snapshot` dumps exactly what that transaction sees. So the
checkpoint written in the manifest is the one in the dump, not one a moment later.

The password of a PostgreSQL URL goes to the tools in the environment (PGPASSWORD), never on
the command line, where any user of the machine could read it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from assistgate.backup.errors import BackupError, BackupInvalid, NotEmpty
from assistgate.ledger.models import LedgerHead
from assistgate.ledger.store import HEAD_ID
from assistgate.recordings.models import Recording
from assistgate.requests.models import Request

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
PG_ROOT = Path("/usr/lib/postgresql")


@dataclass(frozen=True)
class Contents:
    """What one snapshot of the database holds, as the manifest records it."""

    revision: str | None
    ledger_size: int
    checkpoint: dict[str, Any] | None
    requests: int
    recordings: list[str]  # SHA-256 of every recording whose audio is kept (not purged)


def backend(url: str) -> str:
    """Return 'sqlite' or 'postgresql' for a database URL, or refuse another."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"ASSISTGATE_DATABASE_URL: backups handle SQLite and PostgreSQL, "
                          f"not {name}")  # fmt: skip
    return name


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def read_contents(conn: Connection) -> Contents:
    """Read the revision, ledger head, request count and kept recordings in `conn`'s snapshot."""
    tables = set(inspect(conn).get_table_names())
    revision = None
    if "alembic_version" in tables:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    size, checkpoint = 0, None
    if "ledger_head" in tables:
        row = conn.execute(
            select(LedgerHead.size, LedgerHead.checkpoint).where(LedgerHead.id == HEAD_ID)
        ).one_or_none()
        if row is not None:
            size, checkpoint = int(row[0]), row[1]
    requests = 0
    if "requests" in tables:
        requests = int(conn.execute(select(func.count()).select_from(Request)).scalar_one())
    kept: list[str] = []
    if "recordings" in tables:
        kept = list(conn.scalars(select(Recording.sha256).where(Recording.purged_at.is_(None))
                                 .order_by(Recording.sha256)))  # fmt: skip
    return Contents(revision, size, checkpoint, requests, kept)


# --- SQLite ---------------------------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("ASSISTGATE_DATABASE_URL: an in-memory SQLite database has no backup")
    return Path(database)


def _contents_of_file(path: Path) -> Contents:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return read_contents(conn)
    finally:
        engine.dispose()


def dump_sqlite(url: str, target: Path) -> Contents:
    """Copy the live SQLite database to `target` in one read transaction; return what it holds."""
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"{source_path}: the database file does not exist")
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: one read transaction, one moment
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
        source.close()
    return _contents_of_file(target)


def check_sqlite(path: Path) -> Contents:
    """Say whether the copied file is a whole SQLite database; return what it holds."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupInvalid(f"{path.name}: not a readable SQLite database ({exc})") from None
    if result != [("ok",)]:
        raise BackupInvalid(f"{path.name}: SQLite integrity check failed: {result[:3]}")
    return _contents_of_file(path)


def restore_sqlite(dump: Path, url: str) -> None:
    """Copy the backed-up file to the database path of `url`, which must not hold a database."""
    target = sqlite_path(url)
    if target.exists() and target.stat().st_size > 0:
        engine = create_engine(f"sqlite:///{target}", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                tables = inspect(conn).get_table_names()
        finally:
            engine.dispose()
        if tables:
            raise NotEmpty(f"{target} already holds a database ({len(tables)} tables): a "
                           "restore only fills an empty installation")  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(dump, temp)
    with open(temp, "rb") as file:
        os.fsync(file.fileno())
    os.replace(temp, target)


# --- PostgreSQL -----------------------------------------------------------------------------


def _server_major(conn: Connection) -> int:
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match:
        raise BackupError(f"{path} --version printed {out.strip()!r}: no version")
    return int(match.group(1))


def find_tool(name: str, server_major: int) -> str:
    """Return the PostgreSQL tool `name` of the server's major version (or a newer one).

    Looked for as scripts/postgres.sh looks for the server: PG_BINDIR, then Debian's
    /usr/lib/postgresql/<major>/bin (the server's own version first), then PATH.
    """
    candidates: list[str] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(str(Path(os.environ["PG_BINDIR"]) / name))
    candidates.append(str(PG_ROOT / str(server_major) / "bin" / name))
    if PG_ROOT.is_dir():
        newer = sorted((p for p in PG_ROOT.iterdir() if p.name.isdigit()),
                       key=lambda p: int(p.name))  # fmt: skip
        candidates += [str(p / "bin" / name) for p in newer if int(p.name) > server_major]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    for path in candidates:
        if os.access(path, os.X_OK) and _tool_major(path) >= server_major:
            return path
    raise BackupError(f"no {name} of PostgreSQL {server_major} or newer was found (looked in "
                      f"PG_BINDIR, {PG_ROOT}/<version>/bin and PATH); install the client tools "
                      "of the server's version")  # fmt: skip


def _connection_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Return the tools' arguments for `url` and an environment holding its password."""
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432),
            "--dbname", url.database or ""]  # fmt: skip
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "15"}
    env.pop("PGPASSWORD", None)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    sslmode = url.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return args, env


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = " ".join(done.stderr.split())[:600]
        raise BackupError(f"{what} failed ({Path(argv[0]).name} exit {done.returncode}): {detail}")
    return done.stdout


def _engine(url: str) -> Any:
    return create_engine(url, poolclass=NullPool)


def dump_postgresql(url: str, target: Path) -> tuple[Contents, str]:
    """Dump the database inside one exported snapshot; return what it holds and the pg_dump."""
    engine = _engine(url)
    try:
        snapshot_conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with snapshot_conn as conn, conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            contents = read_contents(conn)
            pg_dump = find_tool("pg_dump", _server_major(conn))
            args, env = _connection_args(make_url(url))
            # The transaction stays open until pg_dump has finished: the snapshot lives
            # only as long as it does.
            _run([pg_dump, *args, "--format=custom", "--no-owner", "--no-privileges",
                  f"--snapshot={snapshot}", "--file", str(target)], env,
                 "pg_dump")  # fmt: skip
    except OperationalError as exc:
        raise BackupError(f"cannot open the database {safe_url(url)}: {exc.orig}") from None
    finally:
        engine.dispose()
    return contents, pg_dump


def check_pg_dump(dump: Path) -> int:
    """Say whether the dump is one pg_restore can read; return how many items it lists."""
    pg_restore = shutil.which("pg_restore") or ""
    majors = sorted((p for p in PG_ROOT.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    if majors:
        pg_restore = str(majors[-1] / "bin" / "pg_restore")
    if os.environ.get("PG_BINDIR"):
        pg_restore = str(Path(os.environ["PG_BINDIR"]) / "pg_restore")
    if not pg_restore:
        raise BackupError("pg_restore was not found: install PostgreSQL's client tools")
    done = subprocess.run([pg_restore, "--list", str(dump)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise BackupInvalid(f"{dump.name}: pg_restore cannot read it: "
                            f"{' '.join(done.stderr.split())[:300]}")  # fmt: skip
    return sum(1 for line in done.stdout.splitlines() if line and not line.startswith(";"))


def postgresql_tables(url: str) -> list[str]:
    """Return the tables of the database's public schema (empty: nothing restored yet)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return list(inspect(conn).get_table_names())
    except OperationalError as exc:
        raise BackupError(f"cannot open the database {safe_url(url)}: {exc.orig}") from None
    finally:
        engine.dispose()


def restore_postgresql(dump: Path, url: str) -> None:
    """Load the dump into the database of `url`, which must hold no tables, in one transaction."""
    tables = postgresql_tables(url)
    if tables:
        raise NotEmpty(f"the database {safe_url(url)} already holds {len(tables)} tables: a "
                       "restore only fills an empty database (create a new one)")  # fmt: skip
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            major = _server_major(conn)
    finally:
        engine.dispose()
    args, env = _connection_args(make_url(url))
    _run([find_tool("pg_restore", major), *args, "--no-owner", "--no-privileges",
          "--exit-on-error", "--single-transaction", str(dump)], env,
         "pg_restore")  # fmt: skip


def contents_of(url: str) -> Contents:
    """Read what a database holds now (after a restore)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return read_contents(conn)
    finally:
        engine.dispose()
