"""Anchors: the strings one of which every match of a rule contains, used to skip rules that
cannot match. They must never change a match: checked on every shipped rule and every text of
the corpus and evaluation sets, against the same rule tried everywhere."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import pytest

from assistgate.audit import scan as scan_module
from assistgate.audit.anchors import anchors
from assistgate.audit.detector import classify
from assistgate.audit.matching import spans
from assistgate.audit.presets import PRESETS
from assistgate.audit.rules import Category, Record, default_rules
from assistgate.audit.scan import Summary, scan
from assistgate.audit.tokens import tokenize

DATA = Path(__file__).with_name("data")
TEXTS = {
    Record.DISPATCH: [("dispatch_corpus.csv.gz", "remarks"),
                      ("dispatch_corpus.csv.gz", "call_type"), ("heldout.csv", "text")],
    Record.LPR_LOG: [("lpr_eval.csv", "reason"), ("lpr_eval_second.csv", "reason")],
    Record.INCIDENT_NARRATIVE: [("narrative_eval.csv", "narrative"),
                                ("narrative_eval_second.csv", "narrative")],
}  # fmt: skip


def _texts(record: Record) -> list[str]:
    out: list[str] = []
    for name, column in TEXTS[record]:
        path = DATA / name
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            out += [row[column] for row in csv.DictReader(f) if row.get(column)]
    return out


@pytest.mark.parametrize("record", list(Record))
def test_a_shipped_rule_never_matches_a_text_where_none_of_its_anchors_is(record: Record) -> None:
    rs = default_rules(record)
    anchored = [r for r in rs.rules if r.anchors]
    assert len(anchored) >= len(rs.rules) // 2, "most rules should have anchors"
    texts = _texts(record)
    assert len(texts) > 300
    skipped = 0
    for text in texts:
        words = tokenize(text, rs.speller)
        present = rs.anchor_index.present(words.joined)
        for rule in anchored:
            # The index says a rule is present exactly when one of its anchors is in the words.
            assert (rule.id in present) == any(a in words.joined for a in rule.anchors)
            if rule.id not in present:
                assert spans(rule, words) == [], (rule.id, text)
                skipped += 1
    # The point of anchors: most rules are never tried on most texts.
    assert skipped > len(texts) * len(anchored) // 2


def test_an_anchor_is_a_literal_run_or_one_string_from_each_branch() -> None:
    assert anchors(re.compile(r"(?<!\S)BAGS? OF ICE(?!\S)")) == (" OF ICE",)  # the longest run
    # Of the required sets, the one whose shortest string is longest.
    assert anchors(re.compile(r"(?:REQUEST|NEED|ASK) (?:UNITS?|HELP)")) == ("HELP", "UNIT")
    assert anchors(re.compile(r"REQUEST|\d+ UNITS")) == (" UNITS", "REQUEST")
    assert anchors(re.compile(r"ICE(?: AGENTS?)+")) == (" AGENT",)


def test_no_anchor_is_given_where_a_match_need_not_hold_one() -> None:
    assert anchors(re.compile(r"(?:REQ )?\w+")) == ()  # optional, then any word
    assert anchors(re.compile(r"REQUEST|\d+ U")) == ()  # one branch holds no literal of 3
    assert anchors(re.compile(r"(?i)request")) == ()  # case-folded: a literal test would miss
    assert anchors(re.compile(r"(?i:request) UNITS")) == (" UNITS",)
    assert anchors(re.compile(r"ICE|ERO|BP")) == ()  # a string too short to be worth a test


def test_repeated_inputs_are_classified_once_and_give_each_row_its_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [("P1", "ICE AGT REQ UNIT AT 4TH ST"), ("P2", "BAGS OF ICE STOLEN"),
            ("P3", "ICE AGT REQ UNIT AT 4TH ST"), ("P4", "HSI SA NEEDS 10-78"),
            ("P5", "BAGS OF ICE STOLEN")]  # fmt: skip
    path = tmp_path / "calls.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("incident_number", "call_type", "remarks"))
        writer.writerows((i, "ASSIST OTHER AGENCY", text) for i, text in rows)
    seen: list[str | None] = []

    def counting(text: str | None, call_type: str | None = None, **kw: object) -> object:
        seen.append(text)
        return classify(text, call_type, rules=default_rules())

    monkeypatch.setattr(scan_module, "classify", counting)
    summary = Summary()
    flagged = list(scan([path], PRESETS["internal"].plan, keep=lambda _: True, summary=summary))
    assert sorted(seen, key=str) == sorted({t for _, t in rows})
    assert [f.id for f in flagged if f.category is Category.AGENCY_REQUEST] == ["P1", "P3", "P4"]
    assert summary.candidates == 5
