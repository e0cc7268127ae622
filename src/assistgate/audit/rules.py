"""The detector's rules as data: a dated YAML file of patterns, each with an id, a kind and a why.

Layout: `rules/<id>-<version>.yaml`. A changed rule is a new dated file, never an edit of a
published one, so that a past audit can be reproduced with the rules it used. The format is
described in the file itself and in docs/AUDIT.md; `load_rules` refuses anything else, naming
the rule id and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml

from assistgate.audit.errors import RulesError
from assistgate.audit.tokens import Speller, Words, tokenize

RULES_DIR = Path(__file__).with_name("rules")
# The newest dated version is the default; older ones stay so past audits can be repeated.
DEFAULT_RULES = sorted(RULES_DIR.glob("dispatch-*.yaml"))[-1]

_RULE_ID = re.compile(r"^[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+$")
_MACRO = re.compile(r"\{([A-Z][A-Z_]*)\}")
# The pre-filter also runs inside DuckDB (RE2) and later Spark (Java): no look-around there.
_NOT_PORTABLE = ("(?=", "(?!", "(?<=", "(?<!", "\\1", "(?P")


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


class Category(StrEnum):
    """What a call is, as far as immigration agencies go."""

    AGENCY_REQUEST = "agency_request"
    AGENCY_NOTIFICATION = "agency_notification"
    PUBLIC_MENTIONS_IMMIGRATION = "public_mentions_immigration"
    NONE = "none"


MASKING_KINDS = (Kind.FALSE_FRIEND, Kind.NEGATION)
_DEFAULT_MASKS = {
    Kind.FALSE_FRIEND: (Kind.AGENCY.value, Kind.TOPIC.value, Kind.PUBLIC.value),
    Kind.NEGATION: (Kind.REQUEST.value,),
}
_KEYS = {
    "id",
    "kind",
    "weight",
    "why",
    "patterns",
    "masks",
    "scope",
    "beats_request",
    "needs_mention",
    "suggests",
    "examples",
    "counter_examples",
    "within_clause",
}


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


@dataclass(frozen=True, slots=True)
class Decision:
    """Numbers the decision uses, kept with the rules so a change is a new dated version."""

    conjoined_gap: int
    tight_gap: int
    weak_factor: float


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
    _kind_cache: dict[tuple[Kind, ...], tuple[Rule, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def of_kind(self, *kinds: Kind) -> tuple[Rule, ...]:
        """Return the rules of the given kinds, in file order."""
        return self._by_kinds(kinds)

    @cached_property
    def text_gate(self) -> re.Pattern[str]:
        """One regex that matches wherever any rule able to decide alone might match the text."""
        deciding = self.of_kind(Kind.AGENCY, Kind.TOPIC, Kind.PUBLIC)
        return re.compile("|".join(f"(?:{r.regex.pattern})" for r in deciding))

    def _by_kinds(self, kinds: tuple[Kind, ...]) -> tuple[Rule, ...]:
        cached = self._kind_cache.get(kinds)
        if cached is None:
            cached = self._kind_cache[kinds] = tuple(r for r in self.rules if r.kind in kinds)
        return cached

    @property
    def label(self) -> str:
        return f"{self.id} {self.version}"


@cache
def default_rules() -> RuleSet:
    """Load the rules shipped with the package (once per process)."""
    return load_rules(DEFAULT_RULES)


def load_rules(path: Path) -> RuleSet:
    """Load and check one rules file; a `RulesError` names the rule id and the field."""
    src = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(src, "", "", f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(src, "", "", f"not valid YAML: {exc}") from exc
    top = _Fields(raw, src, "")
    macros = _macros(top.mapping("macros"), src)
    spelling = _Fields(top.get("spelling"), src, "")
    speller = Speller(spelling.words("words", "spelling.words"), spelling.integer("min_length"))
    decision = _Fields(top.get("decision"), src, "")
    prefilter = _Fields(top.get("prefilter"), src, "")

    rules: list[Rule] = []
    seen: set[str] = set()
    for i, entry in enumerate(top.items("rules")):
        rule = _rule(entry, src, i, macros)
        if rule.id in seen:
            raise RulesError(src, rule.id, "id", "defined twice")
        seen.add(rule.id)
        rules.append(rule)
    kinds = {k.value for k in Kind}
    for rule in rules:
        for target in rule.masks:
            if target not in kinds and target not in seen:
                raise RulesError(src, rule.id, "masks", f"{target!r} is neither a kind nor a rule")

    ruleset = RuleSet(
        id=top.string("id"),
        version=str(top.get("version")),
        title=top.string("title"),
        effective_from=top.date("effective_from"),
        source=src,
        decision=Decision(
            conjoined_gap=decision.integer("conjoined_gap"),
            tight_gap=decision.integer("tight_gap"),
            weak_factor=decision.number("weak_factor"),
        ),
        speller=speller,
        prefilter_text=_portable_regex(prefilter.string("text"), src, "prefilter.text"),
        prefilter_call_type=_portable_regex(
            prefilter.string("call_type"), src, "prefilter.call_type"
        ),
        rules=tuple(rules),
    )
    _check_examples(ruleset)
    return ruleset


def _rule(raw: Any, src: str, index: int, macros: dict[str, str]) -> Rule:
    f = _Fields(raw, src, f"rules[{index}]")
    rule_id = f.string("id")
    if not _RULE_ID.match(rule_id):
        raise RulesError(src, rule_id, "id", "expected '<kind>.<name>' in lowercase, digits, '-'")
    f.rule = rule_id
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise RulesError(src, rule_id, unknown[0], "unknown field")
    try:
        kind = Kind(f.string("kind"))
    except ValueError:
        raise RulesError(
            src, rule_id, "kind", f"expected one of {', '.join(k.value for k in Kind)}"
        ) from None
    weight = f.number("weight")
    if not 0.0 <= weight <= 1.0:
        raise RulesError(src, rule_id, "weight", "expected a number from 0 to 1")
    why = f.string("why")
    if "\n" in why.strip():
        raise RulesError(src, rule_id, "why", "expected one line")
    patterns = tuple(f.words("patterns", "patterns"))
    expanded = []
    for j, p in enumerate(patterns):
        text = _expand(p, macros, src, rule_id, f"patterns[{j}]")
        try:
            re.compile(text)
        except re.error as exc:
            raise RulesError(
                src, rule_id, f"patterns[{j}]", f"not a valid regular expression: {exc}"
            ) from None
        expanded.append(f"(?:{text})")
    # Anchor on word boundaries of the joined words: a match starts and ends on whole words.
    regex = re.compile(r"(?<!\S)(?:" + "|".join(expanded) + r")(?!\S)")

    extra: dict[str, Any] = {}
    if kind in MASKING_KINDS:
        extra["masks"] = (
            tuple(f.words("masks", "masks")) if "masks" in raw else _DEFAULT_MASKS[kind]
        )
        scope = f.string("scope") if "scope" in raw else "overlap"
        if scope not in ("overlap", "record"):
            raise RulesError(src, rule_id, "scope", "expected 'overlap' or 'record'")
        extra["scope"] = scope
    else:
        for key in ("masks", "scope"):
            if key in raw:
                raise RulesError(src, rule_id, key, f"only for {', '.join(MASKING_KINDS)} rules")
    if kind is Kind.PUBLIC:
        extra["beats_request"] = f.boolean("beats_request")
        extra["needs_mention"] = f.boolean("needs_mention")
    if kind is Kind.CALL_TYPE:
        try:
            extra["suggests"] = Category(f.string("suggests"))
        except ValueError:
            raise RulesError(
                src, rule_id, "suggests", f"expected one of {', '.join(c.value for c in Category)}"
            ) from None
    extra["within_clause"] = f.boolean("within_clause")
    return Rule(
        id=rule_id,
        kind=kind,
        weight=weight,
        why=" ".join(why.split()),
        patterns=patterns,
        regex=regex,
        examples=tuple(f.words("examples", "examples")) if "examples" in raw else (),
        counter_examples=(
            tuple(f.words("counter_examples", "counter_examples"))
            if "counter_examples" in raw
            else ()
        ),
        **extra,
    )


def _macros(raw: dict[str, Any], src: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Z][A-Z_]*", name):
            raise RulesError(src, "", f"macros.{name}", "expected an UPPER_CASE name")
        if not isinstance(value, str) or not value.strip():
            raise RulesError(src, "", f"macros.{name}", "expected a non-empty pattern")
        out[name] = value.strip()
    return out


def _expand(pattern: str, macros: dict[str, str], src: str, rule: str, field: str) -> str:
    """Replace `{NAME}` by `(?:<macro NAME>)`, macros within macros included."""
    text = pattern.strip()
    for _ in range(6):
        names = _MACRO.findall(text)
        if not names:
            return text
        for name in names:
            if name not in macros:
                raise RulesError(src, rule, field, f"unknown macro {{{name}}}")
        text = _MACRO.sub(lambda m: f"(?:{macros[m.group(1)]})", text)
    raise RulesError(src, rule, field, "macros nest more than five deep (a cycle?)")


def _portable_regex(text: str, src: str, field: str) -> str:
    for bad in _NOT_PORTABLE:
        if bad in text:
            raise RulesError(src, "", field, f"{bad!r} is not portable to RE2 (DuckDB, Spark)")
    try:
        re.compile(text)
    except re.error as exc:
        raise RulesError(src, "", field, f"not a valid regular expression: {exc}") from None
    return text


def _check_examples(rs: RuleSet) -> None:
    """Each example must fire its rule; each counter-example must not; agency words pre-filter."""
    prefilter = {
        "text": re.compile(rs.prefilter_text),
        "call_type": re.compile(rs.prefilter_call_type),
    }
    for rule in rs.rules:
        field = "call_type" if rule.kind is Kind.CALL_TYPE else "text"
        for j, example in enumerate(rule.examples):
            if not spans(rule, tokenize(example, rs.speller)):
                raise RulesError(
                    rs.source, rule.id, f"examples[{j}]", f"does not match {example!r}"
                )
            if _decisive(rule) and not prefilter[field].search(example):
                raise RulesError(
                    rs.source,
                    rule.id,
                    f"examples[{j}]",
                    f"{example!r} fires the rule but the {field} pre-filter would drop it",
                )
        for j, example in enumerate(rule.counter_examples):
            if spans(rule, tokenize(example, rs.speller)):
                raise RulesError(
                    rs.source, rule.id, f"counter_examples[{j}]", f"matches {example!r}"
                )


def spans(rule: Rule, words: Words) -> list[tuple[int, int]]:
    """Return the first and last token of each place `rule` matches `words`."""
    found = []
    for start, end in words.clauses() if rule.within_clause else ((0, len(words.joined)),):
        for m in rule.regex.finditer(words.joined, start, end):
            if m.end() > m.start():
                found.append(words.token_span(m.start(), m.end()))
    return found


def _decisive(rule: Rule) -> bool:
    """Say whether this rule alone can make a call more than `none` (so must pass the filter)."""
    if rule.kind is Kind.PUBLIC:
        return not rule.needs_mention
    return rule.kind in (Kind.AGENCY, Kind.TOPIC, Kind.CALL_TYPE)


class _Fields:
    """Typed access to one mapping of the rules file, with errors that name the rule."""

    def __init__(self, raw: Any, src: str, path: str) -> None:
        if not isinstance(raw, dict):
            raise RulesError(src, "", path, "expected a mapping")
        self.raw, self.src, self.path, self.rule = raw, src, path, ""

    def _err(self, key: str, message: str) -> RulesError:
        field = key if self.rule or not self.path else f"{self.path}.{key}"
        return RulesError(self.src, self.rule, field, message)

    def get(self, key: str) -> Any:
        if key not in self.raw:
            raise self._err(key, "missing")
        return self.raw[key]

    def string(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self._err(key, "expected non-empty text")
        return value.strip()

    def number(self, key: str) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._err(key, "expected a number")
        return float(value)

    def integer(self, key: str) -> int:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._err(key, "expected a whole number, 0 or more")
        return value

    def boolean(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            raise self._err(key, "expected true or false")
        return value

    def date(self, key: str) -> dt.date:
        value = self.get(key)
        if type(value) is not dt.date:
            raise self._err(key, "expected a date written YYYY-MM-DD")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.get(key)
        if not isinstance(value, dict):
            raise self._err(key, "expected a mapping")
        return value

    def items(self, key: str) -> list[Any]:
        value = self.get(key)
        if not isinstance(value, list) or not value:
            raise self._err(key, "expected a non-empty list")
        return value

    def words(self, key: str, label: str) -> list[str]:
        value = self.items(key)
        for j, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self._err(f"{label}[{j}]", "expected non-empty text")
        return [str(v) for v in value]
