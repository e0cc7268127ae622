"""Tests of the audit scanner: detector, rules file, readers, presets, CLI and corpus."""
