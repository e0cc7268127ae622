"""The commanding officers' queue: open requests, newest first, updating by itself.

`GET /queue` is the page; `GET /queue/rows` its list alone (what the page's script fetches
after every change); `GET /queue/events` the stream of server-sent events that says a request
changed (see `assistgate.web.live` for how a change travels, across processes on PostgreSQL).

The list and the stream do not count as activity: a queue left open does not keep a session
alive past the idle limit, and the stream ends, saying so, when the session does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.app import App
from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.auth.sessions import lookup_session
from assistgate.cli.common import local_time
from assistgate.requests.enums import OPEN_STATES, State
from assistgate.requests.escalation import duty_list
from assistgate.requests.models import Request as AgencyRequest
from assistgate.web import live
from assistgate.web.app import templates
from assistgate.web.deps import SESSION_COOKIE, AppDep, CurrentUser, DbSession
from assistgate.web.routes.intake import labels, no_access

router = APIRouter(include_in_schema=False, lifespan=live.lifespan)

QUEUE_LIMIT = 300
# A comment line keeps proxies from closing a quiet stream; the session is checked as often.
HEARTBEAT_SECONDS = 15.0
# Streams end after a while and the browser reconnects: no stream outlives a server's restart
# by long, and each reconnection checks the session afresh.
STREAM_SECONDS = 300.0
WAITING = (State.RECEIVED, State.AWAITING_REVIEW)


def queue_groups(session: Session, zone: dt.tzinfo) -> list[dict[str, Any]]:
    """Return the open requests, newest first, in three groups: waiting, in review, decided."""
    rows = session.scalars(
        select(AgencyRequest)
        .where(AgencyRequest.state.in_([s.value for s in OPEN_STATES]))
        .order_by(AgencyRequest.received_at.desc(), AgencyRequest.id.desc())
        .limit(QUEUE_LIMIT)
    ).all()
    items = [_item(r, zone) for r in rows]
    return [
        {"id": "waiting", "title": "Awaiting review",
         "empty": "Nothing is waiting for a commanding officer.",
         "items": [i for i in items if i["state"] in WAITING]},
        {"id": "review", "title": "Under review", "empty": "None under review.",
         "items": [i for i in items if i["state"] == State.UNDER_REVIEW]},
        {"id": "open", "title": "Decided, still open", "empty": "None.",
         "items": [i for i in items if i["state"] not in (*WAITING, State.UNDER_REVIEW)]},
    ]  # fmt: skip


def _item(r: AgencyRequest, zone: dt.tzinfo) -> dict[str, Any]:
    return {"ref": r.ref, "state": r.state, "received": local_time(r.received_at, zone),
            "agency": r.agency, "actions": r.requested_actions, "location": r.location,
            "district": r.district, "commander": r.commander, "level": r.escalation_level,
            "flagged": r.flagged_for_review}  # fmt: skip


def duration(seconds: int) -> str:
    """Say a number of seconds the way a person would: 2 minutes, 90 seconds."""
    if seconds % 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = seconds // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _rows_context(request: Request, app: App, db: Session) -> dict[str, Any]:
    return {"groups": queue_groups(db, app.settings.zone), **labels()}


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, app: AppDep, db: DbSession, user: CurrentUser) -> Response:
    if Role.COMMANDER not in user.roles:
        return no_access(request, user, "The queue", "commanding officers")
    context = _rows_context(request, app, db) | {
        "me": user,
        "duty": duty_list(db),
        "after": duration(app.settings.escalate_after_seconds),
    }
    return templates.TemplateResponse(request, "queue.html", context)


def _quiet_commander(request: Request, db: Session) -> User:
    """Admit a commander's live session without counting this as activity (401 / 403)."""
    state = lookup_session(db, request.cookies.get(SESSION_COOKIE), touch=False)
    if state is None or state.needs_second_factor:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in again")
    if Role.COMMANDER not in state.user.roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the queue is for commanding officers")
    request.state.user = state.user
    request.state.csrf_token = state.session.csrf_token
    return state.user


@router.get("/queue/rows", response_class=HTMLResponse)
def queue_rows(request: Request, app: AppDep, db: DbSession) -> Response:
    _quiet_commander(request, db)
    return templates.TemplateResponse(request, "queue_items.html", _rows_context(request, app, db))


def _session_status(app: App, token: str | None) -> int:
    """Return 200 for a commander's live session, 401 without one, 403 for another role."""
    with app.transaction() as db:
        state = lookup_session(db, token, touch=False)
        if state is None or state.needs_second_factor:
            return status.HTTP_401_UNAUTHORIZED
        return 200 if Role.COMMANDER in state.user.roles else status.HTTP_403_FORBIDDEN


@router.get("/queue/events")
async def queue_events(request: Request, app: AppDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    verdict = await run_in_threadpool(_session_status, app, token)
    if verdict == status.HTTP_401_UNAUTHORIZED:
        return PlainTextResponse("sign in again", status_code=verdict)
    if verdict == status.HTTP_403_FORBIDDEN:
        return PlainTextResponse("the queue is for commanding officers", status_code=verdict)
    broker = live.broker_of(request.app)
    if broker is None or broker.closed:
        return PlainTextResponse("live updates are not running", status_code=503)
    return StreamingResponse(
        _events(app, broker, token),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(app: App, broker: live.Broker, token: str | None) -> AsyncIterator[str]:
    subscription = broker.subscribe()
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_SECONDS
    try:
        yield "retry: 2000\n\n"
        # The page fetches the list again on this, covering anything before the subscription.
        yield "event: hello\ndata: {}\n\n"
        while loop.time() < ends:
            try:
                change = await subscription.next(HEARTBEAT_SECONDS)
            except live.Closed:
                return
            if change is not None:
                yield f"event: change\ndata: {change.to_json()}\n\n"
                continue
            if await run_in_threadpool(_session_status, app, token) != 200:
                yield 'event: ended\ndata: {"reason": "session"}\n\n'
                return
            yield ": still here\n\n"
    finally:
        broker.unsubscribe(subscription)
