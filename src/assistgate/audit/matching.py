"""Find where a rule matches a record's words (pure).

Every rule's pattern is anchored on whole words, so a match can only start where a word starts.
"""

from __future__ import annotations

from bisect import bisect_left

from assistgate.audit.rules import Rule, RuleSet
from assistgate.audit.tokens import Words


def spans(rule: Rule, words: Words) -> list[tuple[int, int]]:
    r"""Return the first and last token of each place `rule` matches `words`.

    The same matches as `finditer` over the joined words, found faster: every pattern is
    anchored by `(?<!\S)...(?!\S)`, so a match can only start where a word starts, and cannot
    be empty there; trying only those places (skipping any inside the previous match) gives
    the same non-overlapping, leftmost matches.
    """
    found: list[tuple[int, int]] = []
    joined, offsets, match = words.joined, words.offsets, rule.regex.match
    for start, end in words.clauses() if rule.within_clause else ((0, len(joined)),):
        after = start
        for i in range(bisect_left(offsets, start), len(offsets)):
            at = offsets[i]
            if at >= end:
                break
            if at < after:
                continue
            m = match(joined, at, end)
            if m is not None:
                found.append(words.token_span(at, m.end()))
                after = m.end()
    return found


def could_decide(rs: RuleSet, words: Words) -> bool:
    """Say whether any rule able to decide alone matches somewhere in `words` (the text gate)."""
    gate, joined = rs.text_gate.match, words.joined
    return any(gate(joined, at) for at in words.offsets)
