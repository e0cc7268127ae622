"""A malformed profile is refused at load time, naming the file and the field."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistgate.policy import PolicyEngine, ProfileError
from assistgate.policy.profiles import PROFILE_DIR, load_registry

LMPD = PROFILE_DIR / "louisville-lmpd-2017" / "2017-09-22.yaml"


def _base() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(LMPD.read_text(encoding="utf-8"))
    return data


def _write(root: Path, data: dict[str, Any], name: str | None = None) -> None:
    folder = root / data["id"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name or data['version']}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def _load_error(tmp_path: Path, data: dict[str, Any]) -> str:
    _write(tmp_path, data)
    with pytest.raises(ProfileError) as caught:
        load_registry(tmp_path)
    return str(caught.value)


def test_the_unchanged_profile_loads(tmp_path: Path) -> None:
    _write(tmp_path, _base())
    assert load_registry(tmp_path).ids == {"louisville-lmpd-2017"}


def test_a_misspelt_fact_in_a_ground_is_refused(tmp_path: Path) -> None:
    data = _base()
    data["grounds"][0]["when"]["all"][0] = {"warrant.knd": "judicial_criminal"}
    message = _load_error(tmp_path, data)
    assert "louisville-lmpd-2017/2017-09-22.yaml: grounds[0].when.all[0].warrant.knd" in message
    assert "unknown fact" in message


def test_a_value_the_fact_cannot_take_is_refused(tmp_path: Path) -> None:
    data = _base()
    data["grounds"][1]["when"]["all"][0] = {"crime.status": ["occured"]}
    assert "'occured' is not a value of crime.status" in _load_error(tmp_path, data)


def test_a_rule_citing_an_unknown_clause_is_refused(tmp_path: Path) -> None:
    data = _base()
    data["grounds"][2]["clause"] = "lmpd.no-such-clause"
    assert "grounds[2].clause: unknown clause 'lmpd.no-such-clause'" in _load_error(tmp_path, data)


def test_an_action_without_a_rule_is_refused(tmp_path: Path) -> None:
    data = _base()
    data["actions"]["always_prohibited"][0]["actions"].remove("interpreter")
    assert "every action needs a rule; none for interpreter" in _load_error(tmp_path, data)


def test_an_action_with_two_rules_is_refused(tmp_path: Path) -> None:
    data = _base()
    data["actions"]["always_prohibited"][0]["actions"].append("backup")
    assert "action backup has two rules" in _load_error(tmp_path, data)


def test_a_rule_may_not_cite_a_clause_marked_not_formalised(tmp_path: Path) -> None:
    data = _base()
    data["required"][0]["clause"] = "lmpd.metrosafe-routing"
    assert "marked not formalised but a rule cites it" in _load_error(tmp_path, data)


def test_a_file_whose_name_does_not_match_its_version_is_refused(tmp_path: Path) -> None:
    data = _base()
    _write(tmp_path, data, name="2017-09-23")
    with pytest.raises(ProfileError, match=r"must be at louisville-lmpd-2017/2017-09-22\.yaml"):
        load_registry(tmp_path)


def test_a_new_dated_version_closes_the_previous_one_the_day_before(tmp_path: Path) -> None:
    old = _base()
    new = copy.deepcopy(old)
    new["version"] = "2020-01-01"
    new["effective_from"] = dt.date(2020, 1, 1)
    new["actions"]["always_prohibited"][0]["actions"].remove("interpreter")
    new["actions"]["need_ground"][3]["actions"].append("interpreter")
    _write(tmp_path, old)
    _write(tmp_path, new)
    registry = load_registry(tmp_path)
    first, second = registry.versions("louisville-lmpd-2017")
    assert first.effective_to == dt.date(2019, 12, 31)
    assert second.effective_to is None
    engine = PolicyEngine(registry=registry)
    facts = {"requested_actions": ["interpreter"], "crime": {"status": "occurring"}}
    before = engine.evaluate_json({**facts, "date": "2019-12-31"})
    after = engine.evaluate_json({**facts, "date": "2020-01-01"})
    assert (before["profile_version"], before["prohibited_actions"]) == (
        "2017-09-22",
        ["interpreter"],
    )
    assert (after["profile_version"], after["permitted_actions"]) == ("2020-01-01", ["interpreter"])


def test_an_explicit_end_that_overlaps_the_next_version_is_refused(tmp_path: Path) -> None:
    old = _base()
    old["effective_to"] = dt.date(2020, 6, 1)
    new = copy.deepcopy(_base())
    new["version"] = "2020-01-01"
    new["effective_from"] = dt.date(2020, 1, 1)
    _write(tmp_path, old)
    _write(tmp_path, new)
    with pytest.raises(ProfileError, match="effective_to: overlaps the next version"):
        load_registry(tmp_path)


def test_a_profile_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "2020-01-01.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"broken/2020-01-01.yaml: not valid YAML"):
        load_registry(tmp_path)
