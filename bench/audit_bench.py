"""Benchmark the audit scanner: rows per second from CSV and Parquet, next to grep and Python `re`.

    python bench/audit_bench.py                       # 1,000,000 rows
    python bench/audit_bench.py --rows 1000000 10000000 --json

For each size, DuckDB writes a synthetic dispatch export in the `internal` layout (incident
number, time, call type, remarks, location) as CSV and as Parquet into a temporary folder. The
remarks are ordinary calls full of REQ, ASSIST, 10-78, POLICE, OFFICE and ZERO; 2% are hard
negatives that pass the pre-filter (ice on roads, bags of ice, meth, a lost green card, the FBI
asking for help typed as an assist to another agency); one call in a thousand is planted as an
immigration agency's request and one as a notification or public mention. Every row carries
numbers (units, blocks, mile markers), so no cache of repeated texts could flatter the figures.
Then, in one run, each in its own process so that its peak memory is its own:

- `grep -ciE` with a simple keyword pattern over the CSV: the floor for reading the bytes;
- a plain Python loop applying one `re` keyword pattern to every line: what a reporter writes;
- `assistgate audit scan --preset internal` (the embedded engine) on the CSV and on the Parquet.

Rows per second is rows / wall-clock seconds of the whole process (start-up included); peak
memory is the process's maximum resident set size (`getrusage`). The planted requests are
counted in the scan's output as a check that the fast path finds them all.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KEYWORDS = r"ice|immigration|deport|border patrol|homeland|hsi|ero|cbp"
REPORTER_PATTERN = r"\b(?:ice|immigration|deport\w*|border patrol|homeland security|hsi|ero|cbp)\b"

# Remarks, by share of rows (a row's bucket is hash(n) % 1000). Every template carries numbers
# (units, blocks, mile markers) so that no two rows need be alike. {n} is the row number.
_ORDINARY = [
    "'REQ UNIT FOR DISORDERLY SUBJ ' || (n % 9000 + 100) || ' BLK W BROADWAY'",
    "'CALLER ADV MALE IN VEH, 10-78 REQ, UNIT ' || (n % 8 + 1) || 'F' || (n % 40 + 10) || ' OS'",
    "'ASSIST EMS W/ COMBATIVE PT AT ' || (n % 4000 + 100) || ' DIXIE HWY, POLICE NEEDED'",
    "'THEFT FROM AUTO AT ' || (n % 7000 + 100) || ' TAYLOR BLVD, COMP REQ OFFICER'",
    "'ALARM DROP AT ' || (n % 5000 + 100) || ' OFFICE PARK, KEYHOLDER ENRT ' || (n % 60) || ' MIN'",
    "'TRAFFIC COMPLAINT: RECKLESS DRIVER SB I-65 NEAR MM ' || (n % 130)",
    "'DOMESTIC IN PROGRESS AT ' || (n % 6000 + 100) || ' BLK, REQ BACKUP, ZERO VISIBILITY'",
    "'NOISE COMPLAINT, LOUD MUSIC AT ' || (n % 3000 + 100) || ' S 3RD ST, REPEAT CALLER'",
    "'WELFARE CHECK ON ELDERLY FEMALE, NO ANSWER AT DOOR, APT ' || (n % 400 + 1)",
]
# 2% of rows: words that pass the pre-filter but are not an agency (frozen water, meth, goods,
# papers, other federal agencies with a call type that passes).
_HARD_NEGATIVE = [
    "'ICE ON RDWY AT ' || (n % 90 + 1) || 'TH ST RAMP, REQ SALT TRUCK'",
    "'SHOPLIFTER TOOK ' || (n % 5 + 2) || ' BAGS OF ICE FROM SPEEDWAY #' || (n % 300)",
    "'SUBJ IN POSS OF ' || (n % 9 + 1) || 'G CRYSTAL ICE, REQ K9 UNIT ' || (n % 30)",
    "'COMP LOST WALLET W/ GREEN CARD AT ' || (n % 8000 + 100) || ' PRESTON HWY'",
    "'VEH SLID ON BLACK ICE INTO DITCH NEAR MM ' || (n % 130) || ', NO INJ'",
    "'FBI REQ ASSIST W/ FEDERAL WARRANT AT ' || (n % 3000 + 100) || ' BLK PRESTON HWY'",
]
_PLANTED_REQUEST = (
    "'ICE ERO AGT ON SCENE AT ' || (n % 9000 + 100) || ' BLK, REQ 2 UNITS FOR BACKUP ON "
    "WARRANT SVC'"
)
_TYPES = ["'DISORDER'", "'THEFT'", "'ALARM'", "'TRAFFIC'", "'DOMESTIC'"]
_PLANTED_OTHER = [
    "'ICE ADVISING OF OPERATION NEAR ' || (n % 9000 + 100) || ' BLK, NO ASSIST NEEDED'",
    "'CALLER STATES HUSBAND WAS DETAINED BY ICE AT ' || (n % 9000 + 100) || ' BLK'",
]


def generate(folder: Path, rows: int) -> tuple[Path, Path, int]:
    """Write `rows` synthetic calls as CSV and Parquet; return both paths and the planted count."""
    import duckdb

    csv_path, parquet_path = folder / f"calls-{rows}.csv", folder / f"calls-{rows}.parquet"

    def pick(options: list[str], k: str) -> str:
        return f"list_extract([{', '.join(options)}], ({k} % {len(options)})::INT + 1)"

    bucket = "(hash(n) % 1000)"
    remark = (
        f"CASE WHEN {bucket} < 1 THEN {_PLANTED_REQUEST} "
        f"WHEN {bucket} < 2 THEN {pick(_PLANTED_OTHER, 'n')} "
        f"WHEN {bucket} < 22 THEN {pick(_HARD_NEGATIVE, 'hash(n + 1)')} "
        f"ELSE {pick(_ORDINARY, 'hash(n + 2)')} END"
    )
    call_type = (
        f"CASE WHEN {bucket} < 1 OR {bucket} BETWEEN 22 AND 31 THEN 'ASSIST OTHER AGENCY' "
        f"ELSE {pick(_TYPES, 'n')} END"
    )
    select = (
        "SELECT 'P' || lpad(n::VARCHAR, 10, '0') AS incident_number, "
        "TIMESTAMP '2017-01-01' + to_seconds(n * 3) AS call_time, "
        f"{call_type} AS call_type, {remark} AS remarks, "
        "(n % 4000 + 100)::VARCHAR || ' BLK S 4TH ST' AS location "
        f"FROM range({rows}) t(n)"
    )
    con = duckdb.connect()
    try:
        con.execute(f"COPY ({select}) TO '{csv_path}' (FORMAT csv, HEADER)")
        con.execute(f"COPY ({select}) TO '{parquet_path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)")
        row = con.execute(f"SELECT count(*) FROM range({rows}) t(n) WHERE {bucket} < 1").fetchone()
        planted = int(row[0]) if row else 0
    finally:
        con.close()
    return csv_path, parquet_path, planted


def _measure(command: list[str]) -> dict[str, Any]:
    """Run `command` through this script's child mode; return its seconds, peak memory, output."""
    wrapped = [sys.executable, __file__, "--child", json.dumps(command)]
    done = subprocess.run(wrapped, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _child(command: list[str]) -> None:
    """Run one measured step in this process and print {seconds, max_rss_mb, result} as JSON."""
    started = time.perf_counter()
    result: Any = None
    if command[0] == "grep":
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        result = int(done.stdout.strip() or 0)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    elif command[0] == "python-re":
        import re

        pattern = re.compile(REPORTER_PATTERN, re.IGNORECASE)
        count = 0
        with open(command[1], encoding="utf-8") as f:
            for line in f:
                if pattern.search(line):
                    count += 1
        result = count
        usage = resource.getrusage(resource.RUSAGE_SELF)
    else:
        from click.testing import CliRunner

        from assistgate.cli.audit import audit

        out = CliRunner().invoke(audit, command)
        if out.exit_code != 0:
            print(out.output, file=sys.stderr)
            raise SystemExit(out.exit_code)
        result = out.stderr
        usage = resource.getrusage(resource.RUSAGE_SELF)
    seconds = time.perf_counter() - started
    # CPU time of this process and the workers it forked: a figure less sensitive than wall
    # time to other work on the same machine.
    own, forked = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    cpu = own.ru_utime + own.ru_stime + forked.ru_utime + forked.ru_stime
    # ru_maxrss is in KiB on Linux.
    peak = usage.ru_maxrss / 1024
    print(
        json.dumps({"seconds": seconds, "cpu_seconds": cpu, "max_rss_mb": peak, "result": result})
    )


def run(rows: int, keep: Path | None) -> list[dict[str, Any]]:
    folder = keep or Path(tempfile.mkdtemp(prefix="assistgate-audit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        csv_path, parquet_path, planted = generate(folder, rows)
        print(
            f"generated {rows:,} rows ({csv_path.stat().st_size / 1e6:,.0f} MB CSV, "
            f"{parquet_path.stat().st_size / 1e6:,.0f} MB Parquet) in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        steps: list[tuple[str, list[str]]] = [
            ("grep -ciE (floor)", ["grep", "-ciE", KEYWORDS, str(csv_path)]),
            ("python re loop", ["python-re", str(csv_path)]),
        ]
        for label, path in (("scan CSV", csv_path), ("scan Parquet", parquet_path)):
            out = folder / f"flagged-{path.suffix.lstrip('.')}.csv"
            steps.append((label, ["scan", str(path), "--preset", "internal", "--out", str(out)]))
        results = []
        for label, command in steps:
            m = _measure(command)
            entry: dict[str, Any] = {
                "rows": rows,
                "step": label,
                "seconds": round(m["seconds"], 3),
                "cpu_seconds": round(m["cpu_seconds"], 3),
                "rows_per_second": round(rows / m["seconds"]),
                "max_rss_mb": round(m["max_rss_mb"], 1),
            }
            if command[0] == "scan":
                flagged = Path(command[-1])
                with flagged.open(encoding="utf-8", newline="") as f:
                    found = sum(1 for r in csv.DictReader(f) if r["category"] == "agency_request")
                entry["planted_found"] = f"{found}/{planted}"
            else:
                entry["matching_lines"] = m["result"]
            results.append(entry)
            print(f"  {label}: {m['seconds']:.2f} s", file=sys.stderr)
        return results
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _table(results: list[dict[str, Any]]) -> str:
    header = ["rows", "step", "seconds", "CPU s", "rows/s", "peak MB", "vs grep", "note"]
    lines = []
    grep: dict[int, float] = {}
    for r in results:
        if r["step"].startswith("grep"):
            grep[r["rows"]] = r["seconds"]
        note = r.get("planted_found", "")
        note = f"planted requests found {note}" if note else f"{r['matching_lines']:,} lines match"
        ratio = r["seconds"] / grep[r["rows"]] if grep.get(r["rows"]) else float("nan")
        lines.append(
            [
                f"{r['rows']:,}",
                r["step"],
                f"{r['seconds']:.2f}",
                f"{r['cpu_seconds']:.2f}",
                f"{r['rows_per_second']:,}",
                f"{r['max_rss_mb']:,.0f}",
                f"{ratio:.1f}x",
                note,
            ]
        )
    widths = [max(len(x[i]) for x in [header, *lines]) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *lines]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--keep", type=Path, help="write the data here and keep it")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(json.loads(args.child))
        return
    results: list[dict[str, Any]] = []
    for rows in args.rows:
        results += run(rows, args.keep)
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps({"machine": machine, "results": results}, indent=2))
    else:
        print(
            f"machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}, "
            f"load average {machine['load_average_1min']} at the end"
        )
        print(_table(results))


if __name__ == "__main__":
    main()
