"""Evidence bundles: a request's ledger entries with their proofs and its original
recordings, checkable offline with the ledger's public key."""
