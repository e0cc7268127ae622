"""What a human-readable report says, section by section; HTML and PDF render the same text."""

from __future__ import annotations

from dataclasses import dataclass

from assistgate.transparency import labels
from assistgate.transparency.figures import Counts, Durations, Share, percent_text
from assistgate.transparency.report_data import VERIFY_STEPS, ReportData, checkpoint_sentence


@dataclass(frozen=True, slots=True)
class Section:
    """A heading, a few sentences, and a table (header and rows of text)."""

    title: str
    lines: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def title(data: ReportData) -> str:
    return f"Requests for police help from federal immigration agencies: {data.period.label}"


def _share(s: Share) -> str:
    return "none to count" if s.of == 0 else f"{s.count} of {s.of} ({percent_text(s.percent or 0)})"


def _minutes(d: Durations) -> str:
    if d.count == 0:
        return "none measured"
    return (
        f"median {d.median_minutes} min, 90th percentile {d.p90_minutes} min ({d.count} measured)"
    )


def _counts(counts: Counts, table: dict[str, str] | None = None) -> tuple[tuple[str, ...], ...]:
    return tuple((labels.words(k, table), str(n)) for k, n in counts) or (("none", "0"),)


def sections(data: ReportData) -> list[Section]:
    """Return the report's sections in order."""
    f = data.figures
    d, c, o, t = f.decisions, f.compliance, f.outcomes, f.timing
    p = data.period
    intro = Section(
        "About this report",
        (
            f"Period: {p.first.isoformat()} to {p.last.isoformat()} ({p.timezone} time). "
            "A request counts in the period in which it was received, in the state it was in "
            "when the report was built.",
            checkpoint_sentence(data),
            "To check that these figures come from the whole record: "
            + "; then ".join(VERIFY_STEPS)
            + ".",
            "No names, phone numbers, badge numbers, addresses, exact times or free text "
            "appear in this report.",
        ),
    )
    summary = Section(
        "Summary",
        (
            f"{f.received} requests received; share of all calls for service: "
            f"{f.calls_for_service.text}."
            + (
                f" Months without a calls-for-service total: "
                f"{', '.join(f.calls_for_service.months_missing)}."
                if f.calls_for_service.months_counted and f.calls_for_service.months_missing
                else ""
            ),
        ),
        ("figure", "requests"),
        (
            ("received", str(f.received)),
            ("officers sent (dispatch decisions)", str(d.dispatched)),
            ("declined", str(d.declined)),
            ("withdrawn by the agency before a decision", str(d.cancelled)),
            ("not decided yet", str(d.pending)),
            ("asked for at least one prohibited action", str(d.requests_asking_prohibited)),
        ),
    )
    return [
        intro,
        summary,
        Section(
            "Requests by agency", (), ("agency", "requests"), _counts(f.by_agency, labels.AGENCIES)
        ),
        Section(
            "Actions asked for",
            ("A request asking for several actions counts once under each.",),
            ("action", "requests"),
            _counts(f.by_action, labels.ACTIONS),
        ),
        Section("Grounds that held", (), ("ground", "decisions"), _counts(d.grounds)),
        Section(
            "Prohibited actions asked for",
            (
                "Actions the policy forbade in the answer to the request; "
                "officers are never sent for them.",
            ),
            ("action", "requests"),
            _counts(d.prohibited_asked, labels.ACTIONS),
        ),
        Section(
            "Time",
            (),
            ("interval", "minutes"),
            (
                ("from intake to decision", _minutes(t.intake_to_decision)),
                (
                    "from decision to the commanding officer's arrival",
                    _minutes(t.decision_to_commander_arrival),
                ),
            ),
        ),
        Section(
            "Compliance",
            (),
            ("measure", "value"),
            (
                (
                    "commanding officer on scene, of requests where units were sent",
                    _share(c.commander_on_scene),
                ),
                ("recording of the call attached, of decided requests", _share(c.with_recording)),
                *(
                    (f"exception: {labels.words(k, labels.EXCEPTIONS)}", str(n))
                    for k, n in c.exceptions
                ),
                (
                    "dispatch decisions made without a ground (must be 0)",
                    str(c.decisions_without_ground),
                ),
            ),
        ),
        Section(
            "Outcomes",
            (f"{o.closed} requests closed in this period's cohort.",),
            ("outcome", "number"),
            (
                ("arrests by the police", str(o.police_arrests)),
                *((f"police arrests: {k}", str(n)) for k, n in o.police_arrests_by_offence),
                ("arrests by the agency", str(o.agency_arrests)),
                (
                    "closures confirming nobody was asked their immigration status",
                    _share(o.no_status_asked),
                ),
                ("closures saying someone was asked their immigration status", str(o.status_asked)),
            ),
        ),
        Section(
            "Month by month",
            (),
            ("month", "received", "officers sent", "declined", "withdrawn", "calls for service"),
            tuple(
                (
                    m.month,
                    str(m.received),
                    str(m.dispatched),
                    str(m.declined),
                    str(m.cancelled),
                    "not imported" if m.calls_for_service is None else f"{m.calls_for_service:,}",
                )
                for m in f.monthly
            ),
        ),
        Section(
            "Public log",
            ("One row per request; the same rows as the CSV, JSON and Parquet downloads.",),
            (
                "reference",
                "week",
                "district",
                "agency",
                "asked for",
                "decision",
                "commander attended",
                "recording",
                "outcome",
            ),
            tuple(
                (
                    r.reference,
                    r.week,
                    r.district or "-",
                    r.agency,
                    labels.listed(r.requested_actions, labels.ACTIONS),
                    labels.words(r.decision, labels.DECISIONS),
                    "-"
                    if r.commander_attended is None
                    else ("yes" if r.commander_attended else "no"),
                    "yes" if r.recording else "no",
                    labels.words(r.outcome, labels.OUTCOMES),
                )
                for r in data.rows
            ),
        ),
    ]
