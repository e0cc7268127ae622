"""Every clause of every profile is implemented by a rule or marked 'not formalised: <why>'."""

from __future__ import annotations

import pytest

from assistgate.policy import Profile, default_registry

VERSIONS = default_registry().all_versions()


@pytest.mark.parametrize("profile", VERSIONS, ids=[f"{p.id}@{p.version}" for p in VERSIONS])
def test_every_clause_is_implemented_or_marked_not_formalised(profile: Profile) -> None:
    cited = profile.cited_clauses()
    orphans = [
        cid for cid, c in profile.clauses.items() if cid not in cited and not c.not_formalised
    ]
    assert orphans == [], f"clauses with no rule and no 'not formalised' reason: {orphans}"


@pytest.mark.parametrize("profile", VERSIONS, ids=[f"{p.id}@{p.version}" for p in VERSIONS])
def test_every_profile_cites_an_official_source_and_every_action(profile: Profile) -> None:
    assert any(s.official for s in profile.sources), "no official source"
    assert all(s.url.startswith("https://") or s.url.startswith("http://") for s in profile.sources)
    from assistgate.policy.facts import ACTIONS

    assert set(profile.action_rules) == set(ACTIONS)


def test_the_shipped_profiles_include_the_two_louisville_instruments_and_two_more() -> None:
    ids = default_registry().ids
    assert {"louisville-lmpd-2017", "louisville-ordinance-2017"} <= ids
    assert len(ids) >= 4
