"""`assistgate serve` in its own process, fed intakes from a thread: the service under load.

Shared by the backup drill and the failure tests. The server is the real one, as an operator
starts it; the load is the dispatch system's API.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.integrations.helpers import NEW_REQUEST
from tests.web.conftest import free_port

ASSISTGATE = Path(sys.executable).with_name("assistgate")


def cli_env(data_dir: Path, database_url: str) -> dict[str, str]:
    """Return this process's environment with only the given deployment's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTGATE_")}
    env.update(ASSISTGATE_DATA_DIR=str(data_dir), ASSISTGATE_DATABASE_URL=database_url,
               ASSISTGATE_TIMEZONE="America/Kentucky/Louisville")  # fmt: skip
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `assistgate` command in its own process."""
    return subprocess.run([str(ASSISTGATE), *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """Run `assistgate serve` until the block ends; yield its base URL."""
    port = free_port()
    with log.open("w") as err:
        proc = subprocess.Popen([str(ASSISTGATE), "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"assistgate serve exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("assistgate serve did not answer within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Intake:
    """One intake sent: when it was acknowledged (monotonic), and the answer."""

    incident: str
    sent: float
    answered: float
    status: int | None
    ref: str | None = None
    body: str = ""


@dataclass
class IntakeLoad:
    """Posts intakes, one after another, until stopped; keeps every answer."""

    base: str
    token: str
    prefix: str = "LOAD"
    pause: float = 0.0
    sent: list[Intake] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> IntakeLoad:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def finish(self) -> list[Intake]:
        self.stop.set()
        assert self.thread is not None
        self.thread.join(timeout=60)
        return self.sent

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                incident = f"{self.prefix}-{n:06d}"
                sent = time.monotonic()
                try:
                    body = {**NEW_REQUEST, "cad_incident_id": incident}
                    response = client.post("/api/v1/requests", json=body)
                    status, text = response.status_code, response.text
                except httpx.HTTPError as exc:
                    status, text = None, f"{type(exc).__name__}: {exc}"
                intake = Intake(incident, sent, time.monotonic(), status, body=text[:500])
                if status in (200, 201):
                    intake.ref = response.json()["ref"]
                self.sent.append(intake)
                if self.pause:
                    time.sleep(self.pause)
