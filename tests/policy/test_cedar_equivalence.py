"""The Cedar policy of the benchmark decides exactly as the louisville-lmpd-2017 profile does.

bench/policy_bench.py times the engine against bench/cedar/louisville-lmpd-2017.cedar; the
comparison means something only if both give the same answers. These tests run the bench's
agreement check on a mixed batch, and show that the check can fail: the same policy with one
rule removed, or one condition dropped, must disagree somewhere in the batch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import cedarpy
import pytest
from bench import policy_bench as pb

from assistgate.policy import PolicyEngine, default_registry
from assistgate.policy.facts import ACTIONS, AGENCIES, CRIME_STATUSES, WARRANT_KINDS

ENGINE = PolicyEngine()
BATCH = pb.make_batch(2_000, seed=pb.DEFAULT_SEED)
SCHEMA = pb.load_schema()

# The @id of each permit rule of the Cedar policy.
PERMIT_RULES = ("serve_criminal_warrant", "respond_to_crime", "emergency_response", "any_ground")


def _ground_facts(obj: dict[str, Any]) -> tuple[object, ...]:
    w = obj.get("warrant", {})
    c = obj.get("crime", {})
    return (
        w.get("kind", "none"),
        w.get("verified", False),
        w.get("immigration_offense", False),
        c.get("status", "none"),
        c.get("immigration_offense", False),
        obj["emergency"]["clear_public_danger"],
    )


def test_batch_is_deterministic_and_mixed() -> None:
    assert pb.make_batch(50, seed=7) == pb.make_batch(50, seed=7)
    assert pb.make_batch(50, seed=7) != pb.make_batch(50, seed=8)
    assert {o["agency"] for o in BATCH} == set(AGENCIES)
    assert {a for o in BATCH for a in o["requested_actions"]} == set(ACTIONS)
    assert {len(o["requested_actions"]) for o in BATCH} == {1, 2, 3, 4}
    # Every combination of the facts the grounds test that the contract allows: a warrant of
    # kind none is neither verified nor about immigration, and no crime is no immigration one.
    kinds = [
        (k, v, i)
        for k in WARRANT_KINDS
        for v in (False, True)
        for i in (False, True)
        if k != "none" or not (v or i)
    ]
    crimes = [(s, i) for s in CRIME_STATUSES for i in (False, True) if s != "none" or not i]
    every = {(*k, *c, d) for k in kinds for c in crimes for d in (False, True)}
    assert {_ground_facts(o) for o in BATCH} == every
    decisions = {ENGINE.evaluate(ENGINE.parse(o)).decision for o in BATCH}
    assert decisions == {"dispatch", "decline"}


@pytest.mark.parametrize(
    ("facts_in", "with_schema"), [(pb.CONTEXT, False), (pb.CONTEXT, True), (pb.ENTITY, True)]
)
def test_cedar_policy_agrees_with_engine(facts_in: str, with_schema: bool) -> None:
    schema = SCHEMA if with_schema else None
    policies = pb.load_policies(pb.policy_text(facts_in), schema=SCHEMA)
    bad = pb.find_disagreements(
        ENGINE, policies, BATCH, facts_in=facts_in, schema=schema, stop_after=5
    )
    assert not bad, "\n".join(d.describe() for d in bad)


def test_check_all_of_the_bench_passes() -> None:
    policies = {f: pb.load_policies(pb.policy_text(f), schema=SCHEMA) for f in pb.FACTS_IN}
    assert pb.check_all(ENGINE, BATCH[:300], policies, SCHEMA) is None


@pytest.mark.parametrize("facts_in", pb.FACTS_IN)
@pytest.mark.parametrize("policy_id", PERMIT_RULES)
def test_policy_missing_a_rule_disagrees(policy_id: str, facts_in: str) -> None:
    policies = pb.policies_without(policy_id, pb.policy_text(facts_in))
    bad = pb.find_disagreements(ENGINE, policies, BATCH, facts_in=facts_in, stop_after=1)
    assert bad, f"removing Cedar rule {policy_id!r} went unnoticed on {len(BATCH)} assessments"


@pytest.mark.parametrize(
    "condition",
    [
        "!context.warrant.immigration_offense",
        "context.warrant.verified",
        "!context.crime.immigration_offense",
    ],
)
def test_policy_missing_a_condition_disagrees(condition: str) -> None:
    text = pb.policy_text()
    assert condition in text
    policies = pb.load_policies(text.replace(condition, "true"), schema=SCHEMA)
    bad = pb.find_disagreements(ENGINE, policies, BATCH, stop_after=1)
    assert bad, f"dropping the condition {condition!r} went unnoticed"


def test_disagreement_names_the_first_differing_case() -> None:
    policies = pb.policies_without("emergency_response", pb.policy_text())
    (first,) = pb.find_disagreements(ENGINE, policies, BATCH, stop_after=1)
    assert "emergency_response" in first.engine_permitted
    assert "emergency_response" not in first.cedar_permitted
    assert f"assessment #{first.index}" in first.describe()


def test_cedar_errors_count_as_disagreement() -> None:
    # A policy reading a fact the context lacks errors in Cedar, which then denies silently;
    # the check must report it even where denying happens to be the engine's answer too.
    policies = cedarpy.PolicySet.from_str(
        "permit (principal, action, resource) when { context.no_such_fact };"
    )
    (first,) = pb.find_disagreements(ENGINE, policies, BATCH, stop_after=1)
    assert first.cedar_errors


def test_forbid_rule_keeps_immigration_enforcement_prohibited() -> None:
    # Cedar denies by default, so the forbid rule only matters against a too-broad permit:
    # with it, such a permit still never allows the always-prohibited actions.
    profile = default_registry().in_force(pb.PROFILE, dt.date.fromisoformat(pb.DATE))
    assert profile is not None
    prohibited = [a for a, rule in profile.action_rules.items() if rule.always_prohibited]
    assert prohibited
    broad = pb.policy_text() + "\npermit (principal, action, resource);\n"
    ps = pb.load_policies(broad)
    empty = pb.empty_entities()
    for i, obj in enumerate(BATCH[:200]):
        call = pb.cedar_call(ENGINE.parse(obj), f"a{i}", empty=empty, actions=prohibited)
        assert not any(
            r.allowed for r in cedarpy.is_authorized_batch(call.requests, ps, call.entities)
        )
