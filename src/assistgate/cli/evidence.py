"""`assistgate evidence`: one request's evidence bundle, and its check anywhere."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assistgate.cli.common import (
    EXIT_REFUSED,
    acting_as,
    acting_user,
    fail,
    opened_app,
    reports_errors,
)
from assistgate.evidence.bundle import check_bundle
from assistgate.evidence.export import EvidenceError, export_evidence
from assistgate.ledger.errors import KeyStoreError
from assistgate.ledger.keys import load_public_key
from assistgate.recordings.wiring import archive_for


@click.group()
def evidence() -> None:
    """Export a request's evidence (recordings, ledger entries, proofs) and check it offline."""


@evidence.command("export")
@click.argument("ref")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@acting_as
@reports_errors
def export_command(ref: str, out: Path, username: str) -> None:
    """Write request REF's evidence bundle to OUT (a ZIP file); the export is recorded.

    The bundle holds the original recordings, a manifest of every file's SHA-256, the
    request's ledger entries with their inclusion proofs, and the signed checkpoint they lead
    to. Check it anywhere with 'assistgate evidence verify OUT --public-key KEY'.
    """
    if out.exists():
        fail(f"{out} already exists; choose another name (evidence is never overwritten)")
    with opened_app() as app, app.transaction() as session:
        actor = acting_user(app, session, username)
        try:
            done = export_evidence(session, archive_for(app), actor=actor, ref=ref, out=out)
        except EvidenceError as exc:
            fail(str(exc), EXIT_REFUSED)
    click.echo(f"{out}: request {done.ref}, {done.recordings} recording(s), {done.entries} "
               f"ledger entries proved against the checkpoint of {done.tree_size} "
               "entries")  # fmt: skip


@evidence.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--public-key", "key_path", required=True, metavar="KEY.pem",
              type=click.Path(path_type=Path, dir_okay=False),
              help="The ledger's public key, as the police department publishes it.")  # fmt: skip
def verify_command(bundle: Path, key_path: Path) -> None:
    """Check an evidence bundle offline; name every file that fails. Exit 1 if any does.

    Needs nothing but the bundle and the key: no database, no network.
    """
    if not bundle.is_file():
        fail(f"{bundle}: no such file")
    try:
        key = load_public_key(key_path)
    except KeyStoreError as exc:
        fail(f"--public-key: {exc}")
    check = check_bundle(bundle, key)
    if not check.sound:
        for problem in check.problems:
            click.echo(f"FAIL {problem}", err=True)
        click.echo(f"{bundle}: does NOT verify ({len(check.problems)} problem(s))", err=True)
        sys.exit(EXIT_REFUSED)
    click.echo(f"{bundle}: verified: request {check.ref}, {check.recordings} recording(s) and "
               f"{check.entries} ledger entries match the checkpoint of {check.tree_size} "
               f"entries (root {check.root[:16]}…) signed by this key")  # fmt: skip
