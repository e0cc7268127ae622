"""Read an export an auditor uploaded into flagged calls, ready to reconcile with the register.

The same path as the command line, in one call: a dispatch export is scanned with a preset's
columns and the newest rules (`audit scan`), and its agency requests are read the way
`audit reconcile` reads FLAGGED.csv; a FLAGGED.csv already made by `audit scan` is read as
it is. Errors name the file as the auditor knows it, not the server's temporary copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from assistgate.audit.errors import ReadError
from assistgate.audit.presets import PRESETS
from assistgate.audit.reconcile import FlaggedCall
from assistgate.audit.report import calls_from_scan, read_flagged_calls
from assistgate.audit.rules import Category, Record, default_rules
from assistgate.audit.scan import Summary, output_columns, scan

# What an uploaded file can be: the output of `audit scan`, or an export in a preset's layout.
FLAGGED = "flagged"
KINDS: dict[str, str] = {
    FLAGGED: "FLAGGED.csv made by 'assistgate audit scan'",
    **{
        name: f"{p.title} (preset {name})"
        for name, p in sorted(PRESETS.items())
        if p.record is Record.DISPATCH
    },
}


@dataclass(frozen=True)
class ScannedExport:
    """The flagged calls of one uploaded file, and the scan's summary when it was scanned."""

    calls: list[FlaggedCall]
    summary: Summary | None


def flagged_calls_in(path: Path, kind: str, zone: ZoneInfo, *, shown_as: str) -> ScannedExport:
    """Return the flagged calls of the file at `path`; a `ReadError` names it `shown_as`.

    `kind` is a key of `KINDS`; call times written without an offset are in `zone`. Only agency
    requests are kept from a scan: they are the calls that need a request in the register.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind of file {kind!r}")
    try:
        if kind == FLAGGED:
            return ScannedExport(read_flagged_calls(path, zone), None)
        plan = PRESETS[kind].plan
        summary = Summary()
        found = scan(
            [path],
            plan,
            keep=lambda c: c is Category.AGENCY_REQUEST,
            rules=default_rules(Record.DISPATCH),
            summary=summary,
            parallel=False,
        )
        return ScannedExport(calls_from_scan(found, output_columns(plan), zone), summary)
    except ReadError as exc:
        raise ReadError(shown_as, exc.message, exc.line) from None
