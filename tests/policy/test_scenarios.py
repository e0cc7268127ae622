"""Scenario tests written as sentences, and a check that they cover every rule and date."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest

from assistgate.policy import AssessmentError, PolicyEngine, default_registry
from tests.policy.scenario_cases import Scenario, load_scenarios

ENGINE = PolicyEngine()
SCENARIOS = load_scenarios()


def _decide(s: Scenario) -> dict[str, Any]:
    return ENGINE.evaluate_json(s.assessment)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    if scenario.expect_error is not None:
        with pytest.raises(AssessmentError) as caught:
            _decide(scenario)
        assert scenario.expect_error in str(caught.value)
        return
    decision = _decide(scenario)
    for key, wanted in scenario.expect.items():
        if key == "clauses":
            cited = [r["clause"] for r in decision["reasons"]]
            missing = [c for c in wanted if c not in cited]
            assert not missing, f"reasons do not cite {missing}; they cite {cited}"
        else:
            assert decision[key] == wanted, f"{key}: expected {wanted!r}, got {decision[key]!r}"
    # Invariants every answer keeps, whatever the profile.
    requested = scenario.assessment.get("requested_actions")
    if requested is not None:
        assert sorted(decision["permitted_actions"] + decision["prohibited_actions"]) == sorted(
            requested
        )
    if decision["decision"] == "decline":
        assert decision["permitted_actions"] == []


def test_scenarios_exist_for_every_profile() -> None:
    covered = {
        s.assessment["profile"] for s in SCENARIOS if isinstance(s.assessment["profile"], str)
    }
    assert default_registry().ids <= covered


def _single_profile_results() -> list[tuple[str, str, dict[str, Any]]]:
    results = []
    for s in SCENARIOS:
        if s.expect_error is None and isinstance(s.assessment["profile"], str):
            d = _decide(s)
            results.append((d["profile"], d["profile_version"], d))
    return results


def test_scenarios_cover_every_ground_and_every_prohibited_action() -> None:
    seen_grounds: dict[tuple[str, str], set[str]] = defaultdict(set)
    seen_prohibited: dict[tuple[str, str], set[str]] = defaultdict(set)
    for pid, version, d in _single_profile_results():
        seen_grounds[pid, version].update(d["grounds"])
        seen_prohibited[pid, version].update(d["prohibited_actions"])
    gaps = []
    for p in default_registry().all_versions():
        key = (p.id, p.version)
        for g in p.grounds:
            if g.id not in seen_grounds[key]:
                gaps.append(f"{p.id} {p.version}: no scenario where ground {g.id} holds")
        for rule in p.action_rules.values():
            if rule.always_prohibited and rule.action not in seen_prohibited[key]:
                gaps.append(f"{p.id} {p.version}: no scenario prohibits {rule.action}")
    assert not gaps, "\n".join(gaps)


def test_scenarios_cover_both_sides_of_every_effective_date() -> None:
    dates: dict[str, set[dt.date]] = defaultdict(set)
    for s in SCENARIOS:
        if isinstance(s.assessment["profile"], str) and "date" in s.assessment:
            dates[s.assessment["profile"]].add(dt.date.fromisoformat(s.assessment["date"]))
    gaps = []
    one_day = dt.timedelta(days=1)
    for p in default_registry().all_versions():
        for edge in (p.effective_from - one_day, p.effective_from):
            if edge not in dates[p.id]:
                gaps.append(f"{p.id} {p.version}: no scenario dated {edge} (effective_from edge)")
        if p.effective_to is not None:
            for edge in (p.effective_to, p.effective_to + one_day):
                if edge not in dates[p.id]:
                    gaps.append(f"{p.id} {p.version}: no scenario dated {edge} (effective_to edge)")
    assert not gaps, "\n".join(gaps)
