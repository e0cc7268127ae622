"""Storage: the SQLAlchemy base, the UTC-only datetime type, engines and migrations."""
