"""Every view of a request is a ledger entry (CJIS AU-2: access to criminal justice records).

A screen that shows one request calls `record_view` in the same transaction that reads it,
so a view is either recorded or not shown. The entry names who looked, from which screen, and
nothing else (AU-3(3): no more personal data in audit records than needed).
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from assistgate.app import App
from assistgate.auth.models import User

REQUEST_VIEWED = "access:request_viewed"
_VIA = re.compile(r"[a-z][a-z0-9_:-]{0,31}")


def record_view(app: App, db: Session, user: User, ref: str, via: str) -> None:
    """Append `access:request_viewed` for `user` looking at request `ref` on screen `via`.

    `via` names the screen in a few lowercase letters ("audit", "request_page", ...). The
    entry's subject is the request's reference, so the request's own history shows who saw it.
    """
    if not _VIA.fullmatch(via):
        raise ValueError(f"via: expected a short lowercase screen name; got {via!r}")
    app.deployment.ledger.append(
        db,
        actor=user.username,
        event=REQUEST_VIEWED,
        subject=ref,
        data={"via": via, "roles": sorted(user.roles)},
    )
