"""Readiness: can this process do its work? The database, the key store, the recordings' store
and the outbox, each checked on its own, so that a failure names its part.

A check says only "ok" or what kind of failure it met, never a path, a URL or an error's own
text: /readyz answers anyone who can reach the process.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from assistgate.app import App
from assistgate.integrations.models import OutboxMessage
from assistgate.ledger.errors import KeyStoreError
from assistgate.recordings.crypto import FileRecordingKeyStore, RecordingKeyError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = "ok"


def check_database(app: App) -> Check:
    try:
        with app.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return Check("database", False, "unreachable")
    return Check("database", True)


def check_key_store(app: App) -> Check:
    try:
        app.keys.ledger_private_key()
    except KeyStoreError as exc:
        kind = "missing" if "no such" in str(exc) else "unusable"
        return Check("key_store", False, f"the ledger's signing key is {kind}")
    return Check("key_store", True)


def check_recording_store(app: App) -> Check:
    folder = app.settings.data_dir / "recordings"
    writable = folder if folder.exists() else app.settings.data_dir
    if not os.access(writable, os.W_OK | os.X_OK):
        return Check("recording_store", False, "the recordings' folder is not writable")
    keys = FileRecordingKeyStore(app.settings.data_dir / "keys")
    if keys.exists():
        try:
            keys.current()
        except RecordingKeyError:
            return Check("recording_store", False, "the recordings' key is unusable")
    return Check("recording_store", True)


def check_outbox(app: App, worker: threading.Thread | None) -> Check:
    try:
        with app.sessions() as session:
            session.scalar(select(func.count()).select_from(OutboxMessage))
    except SQLAlchemyError:
        return Check("outbox", False, "unreachable")
    if worker is not None and not worker.is_alive():
        return Check("outbox", False, "this process's delivery worker has stopped")
    return Check("outbox", True)


def readiness(app: App, worker: threading.Thread | None = None) -> list[Check]:
    """Run every check; `worker` is this process's outbox thread, if it runs one."""
    return [check_database(app), check_key_store(app), check_recording_store(app),
            check_outbox(app, worker)]  # fmt: skip
