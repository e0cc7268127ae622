"""The detector's rules as data: a dated YAML file of patterns, each with an id, a kind and a why.

Layout: `rules/<id>-<version>.yaml`. A changed rule is a new dated file, never an edit of a
published one, so that a past audit can be reproduced with the rules it used. The format is
described in the file itself and in docs/AUDIT.md; `load_rules` refuses anything else, naming
the rule id and the field.

Each file reads one kind of record (`record:`): dispatch calls (the default, for files that
predate the field), licence-plate reader search logs, or incident report narratives. Dispatch
files use the agency/request kinds; the others use signals and cues, and name the one category
that their signals point to.

This module holds the model (kinds, categories, rules, rule sets); `rulefile` reads and checks
the YAML files, and `matching` finds where a rule matches a record's words.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path

from assistgate.audit.anchors import AnchorIndex
from assistgate.audit.tokens import Speller

RULES_DIR = Path(__file__).with_name("rules")


class Record(StrEnum):
    """The kinds of record a rules file can read, each with its own file prefix."""

    DISPATCH = "dispatch"
    LPR_LOG = "lpr_log"
    INCIDENT_NARRATIVE = "incident_narrative"

    @property
    def prefix(self) -> str:
        return {"dispatch": "dispatch", "lpr_log": "lpr", "incident_narrative": "narrative"}[
            self.value
        ]


def newest_rules(record: Record) -> Path:
    """Return the newest dated rules file for `record` (older ones stay, to repeat past audits)."""
    return sorted(RULES_DIR.glob(f"{record.prefix}-[0-9]*.yaml"))[-1]


DEFAULT_RULES = newest_rules(Record.DISPATCH)


class Kind(StrEnum):
    """What a rule recognises; the decision combines kinds, never individual rules."""

    AGENCY = "agency"
    OTHER_AGENCY = "other_agency"
    TOPIC = "topic"
    FALSE_FRIEND = "false_friend"
    REQUEST = "request"
    NEGATION = "negation"
    NOTIFICATION = "notification"
    PUBLIC = "public"
    CALL_TYPE = "call_type"
    SIGNAL = "signal"
    CUE = "cue"


class Category(StrEnum):
    """What a call is, as far as immigration agencies go."""

    AGENCY_REQUEST = "agency_request"
    AGENCY_NOTIFICATION = "agency_notification"
    PUBLIC_MENTIONS_IMMIGRATION = "public_mentions_immigration"
    IMMIGRATION_SEARCH = "immigration_search"
    STATUS_INQUIRY = "status_inquiry"
    NONE = "none"


MASKINGKINDS = (Kind.FALSE_FRIEND, Kind.NEGATION)
SIGNALKINDS = (Kind.SIGNAL, Kind.CUE, Kind.FALSE_FRIEND, Kind.NEGATION)
KINDS = {
    Record.DISPATCH: tuple(k for k in Kind if k not in (Kind.SIGNAL, Kind.CUE)),
    Record.LPR_LOG: SIGNALKINDS,
    Record.INCIDENT_NARRATIVE: SIGNALKINDS,
}
# The kinds that can make a record more than `none` on their own; the rest only qualify them.
DECIDING = {
    Record.DISPATCH: (Kind.AGENCY, Kind.TOPIC, Kind.PUBLIC, Kind.CALL_TYPE),
    Record.LPR_LOG: (Kind.SIGNAL, Kind.CUE),
    Record.INCIDENT_NARRATIVE: (Kind.SIGNAL, Kind.CUE),
}
# Matches nothing, in Python, RE2 and Java: the call-type filter of records without call types.
NOTHING_MATCHES = r"[^\s\S]"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: the words it looks for and what finding them means."""

    id: str
    kind: Kind
    weight: float
    why: str
    patterns: tuple[str, ...]
    regex: re.Pattern[str]
    masks: tuple[str, ...] = ()
    scope: str = "overlap"
    beats_request: bool = False
    needs_mention: bool = False
    suggests: Category = Category.NONE
    within_clause: bool = False
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()
    # Strings one of which every match contains (see `anchors`); () when none is known.
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """Numbers the decision uses, kept with the rules so a change is a new dated version."""

    conjoined_gap: int
    tight_gap: int
    weak_factor: float
    cues_needed: int = 2


@dataclass(frozen=True)
class RuleSet:
    """A loaded, checked rules file."""

    id: str
    version: str
    title: str
    effective_from: dt.date
    source: str
    decision: Decision
    speller: Speller
    prefilter_text: str
    prefilter_call_type: str
    rules: tuple[Rule, ...]
    record: Record = Record.DISPATCH
    category: Category = Category.AGENCY_REQUEST
    _kind_cache: dict[tuple[Kind, ...], tuple[Rule, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def of_kind(self, *kinds: Kind) -> tuple[Rule, ...]:
        """Return the rules of the given kinds, in file order."""
        return self._by_kinds(kinds)

    @cached_property
    def text_gate(self) -> re.Pattern[str]:
        """One regex that matches wherever any rule able to decide alone might match the text."""
        deciding = self.of_kind(*(k for k in DECIDING[self.record] if k is not Kind.CALL_TYPE))
        return re.compile("|".join(f"(?:{r.regex.pattern})" for r in deciding))

    @cached_property
    def anchor_index(self) -> AnchorIndex:
        """Return the automaton that tells which anchored rules may match a text."""
        return AnchorIndex({r.id: r.anchors for r in self.rules if r.anchors})

    @cached_property
    def order(self) -> dict[str, int]:
        """Return each rule's place in the file (hits are kept in file order)."""
        return {rule.id: i for i, rule in enumerate(self.rules)}

    def _by_kinds(self, kinds: tuple[Kind, ...]) -> tuple[Rule, ...]:
        cached = self._kind_cache.get(kinds)
        if cached is None:
            cached = self._kind_cache[kinds] = tuple(r for r in self.rules if r.kind in kinds)
        return cached

    @property
    def label(self) -> str:
        return f"{self.id} {self.version}"


@cache
def default_rules(record: Record = Record.DISPATCH) -> RuleSet:
    """Load the newest rules shipped with the package for `record` (once per process)."""
    return load_rules(newest_rules(record))


def load_rules(path: Path) -> RuleSet:
    """Load and check one rules file; a `RulesError` names the rule id and the field."""
    # Imported here: the reader builds the classes defined above.
    from assistgate.audit.rulefile import read_rules

    return read_rules(path)
