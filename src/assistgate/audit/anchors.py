"""Which words a rule's every match must contain: a cheap test that skips rules that cannot match.

Most records that reach the rules hold an agency's name and little else: the request, notice,
negation and public-speech rules cannot match them, yet trying each at every word is most of
the detector's time. From a rule's compiled pattern we derive a few literal strings, one of
which every match contains (a literal run the pattern must match, or one from each branch of a
required alternation). Where none of them is in the record's words, the rule cannot match and
is not tried. The derivation is conservative: wherever a part of the pattern is not understood,
no anchor is given and the rule is always tried, so the matches found never change.

All the anchors of a rule set go into one Aho-Corasick automaton (`AnchorIndex`), which finds
every anchor present in a record in one pass in C, overlapping ones included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from re import _constants as sre  # the parser's opcodes (sre_parse is deprecated)
from re import _parser
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # a C extension without stubs

# Below this length an anchor is in nearly every record: not worth testing.
MIN_LENGTH = 3
# A required alternation of more strings than this is tested as no anchor at all.
MAX_ANCHORS = 64
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)


def anchors(pattern: re.Pattern[str]) -> tuple[str, ...]:
    """Return strings one of which every match of `pattern` contains; () if none is known."""
    if pattern.flags & re.IGNORECASE:
        return ()
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError):
        return ()
    found = _sequence(list(tree))
    if not found or min(len(a) for a in found) < MIN_LENGTH:
        return ()
    return tuple(sorted(found))


def _sequence(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    """Return the best required set of a sequence: one literal run, or one element's set."""
    options: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in items:
        if op is sre.LITERAL:
            run.append(chr(av))
            continue
        if op in _ZERO_WIDTH:
            continue  # matches no character: the literals on either side stay adjacent
        if run:
            options.append(frozenset(["".join(run)]))
            run = []
        required = _element(op, av)
        if required:
            options.append(required)
    if run:
        options.append(frozenset(["".join(run)]))
    if not options:
        return None
    return max(options, key=lambda s: (min(len(a) for a in s), -len(s)))


def _element(op: Any, av: Any) -> frozenset[str] | None:
    """Return the required set of one element of a sequence, or None if it has none."""
    if op is sre.SUBPATTERN:
        _, add_flags, _, inner = av
        if add_flags & re.IGNORECASE:
            return None  # "(?i:...)": its literals match in either case
        return _sequence(list(inner))
    if op is sre.BRANCH:
        union: set[str] = set()
        for alternative in av[1]:
            required = _sequence(list(alternative))
            if not required:
                return None
            union |= required
        return frozenset(union) if len(union) <= MAX_ANCHORS else None
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, _, inner = av
        return _sequence(list(inner)) if low >= 1 else None
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(av))
    return None


class AnchorIndex:
    """Every anchor of a rule set in one automaton: which rules may match a text, in one pass."""

    def __init__(self, anchored: Mapping[str, tuple[str, ...]]) -> None:
        """Index `anchored`, a map of rule ids to their anchors (rules without any are left out)."""
        owners: dict[str, set[str]] = {}
        for rule_id, strings in anchored.items():
            for a in strings:
                owners.setdefault(a, set()).add(rule_id)
        self._automaton: Any = None
        if owners:
            self._automaton = ahocorasick.Automaton()
            for a, ids in owners.items():
                self._automaton.add_word(a, frozenset(ids))
            self._automaton.make_automaton()

    def present(self, text: str) -> frozenset[str]:
        """Return the ids of the indexed rules one of whose anchors occurs in `text`."""
        if self._automaton is None or not text:
            return frozenset()
        found: set[str] = set()
        for _, ids in self._automaton.iter(text):
            found |= ids
        return frozenset(found)
