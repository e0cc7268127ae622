"""Backups that are proven to restore: a consistent copy of the database, the recordings and
the keys, a manifest of hashes and the ledger checkpoint it holds (see docs/BACKUPS.md)."""
