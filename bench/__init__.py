"""Benchmarks of assistgate; importable so tests can reuse their helpers."""
