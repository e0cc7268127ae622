"""The scan service: findings in input order, the same whether the rules run on one core or all."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistgate.audit import scan as scan_module
from assistgate.audit.presets import PRESETS
from assistgate.audit.rules import Category, default_rules
from assistgate.audit.scan import Summary, scan

CORPUS = Path(__file__).with_name("data") / "dispatch_corpus.csv.gz"


def _everything(_: Category) -> bool:
    return True


def test_classifying_on_every_core_gives_the_same_findings_in_the_same_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan, rules = PRESETS["internal"].plan, default_rules()
    serial_summary, parallel_summary = Summary(), Summary()
    serial = list(scan([CORPUS], plan, keep=_everything, rules=rules, summary=serial_summary))
    monkeypatch.setattr(scan_module, "PARALLEL_FROM", 100)
    parallel = list(scan([CORPUS], plan, keep=_everything, rules=rules, summary=parallel_summary))
    assert len(serial) > 1000
    assert parallel == serial
    assert parallel_summary.by_category == serial_summary.by_category
    assert parallel_summary.weak == serial_summary.weak
