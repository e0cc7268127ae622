"""The request register: one record per call from an immigration agency, and its lifecycle."""
