"""Policy profiles: dated versions of one jurisdiction's rules, loaded from the package's YAML.

Layout: `profiles/<profile-id>/<version>.yaml`, one file per dated version. A changed rule is a
new file with a later `effective_from`, never an edit of the old one; a version is in force from
its `effective_from` until the day before the next version starts (or its own `effective_to`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from assistgate.policy.conditions import Predicate, compile_condition, describe_condition
from assistgate.policy.errors import ProfileError
from assistgate.policy.facts import ACTIONS

PROFILE_DIR = Path(__file__).with_name("profiles")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
REQUIREMENT_WHEN = ("always", "dispatch", "decline")


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    title: str
    date: dt.date
    url: str
    official: bool
    note: str = ""
    citation: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # Built once here: every decision quotes it, and decisions are on the hot path.
        object.__setattr__(self, "citation", f"{self.title} ({self.date.isoformat()}), {self.url}")


@dataclass(frozen=True, slots=True)
class Clause:
    id: str
    text: str
    source: Source
    not_formalised: str = ""


@dataclass(frozen=True, slots=True)
class Ground:
    id: str
    clause: str
    summary: str
    test: Predicate
    condition: str


@dataclass(frozen=True, slots=True)
class ActionRule:
    """How one requested action is treated: prohibited outright, or permitted under grounds."""

    action: str
    clause: str
    always_prohibited: bool
    needs_any_ground: bool = False
    needs_grounds: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Requirement:
    action: str
    when: str
    clause: str
    summary: str


@dataclass(frozen=True)
class Profile:
    id: str
    version: str
    title: str
    jurisdiction: str
    instrument: str
    effective_from: dt.date
    effective_to: dt.date | None
    sources: tuple[Source, ...]
    clauses: Mapping[str, Clause]
    no_ground_clause: str
    grounds: tuple[Ground, ...]
    action_rules: Mapping[str, ActionRule]
    requirements: tuple[Requirement, ...]
    file: str = field(default="", compare=False)

    def in_force_on(self, day: dt.date) -> bool:
        """Say whether this version applies to a request received on `day`."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def cited_clauses(self) -> set[str]:
        """Return the ids of the clauses that some rule of this profile implements."""
        cited = {self.no_ground_clause}
        cited.update(g.clause for g in self.grounds)
        cited.update(r.clause for r in self.action_rules.values())
        cited.update(r.clause for r in self.requirements)
        return cited


class ProfileRegistry:
    """Every version of every profile, with a lookup of the one in force on a date."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        by_id: dict[str, list[Profile]] = {}
        for p in profiles:
            by_id.setdefault(p.id, []).append(p)
        self._versions = {pid: _chain_versions(vs) for pid, vs in sorted(by_id.items())}
        self.ids = frozenset(self._versions)

    def versions(self, profile_id: str) -> tuple[Profile, ...]:
        """Return the dated versions of one profile, oldest first."""
        return self._versions[profile_id]

    def all_versions(self) -> list[Profile]:
        """Return every version of every profile, by id then date."""
        return [p for vs in self._versions.values() for p in vs]

    def in_force(self, profile_id: str, day: dt.date) -> Profile | None:
        """Return the version of `profile_id` in force on `day`, or None if none is."""
        for p in reversed(self._versions[profile_id]):
            if p.in_force_on(day):
                return p
        return None


def _chain_versions(versions: list[Profile]) -> tuple[Profile, ...]:
    """Sort one profile's versions and close each where the next begins."""
    versions = sorted(versions, key=lambda p: p.effective_from)
    chained: list[Profile] = []
    for i, p in enumerate(versions):
        nxt = versions[i + 1] if i + 1 < len(versions) else None
        if nxt is None:
            chained.append(p)
            continue
        if nxt.effective_from == p.effective_from:
            raise ProfileError(
                nxt.file, "effective_from", f"two versions of {p.id} start on the same day"
            )
        last_day = nxt.effective_from - dt.timedelta(days=1)
        if p.effective_to is not None and p.effective_to > last_day:
            raise ProfileError(
                p.file,
                "effective_to",
                f"overlaps the next version, which starts {nxt.effective_from}",
            )
        chained.append(replace(p, effective_to=p.effective_to or last_day))
    return tuple(chained)


@cache
def default_registry() -> ProfileRegistry:
    """Load the profiles shipped in the package (once per process)."""
    return load_registry(PROFILE_DIR)


def load_registry(directory: Path) -> ProfileRegistry:
    """Load every `<id>/<version>.yaml` under `directory`."""
    files = sorted(directory.glob("*/*.yaml"))
    if not files:
        raise ProfileError(str(directory), "", "no profile files found")
    return ProfileRegistry(load_profile(f) for f in files)


def load_profile(path: Path) -> Profile:
    """Load and check one profile file; a `ProfileError` names the file and the field."""
    src = f"{path.parent.name}/{path.name}"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(src, "", f"not valid YAML: {exc}") from exc
    p = _Fields(raw, src, "")
    profile_id = p.ident("id")
    version = p.string("version")
    if profile_id != path.parent.name or version != path.stem:
        raise ProfileError(src, "id", f"file must be at {profile_id}/{version}.yaml")

    sources = {
        s.key: s
        for s in (_source(x, src, f"sources[{i}]") for i, x in enumerate(p.items("sources")))
    }
    clauses: dict[str, Clause] = {}
    for i, c in enumerate(p.items("clauses")):
        cf = _Fields(c, src, f"clauses[{i}]")
        cid = cf.ident("id")
        if cid in clauses:
            raise ProfileError(src, f"clauses[{i}].id", f"clause {cid} is defined twice")
        key = cf.string("source")
        if key not in sources:
            raise ProfileError(src, f"clauses[{i}].source", f"unknown source key {key!r}")
        clauses[cid] = Clause(
            cid, cf.string("text"), sources[key], cf.string("not_formalised", optional=True)
        )

    def clause_ref(f: _Fields, key: str = "clause") -> str:
        cid = f.string(key)
        if cid not in clauses:
            raise ProfileError(src, f.at(key), f"unknown clause {cid!r}")
        if clauses[cid].not_formalised:
            raise ProfileError(
                src, f.at(key), f"clause {cid} is marked not formalised but a rule cites it"
            )
        return cid

    grounds: list[Ground] = []
    for i, g in enumerate(p.items("grounds", optional=True)):
        gf = _Fields(g, src, f"grounds[{i}]")
        when = gf.get("when")
        test = compile_condition(when, source=src, path=gf.at("when"))
        grounds.append(
            Ground(
                gf.ident("id"), clause_ref(gf), gf.string("summary"), test, describe_condition(when)
            )
        )
    ground_ids = {g.id for g in grounds}
    if len(ground_ids) != len(grounds):
        raise ProfileError(src, "grounds", "a ground id is used twice")

    rules: dict[str, ActionRule] = {}
    actions = _Fields(p.get("actions"), src, "actions")
    for i, entry in enumerate(actions.items("always_prohibited", optional=True)):
        ef = _Fields(entry, src, f"actions.always_prohibited[{i}]")
        cid = clause_ref(ef)
        for action in ef.action_list("actions"):
            _add_rule(rules, ActionRule(action, cid, always_prohibited=True), src, ef)
    for i, entry in enumerate(actions.items("need_ground", optional=True)):
        ef = _Fields(entry, src, f"actions.need_ground[{i}]")
        cid = clause_ref(ef)
        needed = ef.get("grounds")
        if needed == "any":
            rule_kw: dict[str, Any] = {"needs_any_ground": True}
        elif isinstance(needed, list) and needed and all(n in ground_ids for n in needed):
            rule_kw = {"needs_grounds": frozenset(needed)}
        else:
            raise ProfileError(
                src,
                ef.at("grounds"),
                f"expected 'any' or a list of this profile's grounds "
                f"({', '.join(sorted(ground_ids))})",
            )
        for action in ef.action_list("actions"):
            _add_rule(rules, ActionRule(action, cid, always_prohibited=False, **rule_kw), src, ef)
    missing = [a for a in ACTIONS if a not in rules]
    if missing:
        raise ProfileError(
            src, "actions", f"every action needs a rule; none for {', '.join(missing)}"
        )

    requirements: list[Requirement] = []
    for i, r in enumerate(p.items("required", optional=True)):
        rf = _Fields(r, src, f"required[{i}]")
        when = rf.string("when")
        if when not in REQUIREMENT_WHEN:
            raise ProfileError(src, rf.at("when"), f"expected one of {', '.join(REQUIREMENT_WHEN)}")
        requirements.append(
            Requirement(rf.ident("action"), when, clause_ref(rf), rf.string("summary"))
        )

    return Profile(
        id=profile_id,
        version=version,
        title=p.string("title"),
        jurisdiction=p.string("jurisdiction"),
        instrument=p.string("instrument"),
        effective_from=p.date("effective_from"),
        effective_to=p.date("effective_to", optional=True),
        sources=tuple(sources.values()),
        clauses=clauses,
        no_ground_clause=clause_ref(p, "no_ground_clause"),
        grounds=tuple(grounds),
        action_rules=rules,
        requirements=tuple(requirements),
        file=src,
    )


def _add_rule(rules: dict[str, ActionRule], rule: ActionRule, src: str, f: _Fields) -> None:
    if rule.action in rules:
        raise ProfileError(src, f.at("actions"), f"action {rule.action} has two rules")
    rules[rule.action] = rule


def _source(raw: Any, src: str, path: str) -> Source:
    f = _Fields(raw, src, path)
    official = f.get("official")
    if not isinstance(official, bool):
        raise ProfileError(src, f.at("official"), "expected true or false")
    return Source(
        f.ident("key"),
        f.string("title"),
        f.date("date"),
        f.string("url"),
        official,
        f.string("note", optional=True),
    )


class _Fields:
    """Typed access to one mapping of a profile file, with errors that name the path."""

    def __init__(self, raw: Any, src: str, path: str) -> None:
        if not isinstance(raw, dict):
            raise ProfileError(src, path, "expected a mapping")
        self.raw, self.src, self.path = raw, src, path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        if key not in self.raw:
            raise ProfileError(self.src, self.at(key), "missing")
        return self.raw[key]

    def string(self, key: str, *, optional: bool = False) -> str:
        if optional and key not in self.raw:
            return ""
        value = self.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ProfileError(self.src, self.at(key), "expected non-empty text")
        return " ".join(value.split())

    def ident(self, key: str) -> str:
        value = self.string(key)
        if not _ID.match(value):
            raise ProfileError(
                self.src, self.at(key), "expected lowercase letters, digits, '.', '_' or '-'"
            )
        return value

    def date(self, key: str, *, optional: bool = False) -> Any:
        if optional and self.raw.get(key) is None:
            return None
        value = self.get(key)
        if type(value) is not dt.date:
            raise ProfileError(self.src, self.at(key), "expected a date written YYYY-MM-DD")
        return value

    def items(self, key: str, *, optional: bool = False) -> list[Any]:
        if optional and key not in self.raw:
            return []
        value = self.get(key)
        if not isinstance(value, list) or (not value and not optional):
            raise ProfileError(self.src, self.at(key), "expected a non-empty list")
        return value

    def action_list(self, key: str) -> list[str]:
        value = self.items(key)
        for i, a in enumerate(value):
            if a not in ACTIONS:
                raise ProfileError(self.src, f"{self.at(key)}[{i}]", f"unknown action {a!r}")
        return value
