"""A process that decides a request, then starts delivering its notification and is killed.

Run as `python tests/integrations/outbox_crash_worker.py DATA_DIR DATABASE_URL ENDPOINT_URL
[before-send]`. It prints `DECIDED <ref>` once the decision (and so its outbox row) is
committed, then sends to an endpoint that never answers; the test kills it there with SIGKILL.
With `before-send` it sends nothing and waits to be killed: a crash between the commit and
the webhook.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from assistgate.app import open_app
from assistgate.auth.enums import Role
from assistgate.auth.service import add_user
from assistgate.integrations.webhooks import HttpxSender, deliver_due
from assistgate.settings import Settings
from tests.factories import new_request
from tests.integrations.helpers import add_endpoint, decide


def main(data_dir: str, database_url: str, endpoint_url: str, mode: str = "") -> None:
    app = open_app(Settings(data_dir=Path(data_dir), database_url=database_url))
    with app.transaction() as session:
        for username, role in [("ct.alvarez", Role.CALL_TAKER), ("lt.okafor", Role.COMMANDER),
                               ("cad", Role.DISPATCH_SYSTEM)]:  # fmt: skip
            add_user(session, username=username, display_name=username, roles=[role])
    add_endpoint(app, name="cad-main", url=endpoint_url)
    ref = new_request(app).ref
    decide(app, ref)
    print(f"DECIDED {ref}", flush=True)
    if mode == "before-send":
        time.sleep(600)  # killed here, after the commit, before any webhook
        return
    deliver_due(app, sender=HttpxSender())  # blocks on the endpoint until killed


if __name__ == "__main__":
    main(*sys.argv[1:5])
