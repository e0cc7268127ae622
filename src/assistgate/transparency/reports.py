"""The offline report of a period: the same data and period always give the same bytes.

Public interface (stable):

    gather(session, period, *, public_key, origin) -> ReportData    (reads the register)
    build_report(data, fmt, *, signing_key=None) -> dict[file name, bytes]      (pure)
    FORMATS = ("html", "pdf", "csv", "json", "oregon-cjc", "illinois-annual",
               "chicago-quarterly")

A report names the ledger checkpoint it was built from: the signed checkpoint in the
ledger's head when the report was gathered. The head is re-signed at every entry, so that
checkpoint is the latest one and covers every step recorded until then; every format ships
it as `ledger-checkpoint.json` (the form `assistgate ledger checkpoint` prints), which an
export can be checked against with `assistgate ledger verify EXPORT --key KEY.pem --trusted
ledger-checkpoint.json`. Building a report writes nothing, not even to the ledger: a ledger
entry per build would change the checkpoint, and the next build would differ.

Nothing in a report depends on the clock or the machine: no build time, sorted rows, fixed
key order, and (for PDF) a fixed creation date and document id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assistgate.transparency.downloads import figures_csv
from assistgate.transparency.oversight import chicago_quarterly, illinois_annual, oregon_cjc
from assistgate.transparency.public_log import data_dictionary_json, log_csv
from assistgate.transparency.report_data import (
    CHECKPOINT_FILE,
    VERIFY_STEPS,
    ReportData,
    ReportError,
    checkpoint_json,
    checkpoint_sentence,
    gather,
    head_checkpoint,
)
from assistgate.transparency.report_html import report_html
from assistgate.transparency.report_pdf import report_pdf

FORMATS = (
    "html",
    "pdf",
    "csv",
    "json",
    "oregon-cjc",
    "illinois-annual",
    "chicago-quarterly",
)
__all__ = [
    "CHECKPOINT_FILE",
    "FORMATS",
    "ReportData",
    "ReportError",
    "build_report",
    "gather",
    "head_checkpoint",
]


def build_report(
    data: ReportData, fmt: str, *, signing_key: Ed25519PrivateKey | None = None
) -> dict[str, bytes]:
    """Build the files of one report format; the same data always gives the same bytes."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    files = _BUILDERS[fmt](data, signing_key)
    if data.checkpoint is not None:
        # Exactly the form `assistgate ledger checkpoint` prints, so `--trusted` accepts it.
        files[CHECKPOINT_FILE] = _json_bytes(data.checkpoint.to_json())
    return dict(sorted(files.items()))


def report_json(data: ReportData) -> dict[str, Any]:
    """Return the whole report as one JSON document."""
    return {
        "report": f"Requests for police help from federal immigration agencies, "
        f"{data.period.label}",
        "deployment": data.origin,
        "period": data.period.to_json(),
        "built_from": {
            "statement": checkpoint_sentence(data),
            "checkpoint": checkpoint_json(data),
            "how_to_verify": list(VERIFY_STEPS),
        },
        "figures": data.figures.to_json(),
        "public_log": [r.to_json() for r in data.rows],
    }


def report_figures_csv(data: ReportData) -> bytes:
    """Write the figures as rows of section, item, value, the checkpoint first."""
    cp = checkpoint_json(data)
    source = [
        ("built_from", "ledger", data.origin),
        ("built_from", "tree_size", str(cp["size"]) if cp else "0"),
        ("built_from", "root_hash", cp["root_hex"] if cp else ""),
        ("built_from", "signed_at", cp["at"] if cp else ""),
    ]
    return figures_csv(data.figures, source)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _json(data: ReportData, _: Ed25519PrivateKey | None) -> dict[str, bytes]:
    return {f"{data.stem}.json": _json_bytes(report_json(data))}


def _csv(data: ReportData, _: Ed25519PrivateKey | None) -> dict[str, bytes]:
    return {
        f"{data.stem}-figures.csv": report_figures_csv(data),
        f"{data.stem}-log.csv": log_csv(data.rows),
        "data-dictionary.json": data_dictionary_json(),
    }


def _html(data: ReportData, _: Ed25519PrivateKey | None) -> dict[str, bytes]:
    return {f"{data.stem}.html": report_html(data)}


def _pdf(data: ReportData, _: Ed25519PrivateKey | None) -> dict[str, bytes]:
    return {f"{data.stem}.pdf": report_pdf(data)}


def _oregon(data: ReportData, _: Ed25519PrivateKey | None) -> dict[str, bytes]:
    return oregon_cjc(data)


def _illinois(data: ReportData, key: Ed25519PrivateKey | None) -> dict[str, bytes]:
    if key is None:
        raise ReportError("the Illinois annual report is signed: the ledger's key is needed")
    return illinois_annual(data, key)


def _chicago(data: ReportData, _: Ed25519PrivateKey | None) -> dict[str, bytes]:
    return chicago_quarterly(data)


_BUILDERS: dict[str, Callable[[ReportData, Ed25519PrivateKey | None], dict[str, bytes]]] = {
    "html": _html,
    "pdf": _pdf,
    "csv": _csv,
    "json": _json,
    "oregon-cjc": _oregon,
    "illinois-annual": _illinois,
    "chicago-quarterly": _chicago,
}
