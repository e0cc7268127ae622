"""A worker that writes requests step by step and acknowledges each committed step on stdout.

Run as `python tests/requests/load_worker.py DATA_DIR DATABASE_URL`. The durability test kills
it with SIGKILL at random moments; every line it printed must then be found in the database.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistgate.app import App, open_app
from assistgate.auth.enums import Role
from assistgate.auth.models import User
from assistgate.auth.service import add_user
from assistgate.requests import service
from assistgate.settings import Settings

PEOPLE = [("ct.load", Role.CALL_TAKER), ("lt.load", Role.COMMANDER),
          ("cad.load", Role.DISPATCH_SYSTEM)]  # fmt: skip


def ensure_people(app: App) -> None:
    with app.transaction() as session:
        for username, role in PEOPLE:
            if session.query(User).filter_by(username=username).one_or_none() is None:
                add_user(
                    session, username=username, display_name=f"{username} (fictional)", roles=[role]
                )


def run_one(app: App, n: int) -> None:
    """Take one request from the call to dispatch, acknowledging every committed step."""

    def step(fn: Any, who: str, event: str, **kwargs: Any) -> Any:
        with app.transaction() as session:
            result = fn(session, app.deployment, actor=app.user(session, who), **kwargs)
        ref = getattr(result, "ref", None) or kwargs["ref"]
        print(f"ACK {ref} {event}", flush=True)  # only after the commit returned
        return result

    now = dt.datetime.now(dt.UTC)
    req = step(service.create_request, "ct.load", "request:alerted", received_at=now,
               agency="ice-ero", official_name="Officer Load (fictional)",
               location="100 Test St", caller_words=f"load test call {n}",
               requested_actions=["serve_criminal_warrant"],
               identity_check="callback_known_number")  # fmt: skip
    step(service.claim, "lt.load", "request:claimed", ref=req.ref)
    step(service.decide, "lt.load", "request:decided", ref=req.ref,
         facts={"warrant": {"kind": "judicial_criminal", "verified": True}},
         approve=["serve_criminal_warrant"])  # fmt: skip
    step(service.record_dispatch, "cad.load", "request:dispatched", ref=req.ref, units=["1A1"])


def main() -> None:
    data_dir, database_url = Path(sys.argv[1]), sys.argv[2]
    settings = replace(Settings(), data_dir=data_dir, database_url=database_url)
    app = open_app(settings)
    ensure_people(app)
    print("READY", flush=True)
    n = 0
    while True:
        run_one(app, n)
        n += 1


if __name__ == "__main__":
    main()
