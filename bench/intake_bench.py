"""Benchmark intake through the dispatch-system API, and the time until an open queue sees it.

    python bench/intake_bench.py                       # SQLite in a temporary folder
    python bench/intake_bench.py --postgres URL        # a fresh database on that server
    python bench/intake_bench.py --rates 50,200 --seconds 10 --json

The server is the real one: `assistgate serve` in its own process (uvicorn, the escalation
loop, the outbox worker, the live queue), on loopback, with durable storage (SQLite in WAL mode
with synchronous=FULL, or PostgreSQL with fsync on). The load comes from this process, over
HTTP/1.1 with keep-alive, through httpx.

In one run:

1. **Saturation.** As many requests per second as `--concurrency` connections get, for
   `--seconds`: first `GET /healthz` (a bare endpoint of the same FastAPI app that does
   nothing), then `POST /api/v1/requests` (a held request: validation, the request row, two
   signed ledger entries, the commit). The ratio is what an intake costs over the framework.
2. **Fixed rates** (default 50 and 200 intakes per second, each for `--seconds`), sent on a
   schedule whatever the answers (so a slow answer cannot hide the queue behind it): the
   intake's latency from its scheduled time, and the time from sending the intake until the
   change reaches a commanding officer's open queue (`GET /queue/events`, server-sent events),
   median and 99th percentile; events that never arrived are counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from assistgate import __version__
from assistgate.app import open_app
from assistgate.auth.enums import Role
from assistgate.auth.service import add_user
from assistgate.auth.sessions import create_token, start_session
from assistgate.ledger.keys import FileKeyStore
from assistgate.settings import Settings

BODY = {
    "agency": "ice-ero",
    "official_name": "Deportation Officer K. Marsh (fictional)",
    "official_badge": "ERO Louisville sub-office",
    "callback_number": "502-555-0142",
    "identity_check": "callback_known_number",
    "location": "1234 S 4th St",
    "district": "4",
    "caller_words": "Agents ask for a unit to serve a circuit court warrant and to knock on "
    "the door with them.",
    "requested_actions": ["serve_criminal_warrant", "knock_and_talk"],
}


@dataclass
class Figures:
    """Latencies in milliseconds of one series, and how many went wrong."""

    name: str
    sent: int = 0
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    queue_ms: list[float] = field(default_factory=list, repr=False)
    queue_missing: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def failed(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("latencies_ms", "queue_ms")}
        out["per_second"] = round(self.per_second, 1)
        out["latency_p50_ms"] = percentile(self.latencies_ms, 50)
        out["latency_p99_ms"] = percentile(self.latencies_ms, 99)
        if self.queue_ms or self.queue_missing:
            out["queue_p50_ms"] = percentile(self.queue_ms, 50)
            out["queue_p99_ms"] = percentile(self.queue_ms, 99)
        return out


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1], 1)


# --- The deployment under test -------------------------------------------------------------------


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """Create an empty database on the server, yield its URL, then drop it."""
    name = f"assistgate_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def prepare(data_dir: Path, database_url: str) -> tuple[str, str]:
    """Create the key, the dispatch system and a commander; return (API token, session)."""
    FileKeyStore(data_dir / "keys").init()
    app = open_app(Settings(data_dir=data_dir, database_url=database_url))
    try:
        with app.transaction() as session:
            cad = add_user(
                session, username="cad", display_name="CAD", roles=[Role.DISPATCH_SYSTEM]
            )
            commander = add_user(session, username="lt.bench", display_name="Lt. Bench (fictional)",
                                 roles=[Role.COMMANDER])  # fmt: skip
            token = create_token(session, name="bench", scopes=["requests:write"], user=cad)
            # A commander already signed in (password and second factor): the bench measures
            # the queue, not the login.
            cookie, _ = start_session(session, commander, second_factor_ok=True)
        return token, cookie
    finally:
        app.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server(data_dir: Path, database_url: str) -> Iterator[str]:
    """Run `assistgate serve` in its own process; yield its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTGATE_")}
    env.update(ASSISTGATE_DATA_DIR=str(data_dir), ASSISTGATE_DATABASE_URL=database_url)
    exe = Path(sys.executable).with_name("assistgate")
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield base
    except BaseException:
        log.flush()
        tail = (data_dir / "server.log").read_text(errors="replace")[-4000:]
        print(f"--- the server's log, last lines:\n{tail}", file=sys.stderr)
        raise
    finally:
        log.close()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- Load ----------------------------------------------------------------------------------------


def intake_body() -> dict[str, Any]:
    return {**BODY, "cad_incident_id": f"BENCH-{uuid.uuid4().hex[:16]}"}


async def saturate(
    client: httpx.AsyncClient, name: str, *, token: str, concurrency: int, seconds: float
) -> Figures:
    """Send as fast as `concurrency` connections allow for `seconds`."""
    figures = Figures(name)
    headers = {"Authorization": f"Bearer {token}"}
    ends = time.perf_counter() + seconds

    async def connection() -> None:
        while time.perf_counter() < ends:
            started = time.perf_counter()
            figures.sent += 1
            try:
                if name == "bare":
                    response = await client.get("/healthz")
                else:
                    response = await client.post("/api/v1/requests", json=intake_body(),
                                                 headers=headers)  # fmt: skip
            except httpx.HTTPError as exc:
                figures.failed(type(exc).__name__)
                continue
            if response.status_code in (200, 201):
                figures.ok += 1
                figures.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                figures.failed(f"HTTP {response.status_code}")

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    figures.seconds = time.perf_counter() - began
    return figures


async def at_rate(
    client: httpx.AsyncClient, base: str, *, token: str, cookie: str, rate: int, seconds: float
) -> Figures:
    """Send `rate` intakes per second on a fixed schedule while a queue listens."""
    figures = Figures(f"intake at {rate}/s")
    headers = {"Authorization": f"Bearer {token}"}
    seen: dict[str, float] = {}
    listening = asyncio.Event()

    async def queue() -> None:
        commander = httpx.AsyncClient(base_url=base, cookies={"ag_session": cookie}, timeout=None)
        async with commander as sse, sse.stream("GET", "/queue/events") as stream:
            if stream.status_code != 200:
                raise RuntimeError(f"/queue/events answered {stream.status_code}")
            event = ""
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                    if event == "hello":
                        listening.set()
                elif line.startswith("data:") and event == "change":
                    change = json.loads(line.split(":", 1)[1])
                    if change.get("new"):
                        seen.setdefault(change["ref"], time.perf_counter())

    listener = asyncio.create_task(queue())
    hello = asyncio.create_task(listening.wait())
    await asyncio.wait([listener, hello], timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if not listening.is_set():
        hello.cancel()
        listener.cancel()
        why = repr(listener.exception()) if listener.done() else "no answer in 60 s"
        raise RuntimeError(f"the queue stream did not open: {why}")
    sent_at: dict[str, float] = {}

    async def one(scheduled: float) -> None:
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        figures.sent += 1
        try:
            response = await client.post("/api/v1/requests", json=intake_body(), headers=headers)
        except httpx.HTTPError as exc:
            figures.failed(type(exc).__name__)
            return
        if response.status_code != 201:
            figures.failed(f"HTTP {response.status_code}")
            return
        figures.ok += 1
        figures.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
        sent_at[response.json()["ref"]] = scheduled

    began = time.perf_counter()
    count = int(rate * seconds)
    await asyncio.gather(*(one(began + i / rate) for i in range(count)))
    figures.seconds = time.perf_counter() - began
    deadline = time.perf_counter() + 5  # let the last changes arrive
    while time.perf_counter() < deadline and not set(sent_at) <= set(seen):
        await asyncio.sleep(0.05)
    listener.cancel()
    with suppress(asyncio.CancelledError):
        await listener
    figures.queue_ms = [(seen[ref] - at) * 1000 for ref, at in sent_at.items() if ref in seen]
    figures.queue_missing = sum(1 for ref in sent_at if ref not in seen)
    return figures


async def run(base: str, token: str, cookie: str, args: argparse.Namespace) -> list[Figures]:
    limits = httpx.Limits(max_connections=max(args.concurrency, 256),
                          max_keepalive_connections=max(args.concurrency, 256))  # fmt: skip
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await saturate(client, "warm-up", token=token, concurrency=4, seconds=1)
        results = [await saturate(client, "bare", token=token, concurrency=args.concurrency,
                                  seconds=args.seconds)]  # fmt: skip
        await settle(client, token)
        intake = await saturate(client, "intake", token=token, concurrency=args.concurrency,
                                seconds=args.seconds)  # fmt: skip
        results.append(intake)
        for rate in args.rates:
            print(f"intake at {rate}/s ...", file=sys.stderr)
            await settle(client, token)
            results.append(await at_rate(client, base, token=token, cookie=cookie, rate=rate,
                                         seconds=args.seconds))  # fmt: skip
    return results


async def settle(client: httpx.AsyncClient, token: str) -> None:
    """Wait until the server answers promptly again (the previous series may have left a
    backlog), so that one series does not pay for another. The probe goes through the thread
    pool and the database as an intake does (a read the write-only token is refused, 403)."""
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        with suppress(httpx.HTTPError):
            await client.get("/api/v1/requests/AG-0000-0000",
                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            if time.perf_counter() - started < 0.1:
                return
        await asyncio.sleep(0.5)


def table(rows: list[dict[str, Any]]) -> str:
    header = ["series", "ok/s", "ok", "errors", "p50 ms", "p99 ms", "queue p50", "queue p99",
              "missed"]  # fmt: skip

    def cell(value: Any) -> str:
        return "-" if value is None else str(value)

    body = [[r["name"], cell(r["per_second"]), cell(r["ok"]), cell(r["errors"]),
             cell(r["latency_p50_ms"]), cell(r["latency_p99_ms"]), cell(r.get("queue_p50_ms")),
             cell(r.get("queue_p99_ms")),
             cell(r["queue_missing"] if "queue_p50_ms" in r else None)] for r in rows]  # fmt: skip
    widths = [max(len(x[i]) for x in [header, *body]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in [header, *body])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--postgres", metavar="SERVER_URL",
                        help="Run on a fresh database of this PostgreSQL server.")  # fmt: skip
    parser.add_argument("--rates", default="50,200",
                        type=lambda s: [int(r) for r in s.split(",")],
                        help="Fixed intake rates per second (default 50,200).")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=5.0, help="Length of each series.")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="Connections for the saturation series.")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="assistgate-bench-") as tmp, contextlib_choice(
        args.postgres, Path(tmp)
    ) as database_url:  # fmt: skip
        data_dir = Path(tmp)
        token, cookie = prepare(data_dir, database_url)
        with server(data_dir, database_url) as base:
            results = asyncio.run(run(base, token, cookie, args))
    rows = [r.summary() for r in results]
    context = {"assistgate": __version__, "python": platform.python_version(),
               "machine": platform.machine(), "cpus": os.cpu_count(),
               "database": "postgresql" if args.postgres else "sqlite",
               "seconds_per_series": args.seconds,
               "concurrency": args.concurrency}  # fmt: skip
    if args.json:
        print(json.dumps({"context": context, "series": rows}, indent=2))
        return
    print(" ".join(f"{k}={v}" for k, v in context.items()))
    print(table(rows))
    for row in rows:
        if row["error_kinds"]:
            kinds = ", ".join(f"{k} x{n}" for k, n in sorted(row["error_kinds"].items()))
            print(f"errors in {row['name']}: {kinds}")


@contextmanager
def contextlib_choice(postgres: str | None, tmp: Path) -> Iterator[str]:
    """Yield the database URL: a fresh PostgreSQL database, or a SQLite file in `tmp`."""
    if postgres:
        with fresh_postgres(postgres) as url:
            yield url
    else:
        yield f"sqlite:///{tmp / 'assistgate.db'}"


if __name__ == "__main__":
    main()
