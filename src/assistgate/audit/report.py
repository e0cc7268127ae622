"""Read a scan's output for reconciliation, and lay out a reconciliation as rows or JSON."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from assistgate.audit.errors import ReadError
from assistgate.audit.reconcile import (
    Finding,
    FlaggedCall,
    Outcome,
    Reconciliation,
    parse_call_time,
)
from assistgate.audit.rules import Category
from assistgate.audit.scan import Flagged

REPORT_COLUMNS = (
    "finding",
    "call_id",
    "call_time",
    "call_location",
    "score",
    "evidence",
    "request_ref",
    "request_cad_incident_id",
    "request_received_at",
    "request_location",
    "request_state",
    "matched_by",
    "minutes_apart",
    "note",
)


def read_flagged_calls(path: Path, zone: ZoneInfo) -> list[FlaggedCall]:
    """Read FLAGGED.csv as written by `audit scan`; times without an offset are in `zone`."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            have = reader.fieldnames or []
            missing = [n for n in ("id", "time", "category") if n not in have]
            if missing:
                raise ReadError(
                    str(path),
                    f"no column {', '.join(missing)} (is it the output of 'audit scan'?); "
                    f"the file's columns are: {', '.join(have) or '(none)'}",
                )
            return list(_calls(reader, path, zone))
    except UnicodeDecodeError:
        raise ReadError(str(path), "not UTF-8 text") from None
    except csv.Error as exc:
        raise ReadError(str(path), f"not valid CSV: {exc}") from None
    except OSError as exc:
        raise ReadError(str(path), f"cannot read: {exc.strerror or exc}") from None


def _calls(reader: csv.DictReader[str], path: Path, zone: ZoneInfo) -> Iterator[FlaggedCall]:
    for row in reader:
        try:
            yield call_from_row(row, zone)
        except ValueError:
            raise ReadError(
                str(path), f"unknown category {row['category']!r}", reader.line_num
            ) from None


def call_from_row(row: Mapping[str, str | None], zone: ZoneInfo) -> FlaggedCall:
    """Read one row of a scan's output; a `ValueError` if its category is unknown."""
    raw = row["time"] or ""
    return FlaggedCall(
        id=row["id"] or "",
        time=parse_call_time(raw, zone),
        category=Category(row["category"] or ""),
        location=row.get("location") or "",
        score=row.get("score") or "",
        evidence=row.get("evidence") or "",
        raw_time=raw,
    )


def calls_from_scan(
    flagged: Iterable[Flagged], columns: tuple[str, ...], zone: ZoneInfo
) -> list[FlaggedCall]:
    """Read a scan's flagged calls as `audit reconcile` reads them from FLAGGED.csv."""
    return [call_from_row(dict(zip(columns, f.as_row(), strict=True)), zone) for f in flagged]


def _when(moment: dt.datetime | None, zone: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(zone).isoformat(timespec="minutes")


def finding_row(f: Finding, zone: ZoneInfo) -> dict[str, str]:
    """Return one report row; times in the deployment's zone, with their offset."""
    c, r = f.call, f.request
    return {
        "finding": f.outcome.value,
        "call_id": c.id if c else "",
        "call_time": (_when(c.time, zone) or c.raw_time) if c else "",
        "call_location": c.location if c else "",
        "score": c.score if c else "",
        "evidence": c.evidence if c else "",
        "request_ref": r.ref if r else "",
        "request_cad_incident_id": (r.cad_incident_id or "") if r else "",
        "request_received_at": _when(r.received_at, zone) if r else "",
        "request_location": r.location if r else "",
        "request_state": r.state if r else "",
        "matched_by": f.matched_by.value if f.matched_by else "",
        "minutes_apart": "" if f.minutes_apart is None else f"{f.minutes_apart:.0f}",
        "note": f.note,
    }


def summary_lines(result: Reconciliation, zone: ZoneInfo) -> list[str]:
    """Say in a few lines what was compared and what was found."""
    minutes = f"{result.window.total_seconds() / 60:g}"
    if result.period is None:
        period = "no period: the scan flagged no call with a time"
    else:
        period = f"{_when(result.period[0], zone)} to {_when(result.period[1], zone)}"
    by_id = sum(1 for m in result.matched if m.matched_by and m.matched_by.value == "cad_id")
    lines = [
        f"assistgate audit: reconciled {result.agency_requests:,} flagged agency requests with "
        f"{result.requests_in_period:,} requests in the register",
        f"  period covered by the scan: {period} (window {minutes} minutes)",
        f"  matched: {len(result.matched):,} ({by_id:,} by CAD incident id, "
        f"{len(result.matched) - by_id:,} by time and location)",
        f"  possible bypasses of the policy: {result.count(Outcome.POSSIBLE_BYPASS):,} flagged "
        "agency requests with no request in the register",
        "  requests not in the dispatch records: "
        f"{result.count(Outcome.REQUEST_NOT_IN_DISPATCH):,}",
    ]
    if result.other_calls:
        lines.append(
            f"  left aside: {result.other_calls:,} flagged calls of other categories "
            "(only agency requests need a request)"
        )
    if result.requests_outside:
        lines.append(
            f"  left aside: {result.requests_outside:,} requests received outside the period"
        )
    return lines


def as_json(result: Reconciliation, zone: ZoneInfo, include_matched: bool) -> dict[str, Any]:
    """Return the reconciliation as a JSON-ready document."""
    shown = result.findings + (result.matched if include_matched else [])
    by_id = sum(1 for m in result.matched if m.matched_by and m.matched_by.value == "cad_id")
    return {
        "period": None
        if result.period is None
        else {"from": _when(result.period[0], zone), "to": _when(result.period[1], zone)},
        "window_minutes": result.window.total_seconds() / 60,
        "counts": {
            "flagged_agency_requests": result.agency_requests,
            "register_requests_in_period": result.requests_in_period,
            "matched": len(result.matched),
            "matched_by_cad_id": by_id,
            "matched_by_time_and_location": len(result.matched) - by_id,
            "possible_bypass": result.count(Outcome.POSSIBLE_BYPASS),
            "request_not_in_dispatch": result.count(Outcome.REQUEST_NOT_IN_DISPATCH),
            "other_calls_left_aside": result.other_calls,
            "requests_outside_period": result.requests_outside,
        },
        "findings": [finding_row(f, zone) for f in shown],
    }
