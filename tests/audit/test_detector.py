"""The detector core: pure, explainable, quoting its evidence, and never missed by the filter."""

from __future__ import annotations

import ast
import csv
import gzip
import re
import subprocess
import sys
from pathlib import Path

import pytest

import assistgate.audit
from assistgate.audit.detector import analyse, classify, explain
from assistgate.audit.rules import KINDS, Category, Record, default_rules

DATA = Path(__file__).with_name("data")
AUDIT_DIR = Path(assistgate.audit.__file__).parent
PURE_MODULES = ("detector.py", "rules.py", "tokens.py", "errors.py", "evaluate.py")


def _corpus() -> list[dict[str, str]]:
    with gzip.open(DATA / "dispatch_corpus.csv.gz", "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_evidence_is_always_quoted_word_for_word_from_the_record() -> None:
    for row in _corpus()[:6000]:
        f = classify(row["remarks"], row["call_type"])
        for quote in f.evidence:
            assert quote in row["remarks"] or quote in row["call_type"], (quote, row)


def test_the_quick_path_decides_exactly_as_the_full_analysis() -> None:
    for row in _corpus()[:8000]:
        quick = classify(row["remarks"], row["call_type"])
        full = analyse(row["remarks"], row["call_type"]).finding
        assert (quick.category, quick.score, quick.evidence) == (
            full.category,
            full.score,
            full.evidence,
        ), row
        if quick.category is not Category.NONE:
            assert quick.rules == full.rules


def test_scores_stay_between_zero_and_one_and_none_without_evidence_scores_zero() -> None:
    for row in _corpus()[:3000]:
        f = classify(row["remarks"], row["call_type"])
        assert 0.0 <= f.score <= 1.0
        if f.category is Category.NONE and not f.evidence:
            assert f.score == 0.0


def test_mixed_case_and_upper_case_remarks_get_the_same_category() -> None:
    upper = classify("ICE AGENT NEEDS A UNIT FOR A TRAFFIC STOP")
    mixed = classify("Ice agent needs a unit for a traffic stop")
    assert upper.category is mixed.category is Category.AGENCY_REQUEST
    assert mixed.evidence == ("Ice agent needs a unit",)


def test_an_empty_or_missing_text_is_nothing() -> None:
    assert classify("").category is Category.NONE
    assert classify(None).category is Category.NONE
    assert classify("   ", "  ").category is Category.NONE


def test_a_false_friend_masks_only_the_words_it_covers() -> None:
    f = classify("ICE ON BRIDGE CLEARED. ICE AGT REQ UNIT FOR STOP AT 9TH")
    assert f.category is Category.AGENCY_REQUEST
    assert "ICE AGT REQ UNIT" in f.evidence


def test_the_analysis_says_which_rule_explained_an_agency_word_away() -> None:
    a = analyse("SUBJ WITH ICE AND HEROIN IN CAR")
    masked = [h for h in a.hits if h.masked_by]
    assert [(h.rule.id, h.masked_by) for h in masked] == [
        ("agency.ice-after-word", "false-friend.drug-or-weather-context")
    ]
    assert a.finding.category is Category.NONE
    assert '"WITH ICE" explained away' in a.reason


def test_explain_lists_every_rule_with_fired_or_not_found_and_the_decision() -> None:
    text = explain("ICE ADVISING OF OPERATION IN AREA, NO ASSIST NEEDED")
    for rule in default_rules().rules:
        assert rule.id in text
    assert "[fired]  agency.ice-acting" in text
    assert "[masked] request.help-words" in text
    assert "[ -- ]   public.scam: not found" in text
    assert "Decision: agency_notification" in text
    assert 'Evidence: "ICE ADVISING"' in text


def test_explain_shows_the_call_type_it_was_given() -> None:
    text = explain("", "ALIEN")
    assert 'Call type: "ALIEN"' in text
    assert "Decision: agency_request" in text


def test_every_call_the_detector_flags_passes_the_vectorised_pre_filter() -> None:
    rs = default_rules()
    text_filter, type_filter = re.compile(rs.prefilter_text), re.compile(rs.prefilter_call_type)
    rows = [(r["remarks"], r["call_type"]) for r in _corpus()]
    with (DATA / "heldout.csv").open(encoding="utf-8", newline="") as f:
        rows += [(r["text"], r["call_type"]) for r in csv.DictReader(f)]
    missed = [
        (text, ctype)
        for text, ctype in rows
        if classify(text, ctype).category is not Category.NONE
        and not (text_filter.search(text) or type_filter.search(ctype))
    ]
    assert missed == []


@pytest.mark.parametrize(
    "word",
    ["IMMIGRATION", "HOMELAND SECURITY", "BORDER PATROL", "CUSTOMS AND BORDER PROTECTION"],
)
def test_one_edit_misspellings_of_agency_names_that_the_rules_read_also_pass_the_filter(
    word: str,
) -> None:
    rs = default_rules()
    text_filter = re.compile(rs.prefilter_text)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    variants = set()
    for i in range(len(word) + 1):
        variants.add(word[:i] + word[i + 1 :])
        variants.update(word[:i] + c + word[i + 1 :] for c in letters)
        variants.update(word[:i] + c + word[i:] for c in letters)
        if i + 1 < len(word):
            variants.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    for v in sorted(variants):
        text = f"{v} AGENT REQ 2 UNITS"
        if classify(text).category is not Category.NONE:
            assert text_filter.search(text), text


@pytest.mark.parametrize("record", list(Record))
def test_rules_of_every_kind_a_record_allows_are_shipped(record: Record) -> None:
    assert {r.kind for r in default_rules(record).rules} == set(KINDS[record])


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", PURE_MODULES)
def test_the_detector_core_imports_only_the_standard_library_yaml_and_itself(module: str) -> None:
    bad = {
        m
        for m in _imported_roots(AUDIT_DIR / module)
        if m not in sys.stdlib_module_names and m not in {"yaml", "assistgate"}
    }
    assert bad == set()


def test_classifying_a_call_loads_no_duckdb_click_or_web_framework() -> None:
    code = (
        "import sys\n"
        "from assistgate.audit.detector import classify\n"
        "classify('ICE AGT REQ UNIT', 'ALIEN')\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    roots = {m.split(".")[0] for m in loaded}
    assert roots & {"duckdb", "click", "fastapi", "sqlalchemy", "pyarrow"} == set()
