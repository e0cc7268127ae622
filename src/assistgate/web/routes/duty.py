"""A commanding officer marks themself on or off duty; alerts go to commanders on duty.

Each change is a ledger entry, so that who was on duty when a request waited can be shown.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from assistgate.requests.enums import Event
from assistgate.web.deps import AppDep, Commander, CsrfChecked, DbSession
from assistgate.web.routes.login import audit_event

router = APIRouter(include_in_schema=False)


def _safe_next(value: str) -> str:
    ok = value.startswith("/") and not value.startswith("//") and "\\" not in value
    return value if ok else "/queue"


@router.post("/duty")
def set_duty(
    app: AppDep,
    db: DbSession,
    state: CsrfChecked,
    user: Commander,
    on_duty: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/queue",
) -> Response:
    wanted = on_duty.strip().lower() in ("1", "true", "on", "yes")
    if user.on_duty != wanted:
        user.on_duty = wanted
        audit_event(app, db, actor=user.username, event=Event.DUTY_CHANGED,
                    data={"on_duty": wanted, "duty_rank": user.duty_rank,
                          "by": "screen"})  # fmt: skip
        db.commit()
    return RedirectResponse(_safe_next(next), status_code=303)
