"""The commanding officer's recorded call: kept whole, sealed at rest, played only by those
allowed, every access on the ledger. See docs/RECORDINGS.md."""
