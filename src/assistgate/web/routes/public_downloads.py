"""The public downloads (/public/log.*, /public/figures.*, the data dictionary), no sign-in.

`?period=` (a month, quarter, year or range of days) limits a file to one period; the public
log without it holds every request, the figures without it cover the last twelve months. The
bytes are those `assistgate report build` writes for the same period.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from assistgate.transparency.periods import Period, PeriodError, parse_period
from assistgate.transparency.public_files import KINDS, figures_file
from assistgate.transparency.public_log import (
    DATA_DICTIONARY,
    data_dictionary_json,
    load_public_log,
    log_csv,
    log_json,
    log_parquet,
)
from assistgate.transparency.reports import gather
from assistgate.web.deps import AppDep, DbSession
from assistgate.web.routes.public import asked_period, render

router = APIRouter(include_in_schema=False)
LOG_WRITERS = {"csv": log_csv, "json": log_json, "parquet": log_parquet}


def _file(body: bytes, kind: str, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-cache"}
    return Response(body, media_type=KINDS[kind], headers=headers)


def _period_or_400(request: Request, app: AppDep) -> Period | None:
    text = request.query_params.get("period", "").strip()
    if not text:
        return None
    try:
        return parse_period(text, app.settings.zone)
    except PeriodError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"period: {exc}") from exc


@router.get("/public/downloads", response_class=HTMLResponse)
def downloads_page(request: Request) -> Response:
    return render(request, "public/downloads.html", {"dictionary": DATA_DICTIONARY},
                  current="/public/downloads")  # fmt: skip


@router.get("/public/data-dictionary.json")
def data_dictionary() -> Response:
    return _file(data_dictionary_json(), "json", "data-dictionary.json")


@router.get("/public/log.{kind}")
def public_log_file(kind: str, request: Request, app: AppDep, db: DbSession) -> Response:
    if kind not in LOG_WRITERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the public log comes as .csv, .json "
                            "or .parquet")  # fmt: skip
    period = _period_or_400(request, app)
    rows = load_public_log(db, app.settings.zone, period)
    stem = f"public-log-{period.label.replace('..', '_to_')}" if period else "public-log"
    return _file(LOG_WRITERS[kind](rows), kind, f"{stem}.{kind}")


@router.get("/public/figures.{kind}")
def figures_download(kind: str, request: Request, app: AppDep, db: DbSession) -> Response:
    if kind not in KINDS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the figures come as .csv, .json or "
                            ".parquet")  # fmt: skip
    _period_or_400(request, app)
    period, _bad = asked_period(request, app)
    data = gather(db, period, public_key=app.keys.ledger_public_key(),
                  origin=app.settings.ledger_origin)  # fmt: skip
    stem = f"figures-{period.label.replace('..', '_to_')}"
    return _file(figures_file(data, kind), kind, f"{stem}.{kind}")
