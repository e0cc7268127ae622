"""What can go wrong with a backup; each message names the file or the setting."""

from __future__ import annotations


class BackupError(Exception):
    """A backup cannot be made, read or restored; nothing was written."""


class BackupInvalid(BackupError):
    """The backup folder is not a whole, unaltered backup: a file is changed, missing or added."""


class NotEmpty(BackupError):
    """The target of a restore already holds data: a restore only fills an empty installation."""


class PassphraseError(BackupError):
    """The passphrase is missing, too short, or does not open the sealed keys."""
