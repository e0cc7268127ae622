"""`assistgate request ...`: every step of the register, from the call to its closure.

Each step names who acts (`--as`), runs in one transaction with its ledger entry, and prints
what it did only once both are committed; a refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from assistgate.cli.common import (
    EXIT_INVALID,
    acting_as,
    acting_user,
    echo_json,
    fail,
    opened_app,
    read_json,
    reports_errors,
)
from assistgate.cli.recordings import attach_stored_or_file
from assistgate.cli.request_view import (
    decision_lines,
    list_rows,
    request_json,
    request_lines,
    timeline,
    timeline_lines,
)
from assistgate.db.base import utcnow
from assistgate.policy import AssessmentError
from assistgate.policy.explain import explain_decision
from assistgate.policy.facts import ACTIONS, AGENCIES
from assistgate.requests import service
from assistgate.requests import validation as check
from assistgate.requests.enums import ExceptionKind, IdentityCheck, State
from assistgate.requests.errors import InvalidField
from assistgate.requests.models import Request
from assistgate.requests.snapshot import request_snapshot

FACTS_HELP = (
    "The facts the commanding officer found, as a JSON object (FILE, or - for standard "
    "input): warrant, crime, emergency, as in 'assistgate policy evaluate'; profile and date "
    "come from the request."
)


@click.group("request")
def request_group() -> None:
    """Register requests and take each through its lifecycle; every step goes on the ledger."""


def _step(username: str, act: Callable[..., Request], **kwargs: Any) -> Request:
    """Run one step of the register as `username`, in one transaction."""
    with opened_app() as app, app.transaction() as session:
        actor = acting_user(app, session, username)
        return act(session, app.deployment, actor=actor, **kwargs)


def _done(request: Request, what: str, username: str) -> None:
    click.echo(f"{request.ref}: {what} by {username}; now {request.state}")


def _received_at(text: str | None) -> dt.datetime:
    if text is None:
        return utcnow()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidField(
            "received_at", f"expected ISO 8601 such as 2018-03-06T09:41-05:00; got {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise InvalidField(
            "received_at", f"give the UTC offset (2018-03-06T09:41-05:00); got {text!r}"
        )
    return moment


@request_group.command()
@acting_as
@click.option("--agency", required=True, metavar="AGENCY", help=f"One of: {', '.join(AGENCIES)}.")
@click.option("--official", required=True, help="The agency official's name, as given.")
@click.option("--badge", default="", help="The official's badge number or office.")
@click.option("--callback", default="", help="The number the official can be called back on.")
@click.option(
    "--identity-check",
    required=True,
    metavar="HOW",
    help=f"How the caller was confirmed to be the agency: {', '.join(IdentityCheck)}.",
)
@click.option("--identity-note", default="", help="Details of the identity check.")
@click.option(
    "--location", required=True, help="Where; a house number is kept only to its hundred block."
)
@click.option("--district", default="", help="The police district.")
@click.option("--words", required=True, help="What the caller asked for, in their words.")
@click.option(
    "--action",
    "actions",
    multiple=True,
    required=True,
    metavar="ACTION",
    help=f"An action asked for (repeat for several): {', '.join(ACTIONS)}.",
)
@click.option(
    "--received-at",
    metavar="ISO8601",
    help="When the call came in, with its offset (2018-03-06T09:41-05:00); default: now.",
)
@click.option("--cad-incident", metavar="ID", help="The dispatch system's incident number.")
@click.option("--json", "as_json", is_flag=True, help="Print the new request as JSON.")
@reports_errors
def create(
    username: str,
    agency: str,
    official: str,
    badge: str,
    callback: str,
    identity_check: str,
    identity_note: str,
    location: str,
    district: str,
    words: str,
    actions: tuple[str, ...],
    received_at: str | None,
    cad_incident: str | None,
    as_json: bool,
) -> None:
    """Register a call from an immigration agency and alert the commanding officers.

    Prints the new request's reference (AG-YEAR-NNNN), or the request as JSON with --json.
    """
    created = _step(
        username,
        service.create_request,
        received_at=_received_at(received_at),
        agency=agency,
        official_name=official,
        official_badge=badge,
        callback_number=callback,
        identity_check=identity_check,
        identity_note=identity_note,
        location=location,
        district=district,
        caller_words=words,
        requested_actions=list(actions),
        cad_incident_id=cad_incident,
    )
    if as_json:
        echo_json(request_json(created, None))
    else:
        click.echo(created.ref)


@request_group.command()
@click.argument("ref")
@acting_as
@reports_errors
def claim(ref: str, username: str) -> None:
    """Take request REF for review (commanding officers; one holds it at a time)."""
    _done(_step(username, service.claim, ref=ref), "claimed", username)


@request_group.command()
@click.argument("ref")
@acting_as
@reports_errors
def release(ref: str, username: str) -> None:
    """Hand request REF back to the queue, for another commanding officer."""
    _done(_step(username, service.release, ref=ref), "released", username)


@request_group.command()
@click.argument("ref")
@acting_as
@click.option("--facts", "facts_source", required=True, metavar="FILE|-", help=FACTS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the policy's answer as JSON.")
@reports_errors
def assess(ref: str, username: str, facts_source: str, as_json: bool) -> None:
    """Show what the policy says for REF on these facts; a dry run that records nothing.

    The instruments are those of the deployment in force on the request's date, exactly as
    'request decide' will use them.
    """
    facts = read_json(facts_source, "--facts")
    with opened_app() as app, app.sessions() as session:
        acting_user(app, session, username)
        request = service.get_request(session, ref)
        deployment = app.deployment
        day = deployment.local_date(request.received_at)
        assessment = check.assessment_facts(facts, request.requested_actions)
        assessment.update(profile=deployment.profiles_in_force(day), date=day.isoformat())
        engine = deployment.engine
    try:
        answer = engine.evaluate(engine.parse(assessment))
    except AssessmentError as exc:
        # Every invalid fact on its own line, as 'policy evaluate' reports them.
        lines = [f"facts.{p}" if p.path else f"facts: {p}" for p in exc.problems]
        for line in lines[:-1]:
            click.echo(f"assistgate: {line}", err=True)
        fail(lines[-1], EXIT_INVALID)
    if as_json:
        echo_json(answer.to_json())
        return
    click.echo(explain_decision(answer, label=f"{ref}: "), nl=False)
    click.echo("(a dry run: nothing was recorded; 'request decide' records the decision)")


@request_group.command()
@click.argument("ref")
@acting_as
@click.option("--facts", "facts_source", required=True, metavar="FILE|-", help=FACTS_HELP)
@click.option(
    "--approve",
    multiple=True,
    metavar="ACTION",
    help="An action officers are sent for (repeat); at most what the policy permits. "
    "None: decline.",
)
@click.option("--note", default="", help="The commanding officer's note on the decision.")
@reports_errors
def decide(ref: str, username: str, facts_source: str, approve: tuple[str, ...], note: str) -> None:
    """Record the decision on REF: the facts, the policy's answer, and what is sent."""
    facts = read_json(facts_source, "--facts")
    with opened_app() as app, app.transaction() as session:
        actor = acting_user(app, session, username)
        decision = service.decide(
            session, app.deployment, actor=actor, ref=ref, facts=facts, approve=approve, note=note
        )
        zone = app.settings.zone
    click.echo(f"{ref}: decided")
    click.echo("\n".join(decision_lines(decision, zone)))


@request_group.command()
@click.argument("ref")
@acting_as
@click.option(
    "--unit", "units", multiple=True, required=True, metavar="UNIT", help="A unit sent (repeat)."
)
@reports_errors
def dispatch(ref: str, username: str, units: tuple[str, ...]) -> None:
    """Record the units sent on REF (only after a commanding officer's dispatch decision)."""
    _done(_step(username, service.record_dispatch, ref=ref, units=units), "dispatched", username)


@request_group.command()
@click.argument("ref")
@acting_as
@reports_errors
def arrive(ref: str, username: str) -> None:
    """Record that the commanding officer reached the scene of REF."""
    _done(_step(username, service.record_arrival, ref=ref), "arrival recorded", username)


@request_group.command()
@click.argument("ref")
@acting_as
@reports_errors
def clear(ref: str, username: str) -> None:
    """Record that officers left the scene of REF."""
    _done(_step(username, service.clear, ref=ref), "cleared", username)


@request_group.command()
@click.argument("ref")
@acting_as
@click.option("--kind", required=True, metavar="KIND", help=f"One of: {', '.join(ExceptionKind)}.")
@click.option("--reason", required=True, help="Why the rule could not be met.")
@reports_errors
def exception(ref: str, username: str, kind: str, reason: str) -> None:
    """Record why a closing rule cannot be met on REF; the request is flagged for review."""
    done = _step(username, service.record_exception, ref=ref, kind=kind, reason=reason)
    _done(done, f"exception {kind} recorded", username)


@request_group.command()
@click.argument("ref")
@acting_as
@click.option("--file", "path", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The original recording (WAV, MP3, FLAC, Ogg, M4A), taken into the sealed "
              "store.")  # fmt: skip
@click.option("--sha256", "digest", metavar="HEX",
              help="A recording already in the store ('assistgate recordings list').")  # fmt: skip
@reports_errors
def recording(ref: str, username: str, path: Path | None, digest: str | None) -> None:
    """Attach the commanding officer's call recording to REF: a file, or a stored recording.

    A hash alone is not enough: the recording must be in the sealed store, so that what the
    ledger names can be played and verified.
    """
    if (path is None) == (digest is None):
        raise InvalidField("recording", "give either --file PATH or --sha256 HEX")
    if digest is not None:
        check.sha256(digest)
    done = attach_stored_or_file(username, ref, path, digest)
    _done(done, "recording attached", username)


@request_group.command()
@click.argument("ref")
@acting_as
@click.option(
    "--outcome",
    "outcome_source",
    required=True,
    metavar="FILE|-",
    help="The outcome as a JSON object: officer_actions, police_arrests, agency_arrests, "
    "immigration_status_asked (required: true or false), summary.",
)
@reports_errors
def close(ref: str, username: str, outcome_source: str) -> None:
    """Close REF with its outcome, once arrival and recording are on record or excused."""
    outcome = read_json(outcome_source, "--outcome")
    _done(_step(username, service.close, ref=ref, outcome=outcome), "closed", username)


@request_group.command()
@click.argument("ref")
@acting_as
@click.option("--reason", required=True, help="Why the request is withdrawn.")
@reports_errors
def cancel(ref: str, username: str, reason: str) -> None:
    """Record that the agency withdrew request REF."""
    _done(_step(username, service.cancel, ref=ref, reason=reason), "cancelled", username)


@request_group.command("list")
@click.option("--state", metavar="STATE", help=f"Only requests in this state: {', '.join(State)}.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (times in UTC) instead.")
@reports_errors
def list_requests(state: str | None, as_json: bool) -> None:
    """List the register, oldest call first: reference, received, agency, state, commander."""
    if state is not None and state not in set(State):
        fail(f"--state: expected one of {', '.join(State)}; got {state!r}")
    query = select(Request).order_by(Request.received_at, Request.ref)
    if state is not None:
        query = query.where(Request.state == state)
    with opened_app() as app, app.sessions() as session:
        requests = list(session.scalars(query))
        zone = app.settings.zone
    if as_json:
        echo_json([request_snapshot(r) for r in requests])
        return
    click.echo(list_rows(requests, zone) if requests else "no requests")


@request_group.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (times in UTC) instead.")
@reports_errors
def show(ref: str, as_json: bool) -> None:
    """Show request REF: every field, the decision and its grounds, and the ledger's timeline."""
    with opened_app() as app, app.sessions() as session:
        request = service.get_request(session, ref)
        decision = service.current_decision(session, request)
        steps = timeline(session, ref)
        zone = app.settings.zone
    if as_json:
        echo_json(request_json(request, decision, steps))
        return
    lines = request_lines(request, zone)
    if decision is not None:
        lines += ["", *decision_lines(decision, zone)]
    lines += [
        "",
        "Timeline (from the ledger)",
        *("  " + line for line in timeline_lines(steps, zone)),
    ]
    click.echo("\n".join(lines))
