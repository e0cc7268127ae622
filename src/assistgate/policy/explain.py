"""Profiles and decisions as plain text, the way a commanding officer reads them in training."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from assistgate.policy.engine import Decision
from assistgate.policy.profiles import Profile

WIDTH = 96


def _wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def _words(action_or_ground: str) -> str:
    return action_or_ground.replace("_", " ")


def explain_profile(p: Profile) -> str:
    """Return one profile version as readable text: where it comes from and what it decides."""
    until = f"until {p.effective_to.isoformat()}" if p.effective_to else "and still in force"
    lines = [
        f"{p.title}",
        f"  profile {p.id}, version {p.version}",
        f"  {p.instrument}; {p.jurisdiction}",
        f"  in force from {p.effective_from.isoformat()} {until}",
        "",
        "Sources",
    ]
    for s in p.sources:
        kind = "official" if s.official else "secondary"
        lines.append(f"  [{s.key}] {s.citation} ({kind})")
        if s.note:
            lines.append(_wrap(s.note, "      "))

    lines += ["", "When officers may be sent"]
    if not p.grounds:
        lines.append("  Never: this profile has no ground for sending officers.")
    for g in p.grounds:
        lines.append(f"  - {_words(g.id)}: {g.summary}  [{g.clause}]")
        lines.append(_wrap(f"test: {g.condition}", "      "))
    lines.append(f"  With no ground, the request is declined.  [{p.no_ground_clause}]")

    never = [r for r in p.action_rules.values() if r.always_prohibited]
    lines += ["", "Never done, whatever the grounds"]
    lines += [f"  - {_words(r.action)}  [{r.clause}]" for r in never] or ["  (none)"]

    lines += ["", "Done only when a ground holds"]
    for r in p.action_rules.values():
        if r.always_prohibited:
            continue
        needs = (
            "any ground"
            if r.needs_any_ground
            else " or ".join(_words(g) for g in sorted(r.needs_grounds))
        )
        lines.append(f"  - {_words(r.action)}: needs {needs}  [{r.clause}]")

    lines += ["", "Required"]
    for req in p.requirements:
        when = "on every request" if req.when == "always" else f"when the decision is {req.when}"
        lines.append(f"  - {_words(req.action)} ({when}): {req.summary}  [{req.clause}]")
    if not p.requirements:
        lines.append("  (nothing beyond the decision)")

    lines += ["", "The clauses, in our words"]
    for c in p.clauses.values():
        lines.append(f"  {c.id}  (source: {c.source.key})")
        lines.append(_wrap(c.text))
        if c.not_formalised:
            lines.append(_wrap(f"Not formalised: {c.not_formalised}", "    "))
    return "\n".join(lines) + "\n"


def explain_decision(d: Decision, *, label: str = "") -> str:
    """Return a decision as a short readable summary with the clauses that produced it."""
    head = "MAY SEND OFFICERS" if d.dispatch_allowed else "DECLINE: NO OFFICERS"
    profiles = " + ".join(f"{p} ({v})" for p, v in zip(d.profiles, d.versions, strict=True))
    lines = [f"{label}{head}", f"  under {profiles}, for a request of {d.on_date.isoformat()}"]
    lines.append(f"  grounds: {_list(d.grounds) or 'none'}")
    if d.permitted_actions:
        lines.append(f"  permitted: {_list(d.permitted_actions)}")
    if d.prohibited_actions:
        lines.append(f"  prohibited: {_list(d.prohibited_actions)}")
    lines.append(f"  required: {_list(d.required_actions) or 'nothing further'}")
    lines.append("  because:")
    several = len(d.profiles) > 1
    for r in d.reasons:
        where = f"{r.profile}: " if several else ""
        lines.append(f"    {where}[{r.clause}] {', '.join(r.applies_to)}")
    return "\n".join(lines) + "\n"


def _list(items: Iterable[str]) -> str:
    return ", ".join(_words(i) for i in items)
