"""Audit of dispatch records: find the calls in which an immigration agency asked for help."""
