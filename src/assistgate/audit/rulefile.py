"""Read and check a rules file (YAML): every field typed, every pattern compiled and anchored.

A `RulesError` names the file, the rule id and the field at fault. Each rule's examples must
fire it and its counter-examples must not; an example of a rule able to decide alone must pass
the pre-filter, so that the fast SQL pass never drops what the rules would flag.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from assistgate.audit.anchors import anchors
from assistgate.audit.errors import RulesError
from assistgate.audit.matching import spans
from assistgate.audit.rules import (
    DECIDING,
    KINDS,
    MASKINGKINDS,
    NOTHING_MATCHES,
    Category,
    Decision,
    Kind,
    Record,
    Rule,
    RuleSet,
)
from assistgate.audit.tokens import Speller, tokenize

_RULE_ID = re.compile(r"^[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+$")
_MACRO = re.compile(r"\{([A-Z][A-Z_]*)\}")
# The pre-filter also runs inside DuckDB (RE2) and later Spark (Java): no look-around there.
_NOT_PORTABLE = ("(?=", "(?!", "(?<=", "(?<!", "\\1", "(?P")


_DEFAULT_MASKS = {
    Kind.FALSE_FRIEND: (Kind.AGENCY.value, Kind.TOPIC.value, Kind.PUBLIC.value),
    Kind.NEGATION: (Kind.REQUEST.value,),
}
_DEFAULT_SIGNAL_MASKS = (Kind.SIGNAL.value, Kind.CUE.value)
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


def read_rules(path: Path) -> RuleSet:
    """Load and check one rules file; a `RulesError` names the rule id and the field."""
    src = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(src, "", "", f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(src, "", "", f"not valid YAML: {exc}") from exc
    top = _Fields(raw, src, "")
    record = _record(top, src)
    macros = _macros(top.mapping("macros"), src) if "macros" in top.raw else {}
    spelling = _Fields(top.get("spelling"), src, "")
    speller = Speller(spelling.words("words", "spelling.words"), spelling.integer("min_length"))
    decision = _Fields(top.get("decision"), src, "")
    prefilter = _Fields(top.get("prefilter"), src, "")

    rules: list[Rule] = []
    seen: set[str] = set()
    for i, entry in enumerate(top.items("rules")):
        rule = _rule(entry, src, i, macros, record)
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
        decision=_decision(decision, record),
        speller=speller,
        prefilter_text=_portable_regex(prefilter.string("text"), src, "prefilter.text"),
        prefilter_call_type=_portable_regex(
            prefilter.string("call_type")
            if record is Record.DISPATCH or "call_type" in prefilter.raw
            else NOTHING_MATCHES,
            src,
            "prefilter.call_type",
        ),
        rules=tuple(rules),
        record=record,
        category=_category(top, record, src),
    )
    _check_examples(ruleset)
    return ruleset


def _record(top: _Fields, src: str) -> Record:
    if "record" not in top.raw:
        return Record.DISPATCH  # files written before other records were read
    try:
        return Record(top.string("record"))
    except ValueError:
        raise RulesError(
            src, "", "record", f"expected one of {', '.join(r.value for r in Record)}"
        ) from None


def _category(top: _Fields, record: Record, src: str) -> Category:
    """Return the category a signals file flags; dispatch files decide among several."""
    if record is Record.DISPATCH:
        if "category" in top.raw:
            raise RulesError(src, "", "category", "dispatch files decide among several categories")
        return Category.AGENCY_REQUEST
    try:
        category = Category(top.string("category"))
    except ValueError:
        category = Category.NONE
    dispatch_only = (Category.AGENCY_NOTIFICATION, Category.PUBLIC_MENTIONS_IMMIGRATION)
    if category is Category.NONE or category in dispatch_only:
        raise RulesError(src, "", "category", "expected the category this record's signals flag")
    return category


def _decision(d: _Fields, record: Record) -> Decision:
    if record is Record.DISPATCH:
        return Decision(
            conjoined_gap=d.integer("conjoined_gap"),
            tight_gap=d.integer("tight_gap"),
            weak_factor=d.number("weak_factor"),
        )
    cues = d.integer("cues_needed")
    if cues < 1:
        raise d._err("cues_needed", "expected 1 or more")
    return Decision(0, 0, d.number("weak_factor"), cues)


def _rule(raw: Any, src: str, index: int, macros: dict[str, str], record: Record) -> Rule:
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
        if kind not in KINDS[record]:
            raise ValueError(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in KINDS[record])
        raise RulesError(
            src, rule_id, "kind", f"expected one of {allowed} (in a {record.value} file)"
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
    if kind in MASKINGKINDS:
        default = _DEFAULT_MASKS[kind] if record is Record.DISPATCH else _DEFAULT_SIGNAL_MASKS
        extra["masks"] = tuple(f.words("masks", "masks")) if "masks" in raw else default
        scope = f.string("scope") if "scope" in raw else "overlap"
        if scope not in ("overlap", "record"):
            raise RulesError(src, rule_id, "scope", "expected 'overlap' or 'record'")
        extra["scope"] = scope
    else:
        for key in ("masks", "scope"):
            if key in raw:
                raise RulesError(src, rule_id, key, f"only for {', '.join(MASKINGKINDS)} rules")
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
        anchors=anchors(regex),
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
            if _decisive(rule, rs.record) and not prefilter[field].search(example):
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


def _decisive(rule: Rule, record: Record) -> bool:
    """Say whether this rule alone can make a call more than `none` (so must pass the filter)."""
    if rule.kind is Kind.PUBLIC:
        return not rule.needs_mention
    return rule.kind in DECIDING[record]


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
