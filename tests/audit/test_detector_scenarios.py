"""Detector scenarios written as sentences (tests/audit/scenarios/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistgate.audit.detector import analyse, classify
from assistgate.audit.rules import RULES_DIR, Category, load_rules

SCENARIO_DIR = Path(__file__).with_name("scenarios")


@dataclass(frozen=True)
class Scenario:
    rules_file: str
    name: str
    text: str
    call_type: str | None
    category: Category
    evidence: tuple[str, ...]
    rules: tuple[str, ...]


def _load() -> list[Scenario]:
    cases = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for s in raw["scenarios"]:
            cases.append(
                Scenario(
                    rules_file=raw["rules_file"],
                    name=s["name"],
                    text=s["text"],
                    call_type=s.get("call_type"),
                    category=Category(s["category"]),
                    evidence=tuple(s.get("evidence", ())),
                    rules=tuple(s.get("rules", ())),
                )
            )
    return cases


SCENARIOS = _load()


@pytest.mark.parametrize("s", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(s: Scenario) -> None:
    rules = load_rules(RULES_DIR / s.rules_file)
    finding = analyse(s.text, s.call_type, rules=rules).finding
    assert finding.category is s.category, finding
    quick = classify(s.text, s.call_type, rules=rules)
    assert (quick.category, quick.score, quick.evidence) == (
        finding.category,
        finding.score,
        finding.evidence,
    )
    for quote in s.evidence:
        assert quote in finding.evidence, f"{quote!r} not in {finding.evidence}"
    missing = [r for r in s.rules if r not in finding.rules]
    assert not missing, f"rules {missing} did not fire; fired: {finding.rules}"
    for quote in finding.evidence:
        assert quote in s.text or (s.call_type is not None and quote in s.call_type)


def test_scenario_names_are_unique_sentences() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(names) == len(set(names))
    assert all(n[0].isupper() and " " in n for n in names)


def test_scenarios_cover_every_category() -> None:
    assert {s.category for s in SCENARIOS} == set(Category)
