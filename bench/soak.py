"""Soak: two `assistgate serve` processes on PostgreSQL at ten times a 911 centre's peak rate.

    python -m bench.soak --postgres URL                  # ten minutes (the default)
    python -m bench.soak --postgres URL --minutes 2 --json

(URL: a PostgreSQL server, e.g. `bash scripts/postgres.sh start`; a fresh database is made on
it and dropped after. ASSISTGATE_TEST_POSTGRES_URL is used when --postgres is not given.)

The rate. Louisville MetroSafe took more than 725,000 calls in 2017 (from a records request,
https://www.votelouisville.com/metrosafe-911-calls-visualized/), 83 an hour on average. We
take the peak hour as twice the average hour (our assumption: the busiest hours of a day run at
about twice its mean) and multiply by ten: 1,656 intakes an hour, 0.46 a second, as if every
911 call at peak were a request from an immigration agency (they come about once a week).
Around them:

- intake: `POST /api/v1/requests` by the dispatch system's token, at that rate;
- review: a commanding officer claims and decides each intake (two form posts), same rate;
- playback: a commander plays the recorded call (logged grant, then the stream), 0.25 a second;
- public: `GET /public`, `/public/figures` and `/public/log` in turn, 2.5 a second;
- healthz: `GET /healthz` once a second, the baseline: what the framework alone costs.

Requests are sent on a fixed schedule whatever the answers (a slow answer cannot hide the
queue behind it), alternating between the two servers as a load balancer would; latency is
measured from the scheduled time. Reported: errors per kind (must be zero), latency
percentiles per kind for the first minute, the last minute and the whole run, the resident
memory (RSS) of each server sampled every five seconds (first and last minute), and the
result of `assistgate ledger verify` on the database afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from assistgate import __version__
from assistgate.app import open_app
from assistgate.auth.enums import Role
from assistgate.auth.security import hash_password
from assistgate.auth.service import add_user
from assistgate.auth.sessions import create_token, start_session
from assistgate.db.base import utcnow
from assistgate.demo.wav import tone_wav
from assistgate.ledger.keys import FileKeyStore
from assistgate.recordings.enums import Source
from assistgate.recordings.service import ingest
from assistgate.recordings.wiring import archive_for
from assistgate.requests import service
from assistgate.settings import Settings
from bench.intake_bench import BODY, fresh_postgres, server

METROSAFE_CALLS_2017 = 725_000
PEAK_FACTOR = 2.0  # our assumption: the busiest hour runs at twice the average hour
TIMES = 10
INTAKES_PER_SECOND = METROSAFE_CALLS_2017 / (365 * 24) * PEAK_FACTOR * TIMES / 3600
RATES = {"intake": INTAKES_PER_SECOND, "review": INTAKES_PER_SECOND, "playback": 0.25,
         "public": 2.5, "healthz": 1.0}  # fmt: skip
PUBLIC_PAGES = ["/public", "/public/figures", "/public/log"]
PASSWORD = "soak-commander-passphrase"  # a throwaway database's fictional officer
WARRANT = {"warrant.kind": "judicial_criminal", "warrant.verified": "on",
           "requested_actions": ["serve_criminal_warrant"], "approve": "serve_criminal_warrant",
           "intent": "decide", "password": PASSWORD}  # fmt: skip


@dataclass
class Sample:
    kind: str
    at: float  # seconds since the start
    ms: float
    ok: bool
    detail: str = ""


@dataclass
class Run:
    base: list[str]
    token: str
    cookie: str
    csrf: str
    recorded: tuple[str, str]  # (ref, sha256) of the call that is played back
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    reviews: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


def prepare(data_dir: Path, database_url: str) -> tuple[str, str, str, tuple[str, str]]:
    """Create the key, the people, a token, a signed-in commander and a recorded call."""
    FileKeyStore(data_dir / "keys").init()
    app = open_app(Settings(data_dir=data_dir, database_url=database_url))
    try:
        with app.transaction() as db:
            cad = add_user(db, username="cad", display_name="CAD", roles=[Role.DISPATCH_SYSTEM])
            okafor = add_user(db, username="lt.okafor", display_name="Lt. J. Okafor (fictional)",
                              roles=[Role.COMMANDER])  # fmt: skip
            okafor.password_hash = hash_password(PASSWORD)
            token = create_token(db, name="soak", scopes=["requests:write"], user=cad)
            cookie, session = start_session(db, okafor, second_factor_ok=True)
            csrf = session.csrf_token
            ref = service.create_request(db, app.deployment, actor=cad, **_intake("SOAK-CALL"),
                                         received_at=utcnow()).ref  # fmt: skip
        with app.transaction() as db:
            done = ingest(db, archive_for(app), actor=app.user(db, "lt.okafor"),
                          data=tone_wav(30, 440), name="okafor-call.wav", source=Source.UPLOAD,
                          ref=ref)  # fmt: skip
        return token, cookie, csrf, (ref, done.recording.sha256)
    finally:
        app.close()


def _intake(incident: str) -> dict[str, Any]:
    return {**BODY, "cad_incident_id": incident}


async def _timed(run: Run, kind: str, scheduled: float, start: float, call: Any) -> None:
    """Await `call` (a coroutine made at its scheduled time) and record how long it took."""
    try:
        ok, detail = await call
    except httpx.HTTPError as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    now = time.monotonic()
    run.samples.append(Sample(kind, scheduled - start, (now - scheduled) * 1000, ok, detail))


async def _schedule(run: Run, kind: str, start: float, act: Any) -> None:
    """Call `act(n, base)` at the kind's rate until the run's time is up."""
    interval = 1 / RATES[kind]
    pending: set[asyncio.Task[None]] = set()
    for n in itertools.count():
        scheduled = start + n * interval
        if scheduled - start >= run.seconds:
            break
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        base = run.base[n % len(run.base)]
        task = asyncio.create_task(_timed(run, kind, scheduled, start, act(n, base)))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)


def _status(response: httpx.Response, *expected: int) -> tuple[bool, str]:
    if response.status_code in expected:
        return True, ""
    return False, f"HTTP {response.status_code}: {response.text[:200]}"


async def soak(run: Run) -> None:
    api = httpx.AsyncClient(headers={"Authorization": f"Bearer {run.token}"}, timeout=60)
    officer = httpx.AsyncClient(cookies={"ag_session": run.cookie}, timeout=60)
    public = httpx.AsyncClient(timeout=60)

    async def intake(n: int, base: str) -> tuple[bool, str]:
        response = await api.post(f"{base}/api/v1/requests", json=_intake(f"SOAK-{n:07d}"))
        if response.status_code == 201:
            await run.reviews.put(response.json()["ref"])
        return _status(response, 201)

    async def review(n: int, base: str) -> tuple[bool, str]:
        try:
            ref = await asyncio.wait_for(run.reviews.get(), timeout=30)
        except TimeoutError:
            return False, "no intake to review within 30 s"
        claim = await officer.post(f"{base}/requests/{ref}/claim", data={"csrf_token": run.csrf})
        if claim.status_code != 303:
            return _status(claim, 303)
        decide = await officer.post(f"{base}/requests/{ref}/decide",
                                    data={**WARRANT, "csrf_token": run.csrf})  # fmt: skip
        return _status(decide, 303)

    async def playback(n: int, base: str) -> tuple[bool, str]:
        ref, sha = run.recorded
        grant = await officer.post(f"{base}/requests/{ref}/recordings/{sha}/play",
                                   data={"csrf_token": run.csrf})  # fmt: skip
        if grant.status_code != 303 or "play=" not in grant.headers.get("location", ""):
            return _status(grant, 303)
        token = grant.headers["location"].split("play=")[1].split("#")[0]
        stream = await officer.get(f"{base}/recordings/stream/{token}")
        if stream.status_code == 200 and len(stream.content) < 1000:
            return False, f"a stream of only {len(stream.content)} bytes"
        return _status(stream, 200)

    async def page(n: int, base: str) -> tuple[bool, str]:
        return _status(await public.get(f"{base}{PUBLIC_PAGES[n % len(PUBLIC_PAGES)]}"), 200)

    async def healthz(n: int, base: str) -> tuple[bool, str]:
        return _status(await public.get(f"{base}/healthz"), 200)

    start = time.monotonic() + 0.5
    try:
        await asyncio.gather(*(_schedule(run, kind, start, act) for kind, act in
                               [("intake", intake), ("review", review), ("playback", playback),
                                ("public", page), ("healthz", healthz)]))  # fmt: skip
    finally:
        await asyncio.gather(api.aclose(), officer.aclose(), public.aclose())


def rss_mib(pid: int) -> float:
    """Return the process's resident memory in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def sample_memory(pids: list[int], seconds: float, every: float = 5.0) -> list[list[Any]]:
    samples: list[list[Any]] = []
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) <= seconds + 1:
        samples.append([round(elapsed, 1), *(round(rss_mib(p), 1) for p in pids)])
        await asyncio.sleep(every)
    return samples


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    cut = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else ordered * 99
    )
    return {"n": len(ordered), "p50": round(cut[49], 1), "p95": round(cut[94], 1),
            "p99": round(cut[98], 1), "max": round(ordered[-1], 1)}  # fmt: skip


def summarise(run: Run, memory: list[list[Any]], verify: str, verified: bool) -> dict[str, Any]:
    last = run.seconds - 60
    kinds: dict[str, Any] = {}
    for kind in RATES:
        mine = [s for s in run.samples if s.kind == kind]
        errors = [s for s in mine if not s.ok]
        kinds[kind] = {
            "rate_per_second": round(RATES[kind], 3),
            "sent": len(mine),
            "errors": len(errors),
            "first_errors": sorted({s.detail for s in errors})[:5],
            "all_ms": percentiles([s.ms for s in mine]),
            "first_minute_ms": percentiles([s.ms for s in mine if s.at < 60]),
            "last_minute_ms": percentiles([s.ms for s in mine if s.at >= last]),
        }

    def mean_of(rows: list[list[Any]], column: int) -> float:
        return round(statistics.fmean(r[column] for r in rows), 1) if rows else 0.0

    first_rows = [r for r in memory if r[0] < 60]
    last_rows = [r for r in memory if r[0] >= last]
    servers = [{"server": n + 1, "first_minute_rss_mib": mean_of(first_rows, n + 1),
                "last_minute_rss_mib": mean_of(last_rows, n + 1),
                "peak_rss_mib": max(r[n + 1] for r in memory)}
               for n in range(len(run.base))]  # fmt: skip
    return {
        "assistgate": __version__, "python": platform.python_version(),
        "cpus": os.cpu_count(), "minutes": run.seconds / 60, "servers": len(run.base),
        "errors": sum(k["errors"] for k in kinds.values()), "kinds": kinds,
        "memory": servers, "memory_samples": memory,
        "ledger_verify": {"ok": verified, "output": verify.strip().splitlines()},
    }  # fmt: skip


def print_report(result: dict[str, Any]) -> None:
    print(f"soak: {result['servers']} servers, {result['minutes']:g} min, PostgreSQL, "
          f"{result['cpus']} CPUs; errors: {result['errors']}")  # fmt: skip
    print(f"{'kind':9} {'rate/s':>7} {'sent':>6} {'errors':>6}  latency ms p50/p95/p99/max: "
          "first minute | last minute | whole run")  # fmt: skip
    for kind, k in result["kinds"].items():
        cells = []
        for part in ("first_minute_ms", "last_minute_ms", "all_ms"):
            p = k[part]
            cells.append(f"{p['p50']}/{p['p95']}/{p['p99']}/{p['max']}" if p else "-")
        print(
            f"{kind:9} {k['rate_per_second']:>7} {k['sent']:>6} {k['errors']:>6}  "
            + " | ".join(cells)
        )
        for detail in k["first_errors"]:
            print(f"          error: {detail}")
    for m in result["memory"]:
        print(f"server {m['server']}: RSS first minute {m['first_minute_rss_mib']} MiB, last "
              f"minute {m['last_minute_rss_mib']} MiB, peak {m['peak_rss_mib']} MiB")  # fmt: skip
    verify = result["ledger_verify"]
    print(
        f"assistgate ledger verify: {'passed' if verify['ok'] else 'FAILED'}: "
        + " ".join(verify["output"][:2])
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("ASSISTGATE_TEST_POSTGRES_URL"),
        help="URL of a PostgreSQL server (a fresh database is made on it)",
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    if not args.postgres:
        parser.error("give --postgres URL (or set ASSISTGATE_TEST_POSTGRES_URL)")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="assistgate-soak-")))
        url = stack.enter_context(fresh_postgres(args.postgres))
        data_dir = tmp / "data"
        token, cookie, csrf, recorded = prepare(data_dir, url)
        bases = [stack.enter_context(server(data_dir, url)) for _ in range(args.servers)]
        pids = [_pid_on(base) for base in bases]
        run = Run(bases, token, cookie, csrf, recorded, args.minutes * 60)

        async def both() -> list[list[Any]]:
            memory = asyncio.create_task(sample_memory(pids, run.seconds))
            await soak(run)
            return await memory

        memory = asyncio.run(both())
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTGATE_")}
        env.update(ASSISTGATE_DATA_DIR=str(data_dir), ASSISTGATE_DATABASE_URL=url)
        exe = Path(sys.executable).with_name("assistgate")
        done = subprocess.run([str(exe), "ledger", "verify"], env=env, capture_output=True,
                              text=True, check=False)  # fmt: skip
        result = summarise(run, memory, done.stdout + done.stderr, done.returncode == 0)
    print_report(result)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0 if result["errors"] == 0 and result["ledger_verify"]["ok"] else 1


def _pid_on(base: str) -> int:
    """Return the PID of the process listening on the base URL's port (from /proc/net/tcp)."""
    port = int(base.rsplit(":", 1)[1])
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":  # LISTEN
                inodes.add(cols[9])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(proc.name)
        except OSError:
            continue
    raise RuntimeError(f"no process listens on port {port}")


if __name__ == "__main__":
    sys.exit(main())
