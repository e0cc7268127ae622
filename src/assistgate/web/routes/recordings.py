"""Recordings on the web: upload (screen and API), the recordings page with the player, range
streaming for seeking, download, and the administrator's block.

Playing is a form post: it writes `recording:played` on the ledger and returns the page with a
player whose address carries a short-lived token for that person and that recording, so the
browser's range requests while seeking are the same play, not new ones.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from assistgate.app import App
from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.auth.sessions import lookup_session, lookup_token
from assistgate.cli.common import local_time
from assistgate.recordings import access
from assistgate.recordings.enums import Source
from assistgate.recordings.errors import AudioPurged, PlaybackBlocked, RecordingNotFound
from assistgate.recordings.formats import MIME, AudioError
from assistgate.recordings.models import Recording
from assistgate.recordings.service import Ingested, attached_refs, ingest, recordings_of
from assistgate.recordings.wiring import archive_for
from assistgate.requests import service
from assistgate.requests.errors import InvalidField, NotPermitted, RegisterError, RequestNotFound
from assistgate.web.access import record_view
from assistgate.web.app import templates
from assistgate.web.deps import SESSION_COOKIE, Admin, AppDep, Auditor, CsrfChecked, DbSession

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["recorders"])
MAX_UPLOAD = 2 << 30
STATUS = {RequestNotFound: 404, RecordingNotFound: 404, NotPermitted: 403, InvalidField: 422,
          PlaybackBlocked: 451, AudioPurged: 410}  # fmt: skip


def _status(exc: Exception) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 409)


async def _bytes(file: object) -> bytes:
    if not isinstance(file, UploadFile):
        raise InvalidField("file", "choose the recording's file to upload")
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidField("file", "larger than 2 GiB")
    return data


def _ingest(app: App, db: Session, user: User, ref: str, data: bytes, name: str,
            source: Source) -> Ingested:  # fmt: skip
    try:
        return ingest(db, archive_for(app), actor=user, data=data, name=name or "upload",
                      source=source, ref=ref)  # fmt: skip
    except AudioError as exc:
        raise InvalidField("file", f"{name or 'the file'}: {exc}") from exc


async def upload_step(app: App, db: Session, user: User, ref: str,
                      file: object) -> Callable[[], object]:  # fmt: skip
    """Return the step the request screen runs for an uploaded recording (errors included)."""
    try:
        data = await _bytes(file)
    except InvalidField as exc:
        error = exc

        def refuse() -> object:
            raise error

        return refuse
    name = file.filename if isinstance(file, UploadFile) else ""
    return lambda: _ingest(app, db, user, ref, data, name or "", Source.UPLOAD)


# --- API: a recorder integration or a commander's own script ---------------------------------


async def recorder_or_commander(request: Request, db: DbSession) -> User:
    """Admit a bearer token with `recordings:write`, or a commander's session with its CSRF
    token (header X-CSRF-Token or form field csrf_token); 401 / 403 otherwise."""
    header = request.headers.get("authorization", "")
    if header:
        kind, _, token = header.partition(" ")
        found = lookup_token(db, token.strip()) if kind.lower() == "bearer" else None
        if found is None:
            raise HTTPException(401, "unknown or revoked API token",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        if "recordings:write" not in found[0].scopes:
            raise HTTPException(403, "this token lacks the scope recordings:write")
        return found[1]
    state = lookup_session(db, request.cookies.get(SESSION_COOKIE))
    if state is None or state.needs_second_factor or state.needs_password_change:
        raise HTTPException(401, "an API token (Authorization: Bearer ...) or a signed-in "
                            "commanding officer is required",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    if Role.COMMANDER not in state.user.roles:
        raise HTTPException(403, "recordings are added by commanding officers")
    form = await request.form()
    sent = request.headers.get("x-csrf-token") or form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, state.session.csrf_token):
        raise HTTPException(403, "the CSRF token is missing or stale")
    return state.user


@api_router.post("/requests/{ref}/recordings", status_code=201)
async def api_upload(request: Request, app: AppDep, db: DbSession,
                     user: Annotated[User, Depends(recorder_or_commander)],
                     ref: str) -> JSONResponse:  # fmt: skip
    """Attach a call recording (multipart field `file`) to request REF; 200 if already there."""
    form = await request.form()
    try:
        data = await _bytes(form.get("file"))
        upload = form.get("file")
        name = upload.filename if isinstance(upload, UploadFile) else ""
        done = _ingest(app, db, user, ref, data, name or "", Source.API)
    except RegisterError as exc:
        db.rollback()
        return JSONResponse({"detail": str(exc)}, _status(exc))
    r = done.recording
    body = {"ref": ref, "sha256": r.sha256, "size": r.size, "format": r.format,
            "codec": r.codec, "duration_seconds": round(r.duration_seconds, 3),
            "created": done.created, "url": f"/requests/{ref}/recordings"}  # fmt: skip
    return JSONResponse(body, 201 if done.created else 200)


router.include_router(api_router)


# --- The recordings page, the player, downloads ----------------------------------------------


def _page(request: Request, app: App, db: Session, user: User, ref: str, *, play: str = "",
          error: str = "", status_code: int = 200) -> Response:  # fmt: skip
    req = service.get_request(db, ref)
    zone = app.settings.zone
    rows = []
    for rec, attachment in recordings_of(db, ref):
        rows.append({"r": rec, "attached": local_time(attachment.attached_at, zone),
                     "by": attachment.attached_by, "call": local_time(rec.call_started_at, zone),
                     "retain": f"{rec.retain_until:%Y-%m-%d}"})  # fmt: skip
    playing = None
    if play:
        try:
            playing = access.redeem(db, actor=user, token=play)
        except RegisterError as exc:
            error = str(exc)
    context = {"req": req, "rows": rows, "play": play if playing else "", "playing": playing,
               "error": error, "commander": Role.COMMANDER in user.roles}  # fmt: skip
    return templates.TemplateResponse(request, "recordings.html", context, status_code=status_code)


@router.get("/requests/{ref}/recordings", response_class=HTMLResponse)
def recordings_page(request: Request, app: AppDep, db: DbSession, user: Auditor, ref: str,
                    play: str = "") -> Response:  # fmt: skip
    try:
        service.get_request(db, ref)
    except RequestNotFound:
        return _missing(request, ref)
    record_view(app, db, user, ref, "recordings")
    return _page(request, app, db, user, ref, play=play)


@router.post("/requests/{ref}/recordings/{sha256}/play")
def play(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Auditor,
         ref: str, sha256: str) -> Response:  # fmt: skip
    try:
        with db.begin_nested():
            token = access.grant_playback(db, archive_for(app), actor=user, ref=ref,
                                          sha256=sha256)  # fmt: skip
    except RegisterError as exc:
        return _refused(request, app, db, user, ref, exc)
    db.commit()
    return RedirectResponse(f"/requests/{ref}/recordings?play={quote(token)}#player", 303)


def _refused(request: Request, app: App, db: Session, user: User, ref: str,
             exc: Exception) -> Response:  # fmt: skip
    try:
        return _page(request, app, db, user, ref, error=str(exc), status_code=_status(exc))
    except RequestNotFound:
        return _missing(request, ref)


def _missing(request: Request, ref: str) -> Response:
    return templates.TemplateResponse(request, "no_access.html", {"missing": ref, "home": "/"},
                                      status_code=404)  # fmt: skip


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@router.get("/recordings/stream/{token}")
def stream(request: Request, app: AppDep, db: DbSession, user: Auditor, token: str) -> Response:
    """Stream a granted play, answering range requests (206) so the player can seek."""
    try:
        recording = access.redeem(db, actor=user, token=token)
    except RegisterError as exc:
        return Response(str(exc), _status(exc), media_type="text/plain")
    return _ranged(request, app, recording, {})


def _ranged(request: Request, app: App, recording: Recording,
            headers: dict[str, str]) -> Response:  # fmt: skip
    size, archive = recording.size, archive_for(app)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "no-store", **headers}
    media = MIME.get(recording.format, "application/octet-stream")
    wanted = _RANGE.fullmatch(request.headers.get("range", "").strip())
    if wanted is None or wanted.groups() == ("", ""):
        headers["Content-Length"] = str(size)
        return StreamingResponse(access.stream(archive, recording), 200, headers, media)
    first, last = wanted.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    headers |= {"Content-Range": f"bytes {start}-{end}/{size}",
                "Content-Length": str(end - start + 1)}  # fmt: skip
    return StreamingResponse(access.stream(archive, recording, start, end), 206, headers, media)


@router.post("/requests/{ref}/recordings/{sha256}/download")
def download(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Auditor,
             ref: str, sha256: str) -> Response:  # fmt: skip
    try:
        with db.begin_nested():
            recording = access.record_download(db, archive_for(app), actor=user, ref=ref,
                                               sha256=sha256)  # fmt: skip
    except RegisterError as exc:
        return _refused(request, app, db, user, ref, exc)
    db.commit()
    name = re.sub(r"[^A-Za-z0-9._-]", "_", recording.original_name) or recording.sha256
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return _ranged(request, app, recording, disposition)


# --- The administrator: block or unblock playback --------------------------------------------


@router.get("/admin/recordings", response_class=HTMLResponse)
def admin_recordings(request: Request, app: AppDep, db: DbSession, user: Admin,
                     done: str = "", error: str = "") -> Response:  # fmt: skip
    rows: list[dict[str, Any]] = [
        {"r": r, "refs": ", ".join(attached_refs(db, r)) or "review queue"}
        for r in db.scalars(select(Recording).order_by(Recording.id.desc()).limit(500))
    ]
    return templates.TemplateResponse(request, "admin_recordings.html",
                                      {"rows": rows, "done": done, "error": error})  # fmt: skip


async def _reason(request: Request) -> str:
    value = (await request.form()).get("reason")
    return value.strip() if isinstance(value, str) else ""


@router.post("/admin/recordings/{sha256}/block")
async def block(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Admin,
                sha256: str) -> Response:  # fmt: skip
    return _admin(app, db, access.block, user, sha256, await _reason(request), "blocked")


@router.post("/admin/recordings/{sha256}/unblock")
async def unblock(request: Request, app: AppDep, db: DbSession, state: CsrfChecked, user: Admin,
                  sha256: str) -> Response:  # fmt: skip
    return _admin(app, db, access.unblock, user, sha256, await _reason(request), "unblocked")


def _admin(app: App, db: Session, act: Callable[..., Recording], user: User, sha256: str,
           reason: str, done: str) -> Response:  # fmt: skip
    try:
        with db.begin_nested():
            act(db, archive_for(app), actor=user, sha256=sha256, reason=reason)
    except RegisterError as exc:
        return RedirectResponse(f"/admin/recordings?error={quote(str(exc))}", 303)
    db.commit()
    return RedirectResponse(f"/admin/recordings?done={done}", 303)
