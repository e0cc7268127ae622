"""The condition language of profile files, compiled once into plain Python predicates.

A condition is written in YAML the way a lawyer would list tests:

    all:
      - warrant.kind: judicial_criminal      # the fact equals this value
      - warrant.verified: true
      - crime.status: [occurred, occurring]  # the fact is one of these values
      - not: {crime.immigration_offense: true}
    any: [...]                               # at least one holds

Every fact and value is checked against `FACT_VALUES` when the profile loads, so a misspelt
fact or value fails at start-up with the file and path named, never at decision time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistgate.policy.errors import ProfileError
from assistgate.policy.facts import FACT_GETTERS, FACT_VALUES, Assessment

Predicate = Callable[[Assessment], bool]


def compile_condition(node: Any, *, source: str, path: str) -> Predicate:
    """Turn one YAML condition into a predicate over an assessment."""
    if not isinstance(node, dict) or len(node) != 1:
        raise ProfileError(
            source,
            path,
            "expected a condition: a mapping with exactly one key (all, any, not, or a fact name)",
        )
    ((key, value),) = node.items()
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise ProfileError(source, f"{path}.{key}", "expected a non-empty list of conditions")
        parts = tuple(
            compile_condition(v, source=source, path=f"{path}.{key}[{i}]")
            for i, v in enumerate(value)
        )
        return _all(parts) if key == "all" else _any(parts)
    if key == "not":
        inner = compile_condition(value, source=source, path=f"{path}.not")
        return lambda a: not inner(a)
    return _compile_test(key, value, source=source, path=path)


def _compile_test(fact: str, value: Any, *, source: str, path: str) -> Predicate:
    if fact not in FACT_VALUES:
        raise ProfileError(
            source,
            f"{path}.{fact}",
            f"unknown fact; expected all, any, not or one of {', '.join(FACT_VALUES)}",
        )
    allowed = FACT_VALUES[fact]
    wanted = value if isinstance(value, list) else [value]
    for v in wanted:
        # bool is an int in Python: compare types too so `1` never stands for `true`.
        if not any(v == a and type(v) is type(a) for a in allowed):
            raise ProfileError(
                source,
                f"{path}.{fact}",
                f"{v!r} is not a value of {fact}; expected one of {', '.join(map(str, allowed))}",
            )
    get = FACT_GETTERS[fact]
    if len(wanted) == 1:
        (single,) = wanted
        return lambda a: get(a) == single
    options = frozenset(wanted)
    return lambda a: get(a) in options


def _all(parts: tuple[Predicate, ...]) -> Predicate:
    if len(parts) == 1:
        return parts[0]
    return lambda a: all(p(a) for p in parts)


def _any(parts: tuple[Predicate, ...]) -> Predicate:
    if len(parts) == 1:
        return parts[0]
    return lambda a: any(p(a) for p in parts)


def describe_condition(node: Any) -> str:
    """Render a (valid) YAML condition as a line of plain text for training material."""
    ((key, value),) = node.items()
    if key in ("all", "any"):
        parts = [describe_condition(v) for v in value]
        if len(parts) == 1:
            return parts[0]
        joiner = " and " if key == "all" else " or "
        return "(" + joiner.join(parts) + ")"
    if key == "not":
        return f"not {describe_condition(value)}"
    shown = [_show(v) for v in (value if isinstance(value, list) else [value])]
    if len(shown) == 1:
        return f"{key} is {shown[0]}"
    return f"{key} is one of {', '.join(shown)}"


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
