"""PostgreSQL goes away under a serving `assistgate serve` and comes back.

The database is a cluster of its own (scripts/postgres.sh with its own state folder and port),
so that stopping it stops nobody else's tests. While it is down, intakes are refused with a
503 that says why (never a 500 with a traceback), nothing is half-written, and the service
takes intakes again by itself once the database is back.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.backup.serving import IntakeLoad, cli_env, run_cli, serving
from tests.backup.test_drill import ok, staff
from tests.integrations.helpers import NEW_REQUEST

ROOT = Path(__file__).resolve().parents[2]


class Cluster:
    """A PostgreSQL cluster of this test's own, which it may stop and start."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.env = {**os.environ, "ASSISTGATE_PG_STATE_DIR": str(state),
                    "ASSISTGATE_PG_PORT": "55480"}  # fmt: skip
        self.url = ""

    def script(self, action: str) -> str:
        script = str(ROOT / "scripts" / "postgres.sh")
        done = subprocess.run(["bash", script, action], env=self.env, capture_output=True,
                              text=True, timeout=180)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def pg_ctl(self, *args: str) -> None:
        """Run pg_ctl on the cluster as its owner (as scripts/postgres.sh does)."""
        cluster = Path((self.state / "cluster").read_text().strip())
        bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        argv = [str(bindir[-1] / "pg_ctl"), "-D", str(cluster / "data"), "-w", "-t", "60", *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, cwd="/", timeout=120)

    def stop_server(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def start_server(self) -> None:
        cluster = Path((self.state / "cluster").read_text().strip())
        self.pg_ctl("-l", str(cluster / "postgres.log"), "start")


@pytest.fixture
def cluster(postgres_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """A fresh cluster (the shared server's presence says PostgreSQL is installed)."""
    del postgres_url
    own = Cluster(tmp_path / "pg-outage")
    own.url = own.script("start")
    try:
        yield own
    finally:
        own.script("stop")


def count(url: str, sql: str) -> int:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def test_the_database_going_away_is_a_clear_503_and_the_service_recovers_by_itself(
    cluster: Cluster, tmp_path: Path
) -> None:
    env = cli_env(tmp_path / "data", cluster.url)
    token = staff(env)
    with serving(env, tmp_path / "serve.log") as base:
        load = IntakeLoad(base, token, pause=0.02).start()
        time.sleep(2)
        cluster.stop_server()
        went_down = time.monotonic()
        time.sleep(3)
        cluster.start_server()
        came_back = time.monotonic()
        deadline = came_back + 30
        while time.monotonic() < deadline:
            if any(i.status == 201 and i.sent > came_back + 0.5 for i in list(load.sent)):
                break
            time.sleep(0.2)
        time.sleep(1)
        sent = load.finish()
        # The dispatch system sends again what was refused: each incident once in the register.
        refused = [i for i in sent if i.status != 201]
        headers = {"Authorization": f"Bearer {token}"}
        resent = [httpx.post(f"{base}/api/v1/requests", headers=headers, timeout=30,
                             json={**NEW_REQUEST, "cad_incident_id": i.incident})
                  for i in refused]  # fmt: skip

    assert {i.status for i in sent} <= {201, 503}, {i.status: i.body for i in sent}
    down = [i for i in refused if went_down <= i.sent <= came_back]
    assert down, "intakes were sent while the database was down"
    assert all(i.status == 503 for i in refused)
    assert all("the database cannot be reached" in i.body for i in refused)
    assert all("Traceback" not in i.body for i in sent)
    assert any(i.status == 201 and i.sent > came_back for i in sent), "it recovered by itself"
    assert {r.status_code for r in resent} <= {200, 201}
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log, log[-3000:]

    incidents = len({i.incident for i in sent})
    assert count(cluster.url, "SELECT count(*) FROM requests") == incidents
    assert count(cluster.url, "SELECT count(DISTINCT cad_incident_id) FROM requests") == incidents
    verified = ok(env, "ledger", "verify")
    assert f"{incidents} request(s)" in verified
    assert run_cli(env, "ledger", "verify").returncode == 0
