"""`assistgate recordings ...`: take recorder files in, watch an export folder, verify the
sealed store, the review queue, blocks, legal holds and retention. See docs/RECORDINGS.md."""

from __future__ import annotations

import errno
import functools
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click
from sqlalchemy import select

from assistgate.cli.common import (
    EXIT_INVALID,
    EXIT_REFUSED,
    acting_as,
    acting_user,
    fail,
    local_time,
    opened_app,
    reports_errors,
    table,
)
from assistgate.recordings import access
from assistgate.recordings.crypto import RecordingKeyError
from assistgate.recordings.enums import Source
from assistgate.recordings.errors import RecordingNotFound, SidecarError
from assistgate.recordings.formats import AudioError
from assistgate.recordings.ingest import ingest_file
from assistgate.recordings.models import Recording
from assistgate.recordings.service import (
    assign,
    attach,
    attached_refs,
    get_recording,
    ingest,
    recordings_of,
    review_queue,
)
from assistgate.recordings.watch import Watcher
from assistgate.recordings.wiring import archive_for
from assistgate.requests import service
from assistgate.requests.errors import InvalidField
from assistgate.requests.models import Request

P = ParamSpec("P")
R = TypeVar("R")


def _recording_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Add the recordings' own errors to the common exit codes."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (RecordingNotFound, AudioError, SidecarError) as exc:
            fail(str(exc), EXIT_INVALID)
        except RecordingKeyError as exc:
            fail(f"the recordings' key cannot be used: {exc}", EXIT_INVALID)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            fail(f"the recordings store is full ({exc.strerror}): nothing was stored or "
                 "recorded; free space, then run the command again", EXIT_INVALID)  # fmt: skip

    return reports_errors(run)


@click.group()
def recordings() -> None:
    """The commanding officers' recorded calls: in, sealed, checked, kept or let go."""


@recordings.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@acting_as
@click.option("--ref", default=None, metavar="REF",
              help="Attach every file to this request (else each sidecar decides).")  # fmt: skip
@_recording_errors
def ingest_command(paths: tuple[Path, ...], username: str, ref: str | None) -> None:
    """Take recordings (each with its sidecar PATH.json, if any) into the sealed store.

    A file whose sidecar names no request is matched by the commanding officer's extension
    and the call's time; unmatched or ambiguous files wait in the review queue. Prints one
    line per file; exits 2 if any file was refused (the others are taken all the same).
    """
    refused = 0
    with opened_app() as app:
        archive = archive_for(app)
        for path in paths:
            if not path.is_file():
                click.echo(f"assistgate: {path}: no such file", err=True)
                refused += 1
                continue
            try:
                done = ingest_file(app, archive, username=username, audio=path, ref=ref)
            except (AudioError, SidecarError) as exc:
                click.echo(f"assistgate: {path}: refused: {exc}", err=True)
                refused += 1
                continue
            click.echo(f"{path}: {done.sha256[:16]}… {done.message}")
    if refused:
        sys.exit(EXIT_INVALID)


@recordings.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@acting_as
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.05, 3600),
              help="Seconds between scans of the folder.")  # fmt: skip
@click.option("--settle", default=2.0, show_default=True, type=click.FloatRange(0, 3600),
              help="Seconds a file and its sidecar must stay unchanged before being "
              "taken.")  # fmt: skip
@click.option("--once", is_flag=True,
              help="Take what is complete now (waiting one settling period), "
              "then stop.")  # fmt: skip
@_recording_errors
def watch(folder: Path, username: str, interval: float, settle: float, once: bool) -> None:
    """Take every complete recording a call recorder exports into FOLDER, as it arrives.

    Taken files move to FOLDER/ingested, refused ones to FOLDER/refused with a .reason.txt.
    Stop it with Ctrl-C or SIGTERM at any moment: nothing is lost or taken twice.
    """
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    with opened_app(service=True) as app, app.sessions() as session:
        acting_user(app, session, username)  # an unknown account fails now, not at each file
    with opened_app(service=True) as app:
        watcher = Watcher(app, archive_for(app), folder, username, settle=settle,
                          report=lambda o: click.echo(f"{o.path.name}: {o.message}"))  # fmt: skip
        click.echo(f"watching {folder} (settle {settle:g} s); stop with Ctrl-C", err=True)
        deadline = time.monotonic() + settle + 2 * interval
        try:
            while not stopping and not (once and time.monotonic() > deadline):
                watcher.scan_once()
                time.sleep(interval)
        except KeyboardInterrupt:
            pass


@recordings.command()
@_recording_errors
def verify() -> None:
    """Decrypt and re-hash every stored recording; exit 1 naming each one that is not whole."""
    with opened_app() as app, app.sessions() as session:
        report = access.verify(session, archive_for(app))
    for problem in report.problems:
        click.echo(f"assistgate: recording {problem.sha256}: {problem.kind}: {problem.detail}",
                   err=True)  # fmt: skip
    for name in report.unreferenced:
        click.echo(f"note: stored file {name} belongs to no recording (an interrupted ingest)")
    if not report.ok:
        sys.exit(EXIT_REFUSED)
    click.echo(f"{report.checked} recordings decrypt and match their SHA-256; "
               f"{report.purged} purged under retention (hash and metadata kept)")  # fmt: skip


@recordings.command("list")
@click.argument("ref", required=False)
@_recording_errors
def list_command(ref: str | None) -> None:
    """List recordings (those of REF, or all) with their hash, format, length and state."""
    with opened_app() as app, app.sessions() as session:
        zone = app.settings.zone
        if ref:
            rows_of = [r for r, _ in recordings_of(session, ref)]
        else:
            rows_of = list(session.scalars(select(Recording).order_by(Recording.id)))
        rows = [[r.sha256[:16], r.format, r.codec, f"{r.duration_seconds:.1f}s", str(r.size),
                 local_time(r.call_started_at or r.received_at, zone),
                 ",".join(attached_refs(session, r)) or "(review queue)", _state(r)]
                for r in rows_of]  # fmt: skip
    click.echo(table(rows, ["SHA256", "FORMAT", "CODEC", "LENGTH", "BYTES", "CALL", "REQUESTS",
                            "STATE"]))  # fmt: skip


def _state(r: Recording) -> str:
    parts = ["purged" if r.purged_at else "stored"]
    if r.blocked_reason:
        parts.append("blocked")
    if r.hold_reason:
        parts.append("on hold")
    return ", ".join(parts)


@recordings.command()
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved entries.")
@_recording_errors
def review(include_resolved: bool) -> None:
    """List the recordings waiting for someone to say which request they belong to."""
    with opened_app() as app, app.sessions() as session:
        zone = app.settings.zone
        rows = []
        for item in review_queue(session, include_resolved=include_resolved):
            rec = session.get_one(Recording, item.recording_id)
            rows.append([str(item.id), rec.sha256[:16], rec.recorder_call_id or "-",
                         local_time(rec.call_started_at, zone), " ".join(rec.parties) or "-",
                         ",".join(item.candidates) or "-",
                         item.resolved_ref or item.reason])  # fmt: skip
    click.echo(table(rows, ["ID", "SHA256", "CALL ID", "CALL STARTED", "PARTIES", "CANDIDATES",
                            "REASON / ASSIGNED TO"]))  # fmt: skip


@recordings.command("assign")
@click.argument("review_id", type=int)
@click.argument("ref")
@acting_as
@_recording_errors
def assign_command(review_id: int, ref: str, username: str) -> None:
    """Attach the queued recording REVIEW_ID to request REF (a commander or administrator)."""
    with opened_app() as app, app.transaction() as session:
        assign(session, archive_for(app), actor=acting_user(app, session, username),
               review_id=review_id, ref=ref)  # fmt: skip
    click.echo(f"review {review_id}: attached to {ref} by {username}")


def _admin_step(name: str, doc: str, act: Callable[..., Recording], with_reason: bool) -> None:
    @recordings.command(name, help=doc)
    @click.argument("sha256")
    @acting_as
    @click.option("--reason", required=with_reason, default=None,
                  help="Why (a court order's number, say).")  # fmt: skip
    @_recording_errors
    def command(sha256: str, username: str, reason: str | None) -> None:
        with opened_app() as app, app.transaction() as session:
            actor = acting_user(app, session, username)
            kwargs = {"reason": reason} if with_reason else {"reason": None}
            done = act(session, archive_for(app), actor=actor, sha256=sha256, **kwargs)
            click.echo(f"recording {done.sha256[:16]}…: {name} by {username}")


_admin_step("block", "Block playback and download of a recording (an administrator).",
            access.block, True)  # fmt: skip
_admin_step("unblock", "Lift a block on a recording's playback (an administrator).",
            access.unblock, True)  # fmt: skip
_admin_step("hold", "Put a recording on legal hold: retention never deletes it.",
            access.set_hold, True)  # fmt: skip
_admin_step("release-hold", "Release a recording's legal hold.", access.set_hold, False)


@recordings.command()
@acting_as
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
@_recording_errors
def purge(username: str, dry_run: bool) -> None:
    """Delete the audio of recordings past retention and not on hold; keep hash and metadata."""
    with opened_app() as app, app.transaction() as session:
        done = access.purge(session, archive_for(app), actor=acting_user(app, session, username),
                            dry_run=dry_run)  # fmt: skip
        lines = [f"{r.sha256[:16]}… retained until {r.retain_until:%Y-%m-%d}" for r in done]
    verb = "would delete" if dry_run else "deleted"
    for line in lines:
        click.echo(f"{verb}: {line}")
    click.echo(f"{verb} the audio of {len(lines)} recordings")


def attach_stored_or_file(username: str, ref: str, path: Path | None,
                          digest: str | None) -> Request:  # fmt: skip
    """Attach a recording file (taken into the store) or a stored one to REF; return REF's row.

    For `assistgate request recording`; refusals are the register's errors, naming the option.
    """
    with opened_app() as app, app.transaction() as session:
        actor = acting_user(app, session, username)
        archive = archive_for(app)
        try:
            if path is not None:
                ingest(session, archive, actor=actor, data=path.read_bytes(), name=path.name,
                       source=Source.UPLOAD, ref=ref)  # fmt: skip
            else:
                stored = get_recording(session, digest or "")
                attach(session, archive, actor=actor, recording=stored, ref=ref)
        except AudioError as exc:
            raise InvalidField("file", f"{path}: {exc}") from exc
        except RecordingNotFound as exc:
            raise InvalidField("sha256", f"{exc}; take the file in with --file PATH") from exc
        return service.get_request(session, ref)
