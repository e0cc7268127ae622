"""Benchmark a year's figures and reports on a register of 100,000 requests, against plain SQL.

    python bench/report_bench.py                          # SQLite in a temporary folder
    python bench/report_bench.py --postgres URL           # a fresh database on that server
    python bench/report_bench.py --requests 20000 --json

The register (a large city over ten years, 2016 to 2025) is written with bulk inserts straight
into the request and decision tables, not through the service: the figures read only those
tables, and playing 100,000 requests through the service (a dozen signed ledger entries each)
would take far longer than what is measured. The ledger gets one entry, so that reports have
a signed checkpoint to name and verify.

In one run, each timed `--repeat` times (the median is reported):

1. **Baseline**: a plain SQL count of the year's requests joined to their decisions, the
   least any figure needs (`SELECT count(*) ... LEFT JOIN decisions ... WHERE received_at in
   the year`).
2. **Figures**: `compute_figures` for the year (loads the year's public-safe records and
   computes every figure, including the monthly series and the calls-for-service share).
3. **Reports**: `gather` plus `build_report` for json, csv, html and pdf.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from assistgate.app import App, open_app
from assistgate.ledger.keys import MemoryKeyStore
from assistgate.requests.models import Decision, Request
from assistgate.settings import Settings
from assistgate.transparency.figures import compute_figures
from assistgate.transparency.models import CallsForServiceMonth
from assistgate.transparency.periods import parse_period
from assistgate.transparency.reports import build_report, gather

FIRST_YEAR, YEARS = 2016, 10
BATCH = 5000
CASES: list[tuple[str, list[str], str, list[str], list[str]]] = [
    # agency, requested, decision, grounds, prohibited
    ("ice-ero", ["serve_criminal_warrant", "knock_and_talk"], "dispatch",
     ["criminal_warrant", "judicial_warrant"], ["knock_and_talk"]),
    ("ice-ero", ["traffic_stop"], "decline", [], ["traffic_stop"]),
    ("ice-hsi", ["backup", "traffic_control"], "decline", [], ["backup", "traffic_control"]),
    ("ice-hsi", ["respond_to_crime", "backup"], "dispatch", ["crime", "violence_risk"], []),
    ("cbp", ["locate_person"], "decline", [], ["locate_person"]),
]  # fmt: skip


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """Create an empty database on the server, yield its URL, then drop it."""
    name = f"assistgate_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def generate(app: App, count: int, seed: int = 2017) -> float:
    """Bulk-insert `count` closed or open requests over ten years; return the seconds taken."""
    rng = random.Random(seed)
    start = dt.datetime(FIRST_YEAR, 1, 1, 6, tzinfo=dt.UTC)
    span = dt.datetime(FIRST_YEAR + YEARS, 1, 1, tzinfo=dt.UTC) - start
    times = sorted(start + span * rng.random() for _ in range(count))
    started = time.perf_counter()
    numbers: dict[int, int] = {}
    requests: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []

    def flush() -> None:
        with app.transaction() as session:
            if requests:
                session.execute(insert(Request), requests)
            if decisions:
                session.execute(insert(Decision), decisions)
        requests.clear()
        decisions.clear()

    for i, received in enumerate(times, start=1):
        agency, asked, decision, grounds, prohibited = rng.choice(CASES)
        numbers[received.year] = numbers.get(received.year, 0) + 1
        decided = received + dt.timedelta(minutes=rng.uniform(2, 15))
        sent = decision == "dispatch"
        arrived = decided + dt.timedelta(minutes=rng.uniform(8, 30)) if sent else None
        recorded = rng.random() < 0.95
        requests.append({
            "id": i, "ref": f"AG-{received.year}-{numbers[received.year]:05d}",
            "received_at": received, "state": "closed", "agency": agency,
            "official_name": "Agent (fictional)", "official_badge": "", "callback_number": "",
            "identity_check": "cad_interface", "identity_note": "",
            "location": "100 block of Main St",
            "district": str(rng.randint(1, 8)), "caller_words": "Bench request.",
            "requested_actions": asked, "call_taker": "cad", "commander": "lt.okafor",
            "escalation_level": 0, "decision_id": i,
            "dispatched_at": decided + dt.timedelta(minutes=2) if sent else None,
            "units": ["4A21"] if sent else [], "arrived_at": arrived,
            "cleared_at": arrived + dt.timedelta(minutes=40) if arrived else None,
            "recording_sha256": "ab" * 32 if recorded else None,
            "exceptions": {} if recorded else {"no_recording": "outage"},
            "flagged_for_review": not recorded,
            "outcome": {"officer_actions": [], "agency_arrests": 0, "summary": "",
                        "police_arrests": [{"offense_category": "theft"}] if sent else [],
                        "immigration_status_asked": False},
            "closed_at": decided + dt.timedelta(hours=5), "cancel_reason": "",
            "created_at": received,
        })  # fmt: skip
        decisions.append({
            "id": i, "request_id": i, "decided_at": decided, "decided_by": "lt.okafor",
            "assessment": {"warrant": {"kind": "judicial_criminal" if grounds else "none"}},
            "answer": {"decision": decision, "grounds": grounds,
                       "prohibited_actions": prohibited},
            "outcome": decision, "approved_actions": [a for a in asked if a not in prohibited]
            if sent else [], "note": "", "engine_version": "bench",
        })  # fmt: skip
        if len(requests) >= BATCH:
            flush()
    flush()
    with app.transaction() as session:
        session.execute(insert(CallsForServiceMonth), [
            {"month": f"{y}-{m:02d}", "calls": 60_000 + y, "source": "bench",
             "imported_at": dt.datetime.now(dt.UTC)}
            for y in range(FIRST_YEAR, FIRST_YEAR + YEARS) for m in range(1, 13)
        ])  # fmt: skip
        app.deployment.ledger.append(
            session, actor="bench", event="bench:generated", subject="bench",
            data={"requests": count},
        )  # fmt: skip
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Run `fn` `repeat` times; return the median seconds and the last result."""
    seconds, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t)
    return statistics.median(seconds), result


def measure(app: App, year: str, repeat: int) -> dict[str, Any]:
    period = parse_period(year, app.settings.zone)
    baseline_sql = text(
        "SELECT count(*) FROM requests r LEFT JOIN decisions d ON d.id = r.decision_id "
        "WHERE r.received_at >= :s AND r.received_at < :e"
    )
    out: dict[str, Any] = {}
    with app.sessions() as session:
        bind = session.get_bind()
        start, end = period.start, period.end
        if bind.dialect.name == "sqlite":  # stored as naive UTC text there
            start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        out["baseline_s"], n = timed(
            lambda: session.execute(baseline_sql, {"s": start, "e": end}).scalar(), repeat
        )
        out["year_requests"] = n
        out["figures_s"], figures = timed(lambda: compute_figures(session, period), repeat)
        assert figures.received == n, (figures.received, n)
        key = app.keys.ledger_public_key()
        for fmt in ("json", "csv", "html", "pdf"):

            def report(fmt: str = fmt) -> dict[str, bytes]:
                data = gather(session, period, public_key=key, origin=app.settings.ledger_origin)
                return build_report(data, fmt)

            out[f"report_{fmt}_s"], files = timed(report, repeat)
            out[f"report_{fmt}_bytes"] = sum(len(b) for b in files.values())
    return out


def run(database_url: str, folder: Path, count: int, year: str, repeat: int) -> dict[str, Any]:
    app = open_app(Settings(data_dir=folder, database_url=database_url), keys=MemoryKeyStore())
    try:
        generated = generate(app, count)
        result = {"requests": count, "generate_s": round(generated, 2), "year": year}
        result.update(measure(app, year, repeat))
        return result
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--year", default="2021", help="The year whose figures are timed.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL", help="Use a fresh database on this server.")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assistgate-report-bench-") as folder:
        if args.postgres:
            with fresh_postgres(args.postgres) as url:
                result = run(url, Path(folder), args.requests, args.year, args.repeat)
            result["database"] = "postgresql"
        else:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            result = run(url, Path(folder), args.requests, args.year, args.repeat)
            result["database"] = "sqlite"
    result["python"] = platform.python_version()
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    print(f"{result['requests']:,} requests on {result['database']} "
          f"(bulk insert {result['generate_s']} s); year {result['year']}: "
          f"{result['year_requests']:,} requests; median of {args.repeat} runs")  # fmt: skip
    base = result["baseline_s"]
    print(f"  plain SQL count (baseline)  {base * 1000:9.1f} ms")
    rows = [("figures", "figures_s")] + [
        (f"report {f}", f"report_{f}_s") for f in ("json", "csv", "html", "pdf")
    ]
    for label, key in rows:
        print(f"  {label:<27} {result[key] * 1000:9.1f} ms  ({result[key] / base:,.0f}x baseline)")


if __name__ == "__main__":
    main()
