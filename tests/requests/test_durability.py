"""Kill a writer with SIGKILL at random moments: every acknowledged step survives, and the
ledger still verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from assistgate.app import open_app
from assistgate.ledger.keys import FileKeyStore
from assistgate.ledger.models import LedgerEntryRow
from assistgate.ledger.verify import verify_database
from assistgate.settings import Settings

WORKER = Path(__file__).with_name("load_worker.py")
ROOT = Path(__file__).resolve().parents[2]
KILLS = 12


def _run_and_kill(data_dir: Path, database_url: str, rng: random.Random) -> list[str]:
    """Start the worker, let it write for a random while, SIGKILL it; return its ACK lines."""
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(data_dir), database_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY", proc.stderr.read() if proc.stderr else ""
    time.sleep(rng.uniform(0.05, 0.6))
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # A line cut off by the kill was never fully acknowledged: only whole lines count.
    return [line for line in out.split("\n") if line.startswith("ACK ") and len(line.split()) == 3]


def test_every_acknowledged_step_survives_sigkill_and_the_ledger_verifies(
    database_url: str, tmp_path: Path
) -> None:
    FileKeyStore(tmp_path / "keys").init()
    rng = random.Random(1325)
    acknowledged: list[tuple[str, str]] = []
    for _ in range(KILLS):
        for line in _run_and_kill(tmp_path, database_url, rng):
            _, ref, event = line.split()
            acknowledged.append((ref, event))
    assert len(acknowledged) > KILLS, "the worker wrote too little to test anything"

    app = open_app(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        with app.sessions() as session:
            stored = {(row.subject, row.event) for row in session.scalars(select(LedgerEntryRow))}
            missing = [a for a in acknowledged if a not in stored]
            assert missing == [], f"acknowledged but lost: {missing[:5]}"
            report = verify_database(session, app.keys.ledger_public_key())
        assert report.findings == [], report.findings[:3]
        assert report.entries >= len(acknowledged)
    finally:
        app.close()
