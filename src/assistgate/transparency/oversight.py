"""Oversight bodies' formats: Oregon CJC's table, Illinois' annual report, Chicago's quarterly.

Each is built from the same public-safe records as the public log (see docs/PUBLIC_PAGES.md
for the source of each format and how our fields map onto it). The register does not record
exact dates in public outputs: where a body asks for the date received, we give the ISO week.

The Illinois report is signed with the ledger's Ed25519 key. The signed text starts with the
line `assistgate-statement/v1`, a shape no checkpoint body can take, so a statement signature
can never pass for a checkpoint signature or the reverse.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assistgate.ledger.keys import key_id, public_key_pem
from assistgate.requests.enums import State
from assistgate.transparency import labels
from assistgate.transparency.periods import QUARTER, YEAR, week_of
from assistgate.transparency.records import RequestRecord
from assistgate.transparency.report_data import ReportData, ReportError, checkpoint_sentence

STATEMENT_MAGIC = "assistgate-statement/v1"
OREGON_COLUMNS = (
    "Report ID",
    "Public Body",
    "County",
    "Federal Immigration Agency",
    "Nature of Request",
    "Number of Targeted Individuals",
    "Source",
    "Response of the Public Body",
)
NOT_RECORDED = "not recorded"
WARRANT_KINDS = ("judicial_criminal", "administrative_immigration", "immigration_detainer")


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def response(r: RequestRecord) -> str:
    """Say how the request was handled, in words."""
    if r.state == State.CANCELLED:
        return "withdrawn by the agency before a decision" if not r.decision else "withdrawn"
    if not r.decision:
        return "under review"
    refused = labels.listed(r.prohibited_asked, labels.ACTIONS)
    if r.decision == "decline":
        return "declined: no officers sent" + (f" (prohibited: {refused})" if refused else "")
    sent = "officers sent for the permitted actions only"
    return sent + (f"; refused: {refused}" if refused else "")


def transferred(r: RequestRecord) -> str:
    """Say whether anyone ended in the agency's custody with the police's part in it."""
    if not r.closed:
        return "withdrawn" if r.state == State.CANCELLED else "not closed yet"
    moved = r.agency_arrests > 0 or "transport_detainee" in r.officer_actions
    return "yes" if moved else "no"


def oregon_cjc(data: ReportData) -> dict[str, bytes]:
    """Build the Oregon CJC table: one row per request, in the columns of its public table."""
    if not data.public_body.strip() or not data.county.strip():
        raise ReportError("the Oregon CJC table names the public body and the county: give both")
    rows = [
        (
            r.ref,
            data.public_body.strip(),
            data.county.strip(),
            labels.words(r.agency, labels.AGENCIES),
            labels.listed(r.requested_actions, labels.ACTIONS),
            NOT_RECORDED,
            "dispatch system (911 centre)" if r.via_dispatch_system else "call taker",
            response(r),
        )
        for r in data.records
    ]
    return {f"oregon-cjc-{_label(data)}.csv": _csv(OREGON_COLUMNS, rows)}


def illinois_annual(data: ReportData, key: Ed25519PrivateKey) -> dict[str, bytes]:
    """Build the Illinois annual report (or the "no requests" statement), signed."""
    period = data.period
    if period.kind != YEAR:
        raise ReportError(
            f"the Illinois report is for a calendar year (like 2018), not {period.label}"
        )
    year = period.label
    table = _csv(
        ("reference", "month_received", "agency", "requested_actions", "warrant", "decision",
         "how_handled", "transferred_to_agency"),
        (
            (r.ref, r.received_at.astimezone(period.zone).strftime("%Y-%m"), r.agency,
             ";".join(r.requested_actions), labels.words(r.warrant_kind, labels.WARRANTS),
             r.decision or "none", response(r), transferred(r))
            for r in data.records
        ),
    )  # fmt: skip
    table_name = f"illinois-{year}-requests.csv"
    lines = [
        STATEMENT_MAGIC,
        f"Deployment: {data.origin}",
        f"Report under the Illinois TRUST Act (5 ILCS 805) for calendar year {year}.",
    ]
    if data.records:
        lines.append(
            f"{len(data.records)} requests for help from federal immigration agencies were "
            f"received in {year}. Each one, and how it was handled, is listed in {table_name} "
            f"(SHA-256 {hashlib.sha256(table).hexdigest()})."
        )
    else:
        lines.append(
            f"No requests for help from federal immigration agencies were received in {year}."
        )
    public = key.public_key()
    lines += [
        "The report holds no personal identifiers.",
        checkpoint_sentence(data),
        f"Signed with the ledger's Ed25519 key {key_id(public)} (public key: ledger-public.pem).",
        "To verify: assistgate report verify-statement STATEMENT.txt STATEMENT.sig --key "
        "ledger-public.pem; or: openssl pkeyutl -verify -pubin -inkey ledger-public.pem "
        "-rawin -in STATEMENT.txt -sigfile STATEMENT.sig",
        "",
    ]
    statement = "\n".join(lines).encode("utf-8")
    stem = f"illinois-{year}-statement"
    files = {
        f"{stem}.txt": statement,
        f"{stem}.sig": key.sign(statement),
        "ledger-public.pem": public_key_pem(public).encode("ascii"),
    }
    if data.records:
        files[table_name] = table
    return files


def verify_statement(statement: bytes, signature: bytes, public: Ed25519PublicKey) -> bool:
    """Say whether `signature` is the key's signature of a statement (and it is one)."""
    if not statement.startswith(STATEMENT_MAGIC.encode() + b"\n"):
        return False
    try:
        public.verify(signature, statement)
    except InvalidSignature:
        return False
    return True


def chicago_quarterly(data: ReportData) -> dict[str, bytes]:
    """Build Chicago's quarterly lists: the requests, and each warrant or detainer."""
    period = data.period
    if period.kind != QUARTER:
        raise ReportError(f"the Chicago report is for a quarter (like 2018-Q1), not {period.label}")
    zone = period.zone
    requests = _csv(
        ("reference", "week_received", "district", "agency", "requested_actions", "decision",
         "outcome"),
        (
            (r.ref, week_of(r.received_at, zone), r.district, r.agency,
             ";".join(r.requested_actions), r.decision or "none", r.outcome_category)
            for r in data.records
        ),
    )  # fmt: skip
    warrants = _csv(
        ("reference", "week_received", "kind", "transferred", "receiving_agency"),
        (
            (r.ref, week_of(r.received_at, zone), r.warrant_kind, transferred(r),
             r.agency if transferred(r) == "yes" else "")
            for r in data.records
            if r.warrant_kind in WARRANT_KINDS
        ),
    )  # fmt: skip
    label = _label(data)
    return {
        f"chicago-{label}-requests.csv": requests,
        f"chicago-{label}-warrants-detainers.csv": warrants,
    }


def _label(data: ReportData) -> str:
    return data.period.label.replace("..", "_to_")
