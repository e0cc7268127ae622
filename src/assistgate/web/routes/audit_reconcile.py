"""The auditor's reconciliation screen: upload a dispatch export, see the possible bypasses.

The auditor uploads the dispatch system's export (CSV, gzip CSV, Parquet or JSON Lines in one
of the presets' layouts) or a FLAGGED.csv made by `assistgate audit scan`. The server scans it
with the same scanner and rules as the command line, reconciles the agency requests it finds
with the register (`audit.reconcile`, as `assistgate audit reconcile` does) and shows the calls
with no request (possible bypasses of the policy) and the requests whose incident is not in the
export, each with the words quoted from the record; or sends the same findings as CSV.

Least privilege: auditors only. The export holds every call of the period, with addresses and
remarks, and the reconciliation reads the register in bulk: the inspector's function, like the
bulk export (commanders may search and read requests, not this). Both the upload and the run
are ledger entries (`audit:export_uploaded`, `audit:reconciled`) under the auditor's name,
appended after the scan so that the ledger is never held while a large file is read.

Uploads are limited to `UPLOAD_LIMIT` bytes, refused from the request's declared length before
anything is read; larger archives are for `assistgate audit scan` on the server.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from assistgate.app import App
from assistgate.audit.errors import ReadError
from assistgate.audit.reconcile import Outcome, Reconciliation, reconcile, scan_period
from assistgate.audit.register import register_entries
from assistgate.audit.report import REPORT_COLUMNS, finding_row, summary_lines
from assistgate.audit.rules import Category
from assistgate.audit.uploads import KINDS, ScannedExport, flagged_calls_in
from assistgate.auth.models import User
from assistgate.web.app import templates
from assistgate.web.deps import AppDep, DbSession, LiveSession, csrf_checked
from assistgate.web.routes.audit_pages import Inspector

router = APIRouter(include_in_schema=False)

UPLOADED = "audit:export_uploaded"
RECONCILED = "audit:reconciled"
UPLOAD_LIMIT = 512 * 1024 * 1024  # bytes: an internal export of a few million calls, gzipped
# What the file may be called: the scanner tells formats by their content, and by these names.
SUFFIXES = (".csv", ".csv.gz", ".gz", ".tsv", ".txt", ".parquet", ".jsonl", ".ndjson",
            ".jsonl.gz", ".ndjson.gz", ".json")  # fmt: skip
DEFAULT_WINDOW = 30
SHOWN = 1000
_CHUNK = 1 << 20
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Asked:
    """What the form asked for, read and checked."""

    kind: str
    window: int
    since: dt.date | None
    until: dt.date | None
    as_csv: bool


class FormProblem(ValueError):
    """The form is malformed (400): the message names the field."""


def _page(request: Request, code: int = status.HTTP_200_OK, **context: Any) -> HTMLResponse:
    base: dict[str, Any] = {
        "kinds": KINDS,
        "limit_mb": UPLOAD_LIMIT // (1024 * 1024),
        "window": DEFAULT_WINDOW,
        "kind": "internal",
        "since": "",
        "until": "",
        "problem": "",
        "result": None,
    }
    base.update(context)
    return templates.TemplateResponse(request, "audit_reconcile.html", base, status_code=code)


@router.get("/audit/reconcile", response_class=HTMLResponse)
def reconcile_form(request: Request, user: Inspector) -> Response:
    return _page(request)


@router.post("/audit/reconcile", response_class=HTMLResponse)
async def reconcile_upload(
    request: Request, user: Inspector, session: LiveSession, app: AppDep, db: DbSession
) -> Response:
    # The declared length is checked before the body is read: an oversized upload costs nothing.
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        return _page(request, status.HTTP_411_LENGTH_REQUIRED,
                     problem="the upload must declare its length (Content-Length)")  # fmt: skip
    if int(declared) > UPLOAD_LIMIT:
        return _page(request, status.HTTP_413_CONTENT_TOO_LARGE,
                     problem=f"the file is larger than the limit of {UPLOAD_LIMIT // 2**20} MB "
                     "for uploads; run 'assistgate audit scan' and upload its FLAGGED.csv, "
                     "or run 'assistgate audit reconcile' on the server")  # fmt: skip
    await csrf_checked(request, session)
    form = await request.form()
    try:
        asked = _asked(form)
    except FormProblem as exc:
        return _page(request, status.HTTP_400_BAD_REQUEST, problem=str(exc), **_echo(form))
    upload = form.get("export")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, status.HTTP_400_BAD_REQUEST,
                     problem="export: choose the file to upload", **_echo(form))  # fmt: skip
    return await run_in_threadpool(_run, request, user, app, db, asked, upload, _echo(form))


def _asked(form: FormData) -> Asked:
    kind = str(form.get("kind") or "")
    if kind not in KINDS:
        raise FormProblem(f"kind: {kind!r} is not one of the choices")
    raw_window = str(form.get("window") or DEFAULT_WINDOW).strip()
    if not raw_window.isdigit() or not 0 <= int(raw_window) <= 1440:
        raise FormProblem(f"window: expected whole minutes from 0 to 1440; got {raw_window!r}")
    days = []
    for name in ("since", "until"):
        raw = str(form.get(name) or "").strip()
        try:
            days.append(dt.date.fromisoformat(raw) if raw else None)
        except ValueError:
            raise FormProblem(f"{name}: expected a date like 2018-03-06; got {raw!r}") from None
    since, until = days
    if since and until and until < since:
        raise FormProblem("until: the end of the period is before its start")
    return Asked(kind, int(raw_window), since, until, form.get("as") == "csv")


def _echo(form: FormData) -> dict[str, Any]:
    """Return the form's values to show again, so a corrected upload keeps the choices."""
    return {k: str(form.get(k) or "")[:32] for k in ("kind", "window", "since", "until")
            if form.get(k) is not None}  # fmt: skip


def _safe_name(filename: str) -> str:
    """Return the file's own name, without folders, in characters safe for a temporary file."""
    base = re.split(r"[\\/]", filename)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "export"
    return cleaned[-100:]


def _run(
    request: Request,
    user: User,
    app: App,
    db: Session,
    asked: Asked,
    upload: UploadFile,
    echo: dict[str, Any],
) -> Response:
    zone = app.settings.zone
    name = _safe_name(upload.filename or "")
    shown = (upload.filename or name)[-200:]
    digest = hashlib.sha256()
    size = 0
    problem = ""
    scanned: ScannedExport | None = None
    with tempfile.TemporaryDirectory(prefix="assistgate-upload-") as folder:
        path = Path(folder) / name
        with path.open("wb") as out:
            while chunk := upload.file.read(_CHUNK):
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
        if not name.lower().endswith(SUFFIXES):
            problem = (f"{shown}: expected a .csv, .csv.gz, .parquet or .jsonl file "
                       "(the name tells the scanner what it holds)")  # fmt: skip
        elif size > UPLOAD_LIMIT:
            problem = f"{shown}: larger than the limit of {UPLOAD_LIMIT // 2**20} MB for uploads"
        else:
            try:
                scanned = flagged_calls_in(path, asked.kind, zone, shown_as=shown)
            except ReadError as exc:
                problem = str(exc)
    sha256 = digest.hexdigest()
    uploaded = {"file": shown, "bytes": size, "sha256": sha256, "kind": asked.kind,
                "refused": problem}  # fmt: skip
    app.deployment.ledger.append(db, actor=user.username, event=UPLOADED,
                                 subject=f"upload:{sha256[:16]}", data=uploaded)  # fmt: skip
    if scanned is None:
        return _page(request, status.HTTP_422_UNPROCESSABLE_CONTENT, problem=problem, **echo)

    window = dt.timedelta(minutes=asked.window)
    since = _midnight(asked.since, zone)
    until = _midnight(asked.until + dt.timedelta(days=1), zone) if asked.until else None
    period = scan_period(scanned.calls, since, until)
    requests = register_entries(
        db,
        since=None if period is None else period[0] - window,
        until=None if period is None else period[1] + window,
    )
    result = reconcile(scanned.calls, requests, window=window, period=period)
    app.deployment.ledger.append(db, actor=user.username, event=RECONCILED,
                                 subject=f"upload:{sha256[:16]}",
                                 data=_counts(result, asked, scanned))  # fmt: skip
    if asked.as_csv:
        return _csv(result, zone, shown)
    return _page(request, result=_shown(result, scanned, shown, zone), **echo)


def _midnight(day: dt.date | None, zone: dt.tzinfo) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)


def _counts(result: Reconciliation, asked: Asked, scanned: ScannedExport) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "kind": asked.kind,
        "window_minutes": asked.window,
        "flagged_agency_requests": result.agency_requests,
        "register_requests_in_period": result.requests_in_period,
        "matched": len(result.matched),
        "possible_bypass": result.count(Outcome.POSSIBLE_BYPASS),
        "request_not_in_dispatch": result.count(Outcome.REQUEST_NOT_IN_DISPATCH),
    }
    if scanned.summary is not None:
        counts["rows_scanned"] = scanned.summary.rows
    return counts


def _cell(value: str) -> str:
    """Quote text a spreadsheet would run as a formula (the export's remarks are untrusted)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv(result: Reconciliation, zone: Any, shown: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, REPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for f in result.findings:
        writer.writerow({k: _cell(v) for k, v in finding_row(f, zone).items()})
    stem = _safe_name(shown).split(".")[0][:60] or "export"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="reconciliation-{stem}.csv"'})  # fmt: skip


def _shown(result: Reconciliation, scanned: ScannedExport, shown: str, zone: Any) -> dict[str, Any]:
    rows = [finding_row(f, zone) for f in result.findings]
    bypasses = [r for r in rows if r["finding"] == Outcome.POSSIBLE_BYPASS.value]
    missing = [r for r in rows if r["finding"] == Outcome.REQUEST_NOT_IN_DISPATCH.value]
    s = scanned.summary
    scan = None
    if s is not None:
        scan = {
            "rows": s.rows,
            "candidates": s.candidates,
            "agency_requests": s.by_category.get(Category.AGENCY_REQUEST, 0),
            "seconds": f"{s.seconds:.1f}",
            "described": "; ".join(f.sniffed.describe() for f in s.files),
            "blind": s.blind,
        }
    return {
        "file": shown,
        "scan": scan,
        "summary": summary_lines(result, zone),
        "bypasses": bypasses[:SHOWN],
        "bypass_count": len(bypasses),
        "missing": missing[:SHOWN],
        "missing_count": len(missing),
        "matched": len(result.matched),
        "shown": SHOWN,
    }
