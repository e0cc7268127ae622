"""The rules file is data, checked at load: a mistake names the rule id and the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from assistgate.audit.errors import RulesError
from assistgate.audit.rules import (
    DEFAULT_RULES,
    RULES_DIR,
    Kind,
    Record,
    default_rules,
    load_rules,
    newest_rules,
)

MINIMAL = """
id: test
version: "2026-11"
title: Test rules
effective_from: 2026-11-01
decision: {conjoined_gap: 3, tight_gap: 2, weak_factor: 0.5}
spelling: {min_length: 6, words: [IMMIGRATION]}
prefilter: {text: '(?i)\\bice\\b', call_type: '(?i)alien'}
macros: {NAME: 'ICE'}
rules:
  - id: agency.ice
    kind: agency
    weight: 0.9
    why: The agency.
    patterns: ['{NAME} AGT']
    examples: ["ICE AGT REQ"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "test-2026-11.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _with_rule(extra: str) -> str:
    return MINIMAL + extra


def test_a_minimal_rules_file_loads(tmp_path: Path) -> None:
    rs = load_rules(_write(tmp_path, MINIMAL))
    assert rs.label == "test 2026-11"
    assert [r.id for r in rs.rules] == ["agency.ice"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("kind: agency", "kind: agencyy"), "rule agency.ice: kind: expected one of agency"),
        (("weight: 0.9", "weight: 1.5"), "rule agency.ice: weight: expected a number from 0 to 1"),
        (("weight: 0.9", "weight: high"), "rule agency.ice: weight: expected a number"),
        (
            ("patterns: ['{NAME} AGT']", "patterns: ['ICE (AGT']"),
            "rule agency.ice: patterns[0]: not a valid regular expression",
        ),
        (
            ("patterns: ['{NAME} AGT']", "patterns: ['{NOPE} AGT']"),
            "rule agency.ice: patterns[0]: unknown macro {NOPE}",
        ),
        (
            ("patterns: ['{NAME} AGT']", "patterns: []"),
            "rule agency.ice: patterns: expected a non-empty list",
        ),
        (("why: The agency.", "why: ''"), "rule agency.ice: why: expected non-empty text"),
        (("id: agency.ice", "id: Agency Ice"), "rule Agency Ice: id: expected '<kind>.<name>'"),
        (
            ("    why: The agency.", "    why: The agency.\n    patern: x"),
            "rule agency.ice: patern: unknown field",
        ),
        (
            ('examples: ["ICE AGT REQ"]', 'examples: ["ICE REQ"]'),
            "rule agency.ice: examples[0]: does not match 'ICE REQ'",
        ),
        (("effective_from: 2026-11-01", "effective_from: soon"), "effective_from: expected a date"),
        (
            ("text: '(?i)\\bice\\b'", "text: '(?i)ice(?= agt)'"),
            "prefilter.text: '(?=' is not portable to RE2",
        ),
        (
            ("text: '(?i)\\bice\\b'", "text: '(?i)hsi'"),
            "rule agency.ice: examples[0]: 'ICE AGT REQ' fires the rule but the text pre-filter "
            "would drop it",
        ),
    ],
)
def test_a_mistake_in_the_file_names_the_rule_and_the_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in MINIMAL
    with pytest.raises(RulesError) as caught:
        load_rules(_write(tmp_path, MINIMAL.replace(old, new, 1)))
    assert str(caught.value).startswith("test-2026-11.yaml: ")
    assert expected in str(caught.value)


def test_two_rules_with_one_id_are_refused(tmp_path: Path) -> None:
    dup = (
        "  - id: agency.ice\n    kind: agency\n    weight: 0.5\n    why: Again.\n"
        "    patterns: [ICE]\n"
    )
    with pytest.raises(RulesError, match=r"rule agency\.ice: id: defined twice"):
        load_rules(_write(tmp_path, _with_rule(dup)))


def test_masks_are_only_for_false_friends_and_negations(tmp_path: Path) -> None:
    bad = (
        "  - id: request.x\n    kind: request\n    weight: 0.5\n    why: X.\n"
        "    patterns: [REQ]\n    masks: [agency]\n"
    )
    with pytest.raises(RulesError, match=r"rule request\.x: masks: only for false_friend"):
        load_rules(_write(tmp_path, _with_rule(bad)))


def test_a_mask_must_name_a_kind_or_a_rule(tmp_path: Path) -> None:
    bad = (
        "  - id: false-friend.x\n    kind: false_friend\n    weight: 0\n    why: X.\n"
        "    patterns: [ICE CREAM]\n    masks: [agency.nope]\n"
    )
    with pytest.raises(RulesError, match=r"rule false-friend\.x: masks: 'agency\.nope' is neither"):
        load_rules(_write(tmp_path, _with_rule(bad)))


def test_a_counter_example_that_matches_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace('examples: ["ICE AGT REQ"]', 'counter_examples: ["ICE AGT"]')
    with pytest.raises(RulesError, match=r"rule agency.ice: counter_examples\[0\]: matches"):
        load_rules(_write(tmp_path, text))


def test_a_file_that_is_not_yaml_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"test-2026-11\.yaml: not valid YAML"):
        load_rules(_write(tmp_path, "rules: [unclosed"))


SHIPPED = sorted(RULES_DIR.glob("*.yaml"))


def test_each_shipped_file_is_named_after_its_id_and_version() -> None:
    assert [p.name for p in SHIPPED] == [
        "dispatch-2026-11.yaml",
        "lpr-2026-11.yaml",
        "narrative-2026-11.yaml",
    ]
    for path in SHIPPED:
        rs = load_rules(path)
        assert path.name == f"{rs.id}-{rs.version}.yaml"
    assert newest_rules(Record.DISPATCH) == DEFAULT_RULES
    for record in Record:
        assert newest_rules(record).name.startswith(record.prefix + "-")
        assert default_rules(record).record is record


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_rule_says_why_it_exists_in_one_line(path: Path) -> None:
    for rule in load_rules(path).rules:
        assert rule.why, rule.id
        assert "\n" not in rule.why, rule.id
        assert len(rule.why) < 140, rule.id
        assert rule.id.split(".")[0].replace("-", "_") == rule.kind.value, rule.id


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_rule_that_can_decide_alone_has_examples(path: Path) -> None:
    deciding: tuple[Kind, ...] = (Kind.AGENCY, Kind.TOPIC, Kind.FALSE_FRIEND, Kind.NEGATION)
    deciding = (*deciding, Kind.PUBLIC, Kind.SIGNAL, Kind.CUE)
    for rule in load_rules(path).of_kind(*deciding):
        assert rule.examples, rule.id


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_the_shipped_pre_filters_use_only_what_re2_understands(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for text in raw["prefilter"].values():
        assert not re.search(r"\(\?[=!<P]|\\[1-9]", text)


SIGNALS_FILE = """
id: test
version: "2026-11"
record: lpr_log
category: immigration_search
title: Test rules
effective_from: 2026-11-01
decision: {weak_factor: 0.5, cues_needed: 2}
spelling: {min_length: 6, words: [IMMIGRATION]}
prefilter: {text: '(?i)\\bice\\b|hsi|target'}
rules:
  - id: signal.ice
    kind: signal
    weight: 0.9
    why: The agency.
    patterns: ['ICE']
    examples: ["ICE"]
  - id: cue.hsi
    kind: cue
    weight: 0.5
    why: A component.
    patterns: ['HSI']
    examples: ["HSI"]
"""


def test_a_signals_file_loads_without_macros_or_a_call_type_filter(tmp_path: Path) -> None:
    rs = load_rules(_write(tmp_path, SIGNALS_FILE))
    assert rs.record is Record.LPR_LOG
    assert [r.id for r in rs.rules] == ["signal.ice", "cue.hsi"]
    assert not re.search(rs.prefilter_call_type, "")  # matches nothing, not even nothing


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("record: lpr_log", "record: tweets"), "record: expected one of dispatch, lpr_log"),
        (("category: immigration_search", "category: none"), "category: expected the category"),
        (("kind: cue", "kind: agency"), "rule cue.hsi: kind: expected one of signal, cue"),
        (("cues_needed: 2", "cues_needed: 0"), "cues_needed: expected 1 or more"),
    ],
)
def test_a_signals_file_is_checked_like_a_dispatch_file(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    with pytest.raises(RulesError, match=re.escape(expected)):
        load_rules(_write(tmp_path, SIGNALS_FILE.replace(*change)))


def test_a_dispatch_file_may_not_name_one_category(tmp_path: Path) -> None:
    text = MINIMAL.replace("id: test\n", "id: test\ncategory: agency_request\n")
    with pytest.raises(RulesError, match="dispatch files decide among several categories"):
        load_rules(_write(tmp_path, text))
