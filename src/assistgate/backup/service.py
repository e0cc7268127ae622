"""Make, check and restore a backup folder (the layout and the choices: docs/BACKUPS.md).

A backup folder holds:

    manifest.json             what is in it: every file's size and SHA-256, the database's
                              schema revision and request count, the ledger checkpoint it holds
    database.sqlite3 | database.pgdump
    recordings/ab/<sha256>.agrec   the sealed recordings, as stored (still encrypted)
    keys/ledger-ed25519.pub.pem    the ledger's public key
    keys.sealed               the private keys, encrypted under the operator's passphrase
                              (absent when made with --without-private-keys)

The database is copied first, then the recordings: a recording is stored before the row that
names it commits, so every recording the copied database names is already on disk. Files are
written into a hidden folder beside the target and renamed into place at the end: a backup
that stopped half way leaves no folder that looks like a backup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistgate import __version__
from assistgate.backup import database
from assistgate.backup.errors import BackupError, BackupInvalid, NotEmpty
from assistgate.backup.sealed_keys import check_passphrase, open_files, seal_files
from assistgate.ledger.checkpoint import SignedCheckpoint, verify_checkpoint
from assistgate.ledger.errors import CheckpointError, KeyStoreError
from assistgate.ledger.keys import PUBLIC_KEY_FILE, key_id, load_public_key
from assistgate.recordings.store import SUFFIX, FileBlobStore
from assistgate.settings import Settings

FORMAT = "assistgate-backup/1"
MANIFEST = "manifest.json"
SEALED_KEYS = "keys.sealed"


@dataclass
class BackupSummary:
    """What a backup holds, as its manifest says (and `verify` confirmed)."""

    path: Path
    backend: str
    revision: str | None
    ledger_size: int
    ledger_root: str
    requests: int
    recordings: int
    files: int
    private_keys: bool
    notes: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _root_hex(checkpoint: dict[str, Any] | None) -> str:
    if checkpoint is None:
        return ""
    return SignedCheckpoint.from_json(checkpoint).checkpoint.root.hex()


def create_backup(settings: Settings, target: Path, *, passphrase: str | None) -> BackupSummary:
    """Back up the installation named by `settings` into the new folder `target`.

    `passphrase` seals the private keys into the backup; None leaves them out (the operator
    keeps them elsewhere, as docs/BACKUPS.md describes).
    """
    if passphrase is not None:
        check_passphrase(passphrase)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise NotEmpty(f"{target} already exists and is not empty: give a new folder")
    kind = database.backend(settings.database_url)
    keys_dir = settings.data_dir / "keys"
    public = keys_dir / PUBLIC_KEY_FILE
    if not public.exists():
        raise BackupError(f"{public}: the ledger's public key is missing; nothing to back up "
                          "without it")  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.parent / f".{target.name}.partial"
    if work.exists():
        shutil.rmtree(work)  # left by a backup that stopped half way
    work.mkdir(mode=0o700)
    try:
        summary = _fill(settings, kind, work, keys_dir, passphrase)
        _fsync_tree(work)
        if target.exists():
            target.rmdir()
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    summary.path = target
    return summary


def _fill(settings: Settings, kind: str, work: Path, keys_dir: Path,
          passphrase: str | None) -> BackupSummary:  # fmt: skip
    tool = ""
    if kind == "sqlite":
        dump_name = database.SQLITE_FILE
        contents = database.dump_sqlite(settings.database_url, work / dump_name)
    else:
        dump_name = database.PG_FILE
        contents, tool = database.dump_postgresql(settings.database_url, work / dump_name)
    # After the database: every recording the copy names is on disk by now.
    store = FileBlobStore(settings.data_dir / "recordings")
    copied = 0
    missing = []
    for name in contents.recordings:
        source = store.path(name)
        if not source.exists():
            missing.append(name)
            continue
        dest = work / "recordings" / name[:2] / f"{name}{SUFFIX}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        copied += 1
    if missing:
        raise BackupError(f"{len(missing)} recording(s) the database names are missing from "
                          f"{store.root} (first: {missing[0]}); run 'assistgate recordings "
                          "verify'")  # fmt: skip
    (work / "keys").mkdir()
    shutil.copyfile(keys_dir / PUBLIC_KEY_FILE, work / "keys" / PUBLIC_KEY_FILE)
    if passphrase is not None:
        secrets = {p.name: p.read_bytes() for p in sorted(keys_dir.iterdir())
                   if p.is_file() and p.name != PUBLIC_KEY_FILE}  # fmt: skip
        (work / SEALED_KEYS).write_bytes(seal_files(secrets, passphrase))
    files = [
        {"path": p.relative_to(work).as_posix(), "size": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(work.rglob("*"))
        if p.is_file()
    ]
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "assistgate_version": __version__,
        "database": {
            "backend": kind,
            "file": dump_name,
            "schema_revision": contents.revision,
            "requests": contents.requests,
            "dumped_with": tool,
        },
        "ledger": {
            "size": contents.ledger_size,
            "root": _root_hex(contents.checkpoint),
            "checkpoint": contents.checkpoint,
        },
        "recordings": contents.recordings,
        "private_keys": "sealed" if passphrase is not None else "not included",
        "files": files,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (work / MANIFEST).write_text(text, encoding="utf-8")
    return BackupSummary(work, kind, contents.revision, contents.ledger_size,
                         _root_hex(contents.checkpoint), contents.requests, copied, len(files),
                         passphrase is not None)  # fmt: skip


# --- Verify ---------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupInvalid(f"{path}: no manifest: not a backup folder") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupInvalid(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupInvalid(f"{path}: not a manifest of format {FORMAT}")
    return manifest


def check_files(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Return one line for every file changed, missing or added since the manifest was written."""
    problems = []
    listed = {}
    for entry in manifest["files"]:
        listed[entry["path"]] = entry
        path = folder / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
        elif path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            problems.append(f"{entry['path']}: changed (SHA-256 differs from the manifest)")
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != MANIFEST and name not in listed:
            problems.append(f"{name}: added (not in the manifest)")
    return problems


def _check_checkpoint(folder: Path, manifest: dict[str, Any]) -> str:
    """Check the manifest's checkpoint against the backed-up public key; return the key id."""
    try:
        key = load_public_key(folder / "keys" / PUBLIC_KEY_FILE)
    except KeyStoreError as exc:
        raise BackupInvalid(str(exc)) from None
    ledger = manifest["ledger"]
    if ledger["checkpoint"] is None:
        if ledger["size"] != 0:
            raise BackupInvalid("the manifest names ledger entries but no signed checkpoint")
        return key_id(key)
    try:
        cp = verify_checkpoint(SignedCheckpoint.from_json(ledger["checkpoint"]), key)
    except CheckpointError as exc:
        raise BackupInvalid(f"the manifest's checkpoint does not verify: {exc}") from None
    if cp.size != ledger["size"] or cp.root.hex() != ledger["root"]:
        raise BackupInvalid("the manifest's ledger size or root disagrees with its checkpoint")
    return key_id(key)


def _check_dump_holds(manifest: dict[str, Any], contents: database.Contents, where: str) -> None:
    ledger = manifest["ledger"]
    if (contents.ledger_size, contents.checkpoint) != (ledger["size"], ledger["checkpoint"]):
        raise BackupInvalid(f"{where} holds the ledger at size {contents.ledger_size}, the "
                            f"manifest says {ledger['size']}")  # fmt: skip
    if contents.recordings != manifest["recordings"]:
        raise BackupInvalid(f"{where} names other recordings than the manifest lists")


def verify_backup(
    folder: Path,
    *,
    passphrase: str | None = None,
    scratch_url: str | None = None,
    ledger_check: Callable[[str, Path], list[str]] | None = None,
) -> BackupSummary:
    """Check a backup folder; raise `BackupInvalid` naming what is wrong.

    Always: every file against the manifest, the checkpoint's signature, every listed recording
    present, and the dump readable (SQLite: integrity check and its ledger head; PostgreSQL:
    pg_restore can list it). With `passphrase`: the sealed keys open. With `ledger_check`: the
    dump is restored into a scratch database (a temporary file for SQLite, `scratch_url` for
    PostgreSQL, which must be empty) and `ledger_check(url, keys_folder)` returns findings.
    """
    manifest = read_manifest(folder)
    problems = check_files(folder, manifest)
    if problems:
        raise BackupInvalid(f"{len(problems)} file(s) differ from the manifest: "
                            + "; ".join(problems[:10]))  # fmt: skip
    _check_checkpoint(folder, manifest)
    db = manifest["database"]
    dump = folder / db["file"]
    notes = []
    for name in manifest["recordings"]:
        if not (folder / "recordings" / name[:2] / f"{name}{SUFFIX}").is_file():
            raise BackupInvalid(f"recording {name} is listed but not in the backup")
    if db["backend"] == "sqlite":
        _check_dump_holds(manifest, database.check_sqlite(dump), dump.name)
        notes.append("the SQLite copy passes its integrity check and holds the checkpoint")
    else:
        items = database.check_pg_dump(dump)
        notes.append(f"pg_restore reads the dump ({items} items)")
    sealed = folder / SEALED_KEYS
    if passphrase is not None:
        if not sealed.exists():
            raise BackupInvalid("this backup holds no private keys (made with "
                                "--without-private-keys)")  # fmt: skip
        opened = open_files(sealed.read_bytes(), passphrase)
        notes.append(f"the passphrase opens the sealed keys ({', '.join(sorted(opened))})")
    if ledger_check is not None:
        notes += _restore_check(folder, manifest, scratch_url, ledger_check)
    ledger = manifest["ledger"]
    return BackupSummary(folder, db["backend"], db["schema_revision"], ledger["size"],
                         ledger["root"], db["requests"], len(manifest["recordings"]),
                         len(manifest["files"]), sealed.exists(), notes)  # fmt: skip


def _restore_check(folder: Path, manifest: dict[str, Any], scratch_url: str | None,
                   ledger_check: Callable[[str, Path], list[str]]) -> list[str]:  # fmt: skip
    dump = folder / manifest["database"]["file"]
    import tempfile

    with tempfile.TemporaryDirectory(prefix="assistgate-backup-check-") as temp:
        if manifest["database"]["backend"] == "sqlite":
            url = f"sqlite:///{Path(temp) / 'check.sqlite3'}"
            database.restore_sqlite(dump, url)
        else:
            if scratch_url is None:
                raise BackupError("--restore-check of a PostgreSQL backup needs --scratch-url, "
                                  "an empty database to restore into")  # fmt: skip
            database.restore_postgresql(dump, scratch_url)
            url = scratch_url
        _check_dump_holds(manifest, database.contents_of(url), "the restored copy")
        findings = ledger_check(url, folder / "keys")
    if findings:
        raise BackupInvalid(f"the restored copy's ledger does not verify: {findings[0]}")
    return [f"restored into a scratch database: the ledger verifies "
            f"({manifest['ledger']['size']} entries)"]  # fmt: skip


# --- Restore --------------------------------------------------------------------------------


def _refuse_non_empty_data_dir(data_dir: Path) -> None:
    for sub in ("keys", "recordings"):
        folder = data_dir / sub
        if folder.exists() and any(p.is_file() for p in folder.rglob("*")):
            raise NotEmpty(f"{folder} already holds files: a restore only fills an empty "
                           "installation (give a new ASSISTGATE_DATA_DIR)")  # fmt: skip


def restore_backup(folder: Path, settings: Settings, *, passphrase: str | None) -> BackupSummary:
    """Restore the backup into the empty installation named by `settings`.

    Checks the backup first (as `verify_backup` does, without the scratch restore), refuses a
    database or data folder that already holds anything, then loads the database, copies the
    recordings and the public key, and writes the private keys opened with `passphrase`.
    """
    summary = verify_backup(folder, passphrase=passphrase)
    manifest = read_manifest(folder)
    kind = database.backend(settings.database_url)
    if kind != manifest["database"]["backend"]:
        raise BackupError(f"this is a {manifest['database']['backend']} backup; "
                          f"ASSISTGATE_DATABASE_URL names a {kind} database")  # fmt: skip
    _refuse_non_empty_data_dir(settings.data_dir)
    if kind == "postgresql" and database.postgresql_tables(settings.database_url):
        raise NotEmpty(f"the database {database.safe_url(settings.database_url)} already "
                       "holds tables: a restore only fills an empty database")  # fmt: skip
    secrets: dict[str, bytes] = {}
    if passphrase is not None:
        secrets = open_files((folder / SEALED_KEYS).read_bytes(), passphrase)
    dump = folder / manifest["database"]["file"]
    if kind == "sqlite":
        database.restore_sqlite(dump, settings.database_url)
    else:
        database.restore_postgresql(dump, settings.database_url)
    keys = settings.data_dir / "keys"
    keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(folder / "keys" / PUBLIC_KEY_FILE, keys / PUBLIC_KEY_FILE)
    for name, content in secrets.items():
        fd = os.open(keys / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(fd)
    source = folder / "recordings"
    if source.exists():
        shutil.copytree(source, settings.data_dir / "recordings", dirs_exist_ok=True)
        _fsync_tree(settings.data_dir / "recordings")
    if not secrets:
        summary.notes.append(f"no private keys restored: put the ledger's signing key and the "
                             f"recordings' key in {keys} before starting the service")  # fmt: skip
    return summary
