"""The decision: may officers be sent, on which grounds, and which asked-for actions are prohibited.

Pure: facts in, a decision with its reasons out. The base case comes first (no ground, no
officers); each ground, prohibition and requirement then adds itself under the clause that
creates it, so every line of the answer can name the clause that put it there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistgate.policy.errors import AssessmentError, FieldProblem
from assistgate.policy.facts import Assessment, parse_assessment
from assistgate.policy.profiles import Profile, ProfileRegistry, default_registry

DISPATCH = "dispatch"
DECLINE = "decline"


@dataclass(frozen=True, slots=True)
class Reason:
    """One clause applied, in our words, with its source and what it decided here."""

    profile: str
    clause: str
    text: str
    source: str
    applies_to: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "text": self.text,
            "source": self.source,
            "profile": self.profile,
            "applies_to": list(self.applies_to),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer under one profile, or under several instruments at once (`parts`)."""

    profiles: tuple[str, ...]
    versions: tuple[str, ...]
    on_date: dt.date
    decision: str
    grounds: tuple[str, ...]
    permitted_actions: tuple[str, ...]
    prohibited_actions: tuple[str, ...]
    required_actions: tuple[str, ...]
    reasons: tuple[Reason, ...]
    parts: tuple[Decision, ...] = ()

    @property
    def dispatch_allowed(self) -> bool:
        return self.decision == DISPATCH

    def to_json(self) -> dict[str, Any]:
        """Return the decision in the public JSON contract."""
        single = len(self.profiles) == 1
        out: dict[str, Any] = {
            "profile": self.profiles[0] if single else list(self.profiles),
            "profile_version": self.versions[0] if single else list(self.versions),
            "date": self.on_date.isoformat(),
            "decision": self.decision,
            "grounds": list(self.grounds),
            "permitted_actions": list(self.permitted_actions),
            "prohibited_actions": list(self.prohibited_actions),
            "required_actions": list(self.required_actions),
            "reasons": [r.to_json() for r in self.reasons],
        }
        if self.parts:
            out["by_profile"] = [
                {
                    "profile": p.profiles[0],
                    "profile_version": p.versions[0],
                    "decision": p.decision,
                    "grounds": list(p.grounds),
                    "prohibited_actions": list(p.prohibited_actions),
                }
                for p in self.parts
            ]
        return out


def decide(profile: Profile, a: Assessment, on_date: dt.date) -> Decision:
    """Decide one assessment under one profile version."""
    applied: dict[str, list[str]] = {}

    def cite(clause: str, what: str) -> None:
        applied.setdefault(clause, []).append(what)

    grounds = tuple(g.id for g in profile.grounds if g.test(a))
    for g in profile.grounds:
        if g.id in grounds:
            cite(g.clause, f"ground:{g.id}")
    decision = DISPATCH if grounds else DECLINE
    if not grounds:
        cite(profile.no_ground_clause, "decision:decline")

    permitted: list[str] = []
    prohibited: list[str] = []
    held = frozenset(grounds)
    rules = profile.action_rules
    for action in a.requested_actions:
        rule = rules[action]
        ok = not rule.always_prohibited and (
            bool(held) if rule.needs_any_ground else not rule.needs_grounds.isdisjoint(held)
        )
        if ok:
            permitted.append(action)
            cite(rule.clause, f"permitted:{action}")
        else:
            prohibited.append(action)
            cite(rule.clause, f"prohibited:{action}")

    required: list[str] = []
    for req in profile.requirements:
        if req.when == "always" or req.when == decision:
            required.append(req.action)
            cite(req.clause, f"required:{req.action}")

    clauses = profile.clauses
    reasons = tuple(
        Reason(profile.id, cid, clauses[cid].text, clauses[cid].source.citation, tuple(what))
        for cid, what in applied.items()
    )
    return Decision(
        (profile.id,),
        (profile.version,),
        on_date,
        decision,
        grounds,
        tuple(permitted),
        tuple(prohibited),
        tuple(required),
        reasons,
    )


def combine(parts: Sequence[Decision], requested: Sequence[str]) -> Decision:
    """Combine the answers of instruments that bind at once: every one must allow each step."""
    if len(parts) == 1:
        return parts[0]
    decision = DISPATCH if all(p.decision == DISPATCH for p in parts) else DECLINE
    forbidden = {a for p in parts for a in p.prohibited_actions}
    return Decision(
        profiles=tuple(p.profiles[0] for p in parts),
        versions=tuple(p.versions[0] for p in parts),
        on_date=parts[0].on_date,
        decision=decision,
        grounds=_union(p.grounds for p in parts),
        permitted_actions=tuple(a for a in requested if a not in forbidden),
        prohibited_actions=tuple(a for a in requested if a in forbidden),
        required_actions=_union(p.required_actions for p in parts),
        reasons=tuple(r for p in parts for r in p.reasons),
        parts=tuple(parts),
    )


def _union(groups: Any) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item, None)
    return tuple(seen)


class PolicyEngine:
    """Decides assessments with the profiles in force on each request's date."""

    def __init__(
        self,
        *,
        registry: ProfileRegistry | None = None,
        default_profiles: Sequence[str] = ("louisville-lmpd-2017",),
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.registry = registry or default_registry()
        unknown = [p for p in default_profiles if p not in self.registry.ids]
        if not default_profiles or unknown:
            raise ValueError(f"default profiles must be known profile ids; unknown: {unknown}")
        self.default_profiles = tuple(default_profiles)
        self.today = today

    def parse(self, obj: object) -> Assessment:
        """Check one decoded JSON assessment against the contract."""
        return parse_assessment(obj, known_profiles=self.registry.ids)

    def evaluate(self, a: Assessment) -> Decision:
        """Decide one checked assessment under its profile(s), in force on its date."""
        on_date = a.on_date or self.today()
        ids = a.profiles or self.default_profiles
        versions: list[Profile] = []
        problems: list[FieldProblem] = []
        for i, pid in enumerate(ids):
            version = self.registry.in_force(pid, on_date)
            if version is None:
                first = self.registry.versions(pid)[0]
                path = "profile" if a.profiles is None or len(ids) == 1 else f"profile[{i}]"
                problems.append(FieldProblem(path, _not_in_force(pid, on_date, first)))
            else:
                versions.append(version)
        if problems:
            raise AssessmentError(problems)
        return combine([decide(v, a, on_date) for v in versions], a.requested_actions)

    def evaluate_json(self, obj: object) -> dict[str, Any]:
        """Check and decide one decoded JSON assessment; return the decision as JSON."""
        return self.evaluate(self.parse(obj)).to_json()


def _not_in_force(pid: str, day: dt.date, first: Profile) -> str:
    if day < first.effective_from:
        return (
            f"profile {pid} is not in force on {day.isoformat()}: it takes effect on "
            f"{first.effective_from.isoformat()} (give a later date, or another profile)"
        )
    return f"profile {pid} is no longer in force on {day.isoformat()}"
