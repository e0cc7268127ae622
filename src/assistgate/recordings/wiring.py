"""The recordings' archive for an opened app: its deployment, the default vault, retention."""

from __future__ import annotations

from assistgate.app import App
from assistgate.recordings.service import Archive
from assistgate.recordings.store import Vault


def archive_for(app: App, vault: Vault | None = None) -> Archive:
    """Return the archive of `app`: `<data dir>/recordings`, sealed under `<data dir>/keys`."""
    return Archive(
        deployment=app.deployment,
        vault=vault or Vault.in_data_dir(app.settings.data_dir),
        retention=app.settings.recording_retention,
    )
