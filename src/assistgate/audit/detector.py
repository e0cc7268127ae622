"""The audit detector: read one call; say whether an immigration agency asked the police for help.

Pure: no I/O beyond loading the rules file once. The scan calls it on every candidate row, and a
Spark UDF can call it the same way later. `classify` gives the finding; `explain` gives a
readable account of every rule considered, fired or not, and why the category follows.

The decision, base case first and then the exceptions that override it:
1. Nothing about immigration is named: `none`, unless the call type says immigration (APCO
   `ALIEN`), which alone makes a weak `agency_request` for a reviewer to confirm.
2. False friends explain agency words away first ("ICE ON RDWY", "BAG OF ICE"); negations then
   cancel the request words they cover ("NO ASSIST NEEDED").
3. A request for help belongs to the agency named nearest before it (with any agency named
   together with that one), or to the agency inside its own words ("ASSIST ICE"). A request that
   belongs to an immigration agency makes `agency_request`...
4. ...unless someone else is plainly speaking: a scam, a threat to call the agency or a protest
   always makes `public_mentions_immigration`; a softer public sign (a relative detained, fear,
   agents at a resident's door) does too, unless the agency's request is tightly attached to its
   name ("ICE AGT REQ UNIT").
5. An agency named without a request of its own: `agency_notification`.
6. Immigration named only as a subject ("IMMIGRATION PAPERS", "DEPORTED"):
   `public_mentions_immigration`.

Records other than dispatch calls (plate-reader search logs, incident narratives) are decided
by `signals.decide` from their own rules file: see that module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from assistgate.audit.hits import Hit, quoted
from assistgate.audit.matching import could_decide, spans
from assistgate.audit.rules import (
    DECIDING,
    Category,
    Decision,
    Kind,
    Record,
    Rule,
    RuleSet,
    default_rules,
)
from assistgate.audit.signals import decide_signals
from assistgate.audit.tokens import Words, tokenize

TEXT, CALL_TYPE = "text", "call_type"


@dataclass(frozen=True, slots=True)
class Finding:
    """What the detector decided about one call, with the words that decided it."""

    category: Category
    score: float
    evidence: tuple[str, ...]
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Analysis:
    """Everything the detector saw in one call: each hit, the finding, and the reason."""

    finding: Finding
    reason: str
    hits: tuple[Hit, ...]
    ruleset: RuleSet
    text: Words
    call_type: Words | None


NOTHING = Finding(Category.NONE, 0.0, (), ())


def classify(
    text: str | None, call_type: str | None = None, *, rules: RuleSet | None = None
) -> Finding:
    """Classify one call from its remarks and (optionally) its call type."""
    return analyse(text, call_type, rules=rules, complete=False).finding


def analyse(
    text: str | None,
    call_type: str | None = None,
    *,
    rules: RuleSet | None = None,
    complete: bool = True,
) -> Analysis:
    """Run the rules on one call and decide its category, keeping what each rule found.

    With `complete=False` the rules that cannot decide alone are skipped when no rule that can
    has matched; the finding is the same, only the record of rules not found is shorter.
    """
    rs = rules if rules is not None else default_rules()
    words = tokenize(text or "", rs.speller)
    ctype = _type_words(call_type, rs.speller) if call_type and call_type.strip() else None
    hits: list[Hit] = []
    # The rules one of whose anchors is in the words: the other anchored rules cannot match.
    index = rs.anchor_index
    present = {
        TEXT: index.present(words.joined),
        CALL_TYPE: index.present(ctype.joined) if ctype is not None else frozenset(),
    }
    # The kinds that can make a call more than `none`; if none of them matches, the rest cannot
    # change the answer, so `classify` stops there (most candidates are frozen water and such).
    deciding = DECIDING[rs.record]
    # One combined regex first: most candidates match no rule that could decide alone.
    gate_open = complete or could_decide(rs, words)
    for rule in rs.of_kind(*deciding):
        if gate_open or rule.kind is Kind.CALL_TYPE:
            hits += _hits(rule, words, ctype, present)
    if not complete and not hits:
        nothing = "no immigration agency or subject is named"
        return Analysis(NOTHING, nothing, (), rs, words, ctype)
    if complete or any(h.field == TEXT for h in hits):
        for rule in rs.rules:
            if rule.kind not in deciding:
                hits += _hits(rule, words, ctype, present)
    order = rs.order
    hits.sort(key=lambda h: order[h.rule.id])
    masked = tuple(_mask(hits))
    if rs.record is Record.DISPATCH:
        category, reason, support, weak = _decide(masked, rs.decision)
    else:
        category, reason, support, weak = decide_signals(masked, rs)
    score = _score(support) * (rs.decision.weak_factor if weak else 1.0)
    fired = {h.rule.id for h in masked if not h.masked_by}
    finding = Finding(
        category=category,
        score=round(score, 3),
        evidence=_evidence(support, words, ctype),
        rules=tuple(r.id for r in rs.rules if r.id in fired),
    )
    return Analysis(finding, reason, masked, rs, words, ctype)


# Call types are a short code list: each is read into words once per process.
_type_words = lru_cache(maxsize=4096)(tokenize)


def _hits(
    rule: Rule, words: Words, ctype: Words | None, present: dict[str, frozenset[str]]
) -> list[Hit]:
    field = CALL_TYPE if rule.kind is Kind.CALL_TYPE else TEXT
    target = ctype if field == CALL_TYPE else words
    if target is None or not target.tokens:
        return []
    if rule.anchors and rule.id not in present[field]:
        return []  # every match holds an anchor, and none is there
    return [Hit(rule, field, f, last, target.quote(f, last)) for f, last in spans(rule, target)]


def _mask(hits: list[Hit]) -> list[Hit]:
    """Explain hits away: false friends first (they say what an agency word is), then negations."""
    out = list(hits)
    for kind in (Kind.FALSE_FRIEND, Kind.NEGATION):
        maskers = [h for h in out if h.rule.kind is kind and not h.masked_by]
        for m in maskers:
            for i, h in enumerate(out):
                if h.masked_by or h.field != m.field or h.rule.kind is Kind.FALSE_FRIEND:
                    continue
                if h.rule.kind.value not in m.rule.masks and h.rule.id not in m.rule.masks:
                    continue
                if m.rule.scope == "record" or m.overlaps(h):
                    out[i] = replace(h, masked_by=m.rule.id)
    # An agency named within a public statement ("DETAINED BY ICE", "CALLED ICE") is what the
    # statement is about, not an agency acting: it cannot own a request.
    statements = [h for h in out if h.rule.kind is Kind.PUBLIC and not h.masked_by]
    for i, h in enumerate(out):
        if h.rule.kind is Kind.AGENCY and not h.masked_by:
            for p in statements:
                if p.overlaps(h):
                    out[i] = replace(h, masked_by=p.rule.id)
                    break
    return out


def _decide(hits: tuple[Hit, ...], d: Decision) -> tuple[Category, str, list[Hit], bool]:
    """Return the category, the reason in words, the hits that support it, and if it is weak."""
    live = [h for h in hits if not h.masked_by]

    def of(kind: Kind) -> list[Hit]:
        return [h for h in live if h.rule.kind is kind]

    agency, topic, requests = of(Kind.AGENCY), of(Kind.TOPIC), of(Kind.REQUEST)
    types = of(Kind.CALL_TYPE)
    type_request = [h for h in types if h.rule.suggests is Category.AGENCY_REQUEST]
    standalone = [p for p in of(Kind.PUBLIC) if not p.rule.needs_mention]
    named = bool(agency or topic or standalone)
    publics = [p for p in of(Kind.PUBLIC) if named or not p.rule.needs_mention]
    if not named:
        explained = [h for h in hits if h.masked_by and h.rule.kind is Kind.AGENCY]
        away = f"; {_q(explained)} explained away as something else" if explained else ""
        if type_request:
            return (
                Category.AGENCY_REQUEST,
                f"the call type {_q(type_request)} says immigration and the text names no "
                f"agency{away}: a weak finding for a reviewer to confirm",
                types,
                False,
            )
        weak = f"; the call type {_q(types)} is weak evidence only" if types else ""
        return Category.NONE, f"no immigration agency or subject is named{away}{weak}", types, False

    owned = [r for r in requests if _owned(r, agency, of(Kind.OTHER_AGENCY), d.conjoined_gap)]
    tight = [r for r in owned if any(_attached(a, r, d.tight_gap) for a in agency)]
    strong = [p for p in publics if p.rule.beats_request]
    if strong:
        over = f", which outweighs the request words {_q(owned)}" if owned else ""
        return (
            Category.PUBLIC_MENTIONS_IMMIGRATION,
            f"someone other than the agency is speaking: {_q(strong)}{over}",
            [*publics, *topic, *agency],
            False,
        )
    if owned and (tight or not publics):
        how = "directly" if tight else "in the same record"
        over = f"; that outweighs {_q(publics)}" if publics else ""
        return (
            Category.AGENCY_REQUEST,
            f"the immigration agency {_q(agency)} asks for help {how}: {_q(owned)}{over}",
            [*agency, *owned, *types],
            False,
        )
    if publics:
        loose = (
            f"; the request words {_q(owned)} are not tied to the agency's name" if owned else ""
        )
        return (
            Category.PUBLIC_MENTIONS_IMMIGRATION,
            f"a member of the public brings up immigration: {_q(publics)}{loose}",
            [*publics, *topic, *agency],
            False,
        )
    informs = of(Kind.NOTIFICATION) + of(Kind.NEGATION)
    if agency:
        unowned = f"; {_q(requests)} belongs to another agency or no one" if requests else ""
        cancelled = [h for h in hits if h.masked_by and h.rule.kind is Kind.REQUEST]
        no = f"; {_q(cancelled)} is negated" if cancelled else ""
        if informs:
            return (
                Category.AGENCY_NOTIFICATION,
                f"the immigration agency {_q(agency)} informs without asking: "
                f"{_q(informs)}{no}{unowned}",
                [*agency, *informs],
                False,
            )
        return (
            Category.AGENCY_NOTIFICATION,
            f"the immigration agency {_q(agency)} is named but asks for nothing{unowned}",
            agency,
            True,
        )
    return (
        Category.PUBLIC_MENTIONS_IMMIGRATION,
        f"immigration is named only as a subject: {_q(topic)}",
        topic,
        True,
    )


def _owned(request: Hit, agency: list[Hit], other: list[Hit], conjoined_gap: int) -> bool:
    """Say whether `request` belongs to an immigration agency rather than another or no one."""
    if any(a.overlaps(request) for a in agency):
        return True
    before = [(h, True) for h in agency if h.last < request.first]
    before += [(h, False) for h in other if h.last < request.first]
    if not before:
        return False
    nearest = max(before, key=lambda pair: pair[0].last)[0]
    # Agencies named together ("FBI AND ICE", "HSI/DEA") share the request.
    group = [imm for h, imm in before if h.last >= nearest.first - conjoined_gap - 1]
    return any(group)


def _attached(agency: Hit, request: Hit, gap: int) -> bool:
    if agency.overlaps(request):
        return True
    after = request.first - agency.last - 1
    before = agency.first - request.last - 1
    return 0 <= after <= gap or 0 <= before <= gap


def _score(support: list[Hit]) -> float:
    """Combine the strongest hit of each kind: 1 - product of (1 - weight)."""
    best: dict[Kind, float] = {}
    for h in support:
        best[h.rule.kind] = max(best.get(h.rule.kind, 0.0), h.rule.weight)
    missing = 1.0
    for w in best.values():
        missing *= 1.0 - w
    return 1.0 - missing


def _evidence(support: list[Hit], words: Words, ctype: Words | None) -> tuple[str, ...]:
    """Quote the supporting words, merging hits that touch, text first and then call type."""
    quotes: list[str] = []
    for field, source in ((TEXT, words), (CALL_TYPE, ctype)):
        spans = sorted({(h.first, h.last) for h in support if h.field == field})
        if source is None or not spans:
            continue
        merged = [list(spans[0])]
        for first, last in spans[1:]:
            if first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        quotes += [source.quote(first, last) for first, last in merged]
    return tuple(quotes)


_q = quoted


def explain(text: str | None, call_type: str | None = None, *, rules: RuleSet | None = None) -> str:
    """Return a readable account of every rule considered, fired or not, and the decision."""
    a = analyse(text, call_type, rules=rules)
    f = a.finding
    lines = [
        f"Rules: {a.ruleset.title} ({a.ruleset.label}, {a.ruleset.source})",
        f'Text: "{a.text.original}"',
        f"Words read: {a.text.joined or '(none)'}",
        f'Call type: "{a.call_type.original}"' if a.call_type else "Call type: (none given)",
        "",
    ]
    for kind in Kind:
        of_kind = a.ruleset.of_kind(kind)
        if not of_kind:
            continue
        lines.append(f"{kind.value}:")
        for rule in of_kind:
            hits = [h for h in a.hits if h.rule.id == rule.id]
            live = [h for h in hits if not h.masked_by]
            if live:
                lines.append(f"  [fired]  {rule.id}: {_q(live)}  ({rule.why})")
            for h in hits:
                if h.masked_by:
                    lines.append(
                        f'  [masked] {rule.id}: "{h.quote}" explained away by {h.masked_by}'
                    )
            if not hits:
                lines.append(f"  [ -- ]   {rule.id}: not found  ({rule.why})")
        lines.append("")
    lines.append(f"Decision: {f.category.value} (score {f.score:.2f})")
    lines.append(f"Because: {a.reason}.")
    lines.append("Evidence: " + (" | ".join(f'"{e}"' for e in f.evidence) or "(none)"))
    return "\n".join(lines) + "\n"
