"""The decision for records read by signals: plate-reader search logs and incident narratives.

Pure. Base case first, then the exceptions, as for dispatch calls:
1. False friends explain look-alikes away first (a plate that reads ICE, ice cream, a victim
   who volunteers her status, a U-visa certification); negations then cancel the words they
   cover ("NOT FOR IMMIGRATION").
2. A signal left standing decides alone: the record shows what its rules file flags (a search
   made for immigration enforcement; an officer asking about or recording immigration status).
3. Without a signal, cues decide only together: at least `decision.cues_needed` different cue
   rules ("HSI" and "TARGET").
4. A single cue is weak evidence: the record stays `none`, with a score, for a reviewer to read.
"""

from __future__ import annotations

from assistgate.audit.hits import Hit, quoted
from assistgate.audit.rules import Category, Kind, RuleSet

_SHOWS = {
    Category.IMMIGRATION_SEARCH: "a search made for immigration enforcement",
    Category.STATUS_INQUIRY: "an officer asking about or recording immigration status",
}


def decide_signals(hits: tuple[Hit, ...], rs: RuleSet) -> tuple[Category, str, list[Hit], bool]:
    """Return the category, the reason in words, the hits that support it, and if it is weak."""
    live = [h for h in hits if not h.masked_by]
    signals = [h for h in live if h.rule.kind is Kind.SIGNAL]
    cues = [h for h in live if h.rule.kind is Kind.CUE]
    shows = _SHOWS.get(rs.category, rs.category.value)
    explained = [h for h in hits if h.masked_by and h.rule.kind in (Kind.SIGNAL, Kind.CUE)]
    away = f"; {quoted(explained)} explained away" if explained else ""
    if signals:
        with_cues = f", with {quoted(cues)}" if cues else ""
        reason = f"{quoted(signals)} shows {shows}{with_cues}{away}"
        return rs.category, reason, signals + cues, False
    kinds = {h.rule.id for h in cues}
    if len(kinds) >= rs.decision.cues_needed:
        return (
            rs.category,
            f"no signal decides alone, but {len(kinds)} cues together show {shows}: "
            f"{quoted(cues)}{away}",
            cues,
            False,
        )
    if cues:
        return (
            Category.NONE,
            f"only {quoted(cues)} points that way: weak evidence for a reviewer to read{away}",
            cues,
            True,
        )
    return Category.NONE, f"nothing shows {shows}{away}", [], False
