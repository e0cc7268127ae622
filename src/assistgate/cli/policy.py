"""`assistgate policy ...`: evaluate assessments, list profiles, explain a profile."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any, NoReturn

import click

from assistgate.cli.common import load_json_document
from assistgate.policy import AssessmentError, PolicyEngine, default_registry
from assistgate.policy.explain import explain_decision, explain_profile
from assistgate.settings import Settings, SettingsError

EXIT_INVALID = 2


def _fail(message: str) -> NoReturn:
    click.echo(f"assistgate: {message}", err=True)
    sys.exit(EXIT_INVALID)


def make_engine(profile_override: tuple[str, ...] = ()) -> PolicyEngine:
    """Build the engine with the deployment's default profiles and time zone."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        _fail(str(exc))
    registry = default_registry()
    defaults = profile_override or settings.default_profiles
    unknown = [p for p in defaults if p not in registry.ids]
    if unknown:
        _fail(f"unknown profile {', '.join(unknown)}; known: {', '.join(sorted(registry.ids))}")
    return PolicyEngine(registry=registry, default_profiles=defaults, today=settings.today)


@click.group()
def policy() -> None:
    """Decide requests under a jurisdiction's rules, and read those rules."""


@policy.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    metavar="ID",
    help="Profile for assessments that name none (repeat for several instruments); "
    "default: ASSISTGATE_DEFAULT_PROFILES or louisville-lmpd-2017.",
)
@click.option("--text", "as_text", is_flag=True, help="Print a readable summary instead of JSON.")
def evaluate(file: Any, profiles: tuple[str, ...], as_text: bool) -> None:
    """Decide the assessment(s) in FILE ('-' for standard input) and print the decision(s).

    FILE holds one JSON assessment or a JSON array of them; the output is one decision or an
    array in the same order. Invalid input exits with status 2, names each invalid field on
    standard error (with its index in an array) and prints no decision at all.
    """
    name = "standard input" if file.name == "<stdin>" else file.name
    try:
        text = file.read()
    except UnicodeDecodeError:
        _fail(f"{name} is not UTF-8 text")
    document = load_json_document(text, name)
    engine = make_engine(profiles)
    batch = isinstance(document, list)
    items = document if batch else [document]

    decisions = []
    problems: list[str] = []
    for i, item in enumerate(items):
        try:
            decisions.append(engine.evaluate(engine.parse(item)))
        except AssessmentError as exc:
            where = f"assessment [{i}]" if batch else "assessment"
            problems += [f"invalid {where}: {p}" for p in exc.problems]
    if problems:
        for line in problems:
            click.echo(f"assistgate: {line}", err=True)
        sys.exit(EXIT_INVALID)

    if as_text:
        for i, d in enumerate(decisions):
            click.echo(explain_decision(d, label=f"[{i}] " if batch else ""))
        return
    out = [d.to_json() for d in decisions]
    click.echo(json.dumps(out if batch else out[0], indent=2, ensure_ascii=False))


@policy.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_profiles(as_json: bool) -> None:
    """List the profiles shipped, each dated version, and its sources."""
    versions = default_registry().all_versions()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": p.id,
                        "version": p.version,
                        "title": p.title,
                        "jurisdiction": p.jurisdiction,
                        "instrument": p.instrument,
                        "effective_from": p.effective_from.isoformat(),
                        "effective_to": p.effective_to.isoformat() if p.effective_to else None,
                        "sources": [
                            {
                                "title": s.title,
                                "date": s.date.isoformat(),
                                "url": s.url,
                                "official": s.official,
                            }
                            for s in p.sources
                        ],
                    }
                    for p in versions
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    for p in versions:
        until = p.effective_to.isoformat() if p.effective_to else "in force"
        click.echo(f"{p.id}  version {p.version}  ({p.effective_from.isoformat()} to {until})")
        click.echo(f"    {p.title} — {p.jurisdiction}")
        for s in p.sources:
            click.echo(f"    source: {s.citation}{'' if s.official else ' (secondary)'}")


@policy.command()
@click.argument("profile_id", metavar="PROFILE")
@click.option(
    "--date",
    "on_date",
    metavar="YYYY-MM-DD",
    help="Explain the version in force on this date (default: every version).",
)
def explain(profile_id: str, on_date: str | None) -> None:
    """Print PROFILE's clauses and rules as readable text, version by version."""
    registry = default_registry()
    if profile_id not in registry.ids:
        _fail(f"unknown profile {profile_id!r}; known: {', '.join(sorted(registry.ids))}")
    versions = registry.versions(profile_id)
    if on_date is not None:
        try:
            day = dt.date.fromisoformat(on_date)
        except ValueError:
            _fail(f"--date: expected a date written YYYY-MM-DD; got {on_date!r}")
        version = registry.in_force(profile_id, day)
        if version is None:
            _fail(f"--date: profile {profile_id} is not in force on {day.isoformat()}")
        versions = (version,)
    click.echo("\n\n".join(explain_profile(v) for v in versions), nl=False)
