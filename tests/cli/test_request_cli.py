"""`assistgate request ...`: a request taken from the call to its closure at the terminal."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import OUTCOME, WARRANT_FACTS, Cli, call_wav


def test_a_request_goes_from_the_call_to_closure_through_the_cli(staffed: Cli) -> None:
    cli = staffed
    ref = cli.create("--cad-incident", "P18065001")
    assert ref == "AG-2018-0001"
    facts = cli.file("facts.json", WARRANT_FACTS)
    assert cli.ok("request", "claim", ref, "--as", "lt.okafor") == (
        "AG-2018-0001: claimed by lt.okafor; now under_review\n"
    )
    decided = cli.ok(
        "request",
        "decide",
        ref,
        "--as",
        "lt.okafor",
        "--facts",
        facts,
        "--approve",
        "serve_criminal_warrant",
        "--note",
        "Warrant confirmed with the circuit clerk.",
    )
    assert "Decision: DISPATCH, by lt.okafor" in decided
    assert "prohibited: knock and talk" in decided
    assert "commanding officer's note: Warrant confirmed with the circuit clerk." in decided
    assert "now units_dispatched" in cli.ok(
        "request", "dispatch", ref, "--as", "cad", "--unit", "4A21", "--unit", "4A23"
    )
    assert "now commander_on_scene" in cli.ok("request", "arrive", ref, "--as", "lt.okafor")
    assert "now cleared" in cli.ok("request", "clear", ref, "--as", "cad")
    cli.ok("request", "recording", ref, "--as", "lt.okafor", "--file", call_wav(cli))
    closed = cli.ok(
        "request", "close", ref, "--as", "lt.okafor", "--outcome", "-", stdin=json.dumps(OUTCOME)
    )
    assert closed == "AG-2018-0001: closed by lt.okafor; now closed\n"

    shown = json.loads(cli.ok("request", "show", ref, "--json"))
    assert shown["state"] == "closed"
    assert shown["received_at"] == "2018-03-06T14:41:00.000000Z"
    assert shown["location"] == "1200 block of S 4th St"
    assert shown["units"] == ["4A21", "4A23"]
    assert shown["outcome"]["police_arrests"] == [{"offense_category": "theft"}]
    decision = shown["decision"]
    assert decision["outcome"] == "dispatch"
    assert decision["note"] == "Warrant confirmed with the circuit clerk."
    assert decision["answer"]["grounds"] == ["criminal_warrant", "judicial_warrant"]
    assert decision["answer"]["prohibited_actions"] == ["knock_and_talk"]
    assert decision["answer"]["required_actions"] == ["record_call", "commanding_officer_to_scene"]
    timeline = shown["timeline"]
    assert [(e["actor"], e["event"]) for e in timeline] == [
        ("ct.alvarez", "request:created"),
        ("ct.alvarez", "request:alerted"),
        ("lt.okafor", "request:claimed"),
        ("lt.okafor", "request:decided"),
        ("cad", "request:dispatched"),
        ("lt.okafor", "request:arrived"),
        ("cad", "request:cleared"),
        ("lt.okafor", "request:recording_attached"),
        ("lt.okafor", "request:closed"),
    ]
    assert [e["seq"] for e in timeline] == list(range(9))
    assert all(e["at"].endswith("Z") for e in timeline)
    assert timeline[2]["data"] == {"request": {"commander": "lt.okafor", "state": "under_review"}}
    assert timeline[3]["data"]["decision"]["approved_actions"] == ["serve_criminal_warrant"]
    # Stable: the same request prints the same JSON every time.
    assert cli.ok("request", "show", ref, "--json") == cli.ok("request", "show", ref, "--json")


def test_request_show_reads_like_the_case_file_in_local_time(staffed: Cli) -> None:
    ref = staffed.dispatched()
    text = staffed.ok("request", "show", ref)
    assert text.startswith("AG-2018-0001  units_dispatched\n")
    assert "received        2018-03-06 09:41 EST, registered by ct.alvarez" in text
    assert "location        1200 block of S 4th St (district 4)" in text
    assert "Decision: DISPATCH, by lt.okafor" in text
    assert "grounds: criminal warrant, judicial warrant" in text
    assert "[lmpd.no-immigration-enforcement] prohibited:knock_and_talk" in text
    timeline = text.split("Timeline (from the ledger)\n")[1].splitlines()
    assert timeline[0].split() == ["TIME", "ACTOR", "EVENT", "CHANGED"]
    assert "request:claimed" in timeline[3]
    assert "commander lt.okafor; state under_review" in (timeline[3])
    assert "units 4A21" in timeline[5]
    utc = staffed.run("request", "show", ref, ASSISTGATE_TIMEZONE="UTC").stdout
    assert "received        2018-03-06 14:41 UTC" in utc


def test_request_list_shows_the_register_and_filters_by_state(staffed: Cli) -> None:
    first = staffed.dispatched()
    second = staffed.create()
    staffed.ok(
        "request",
        "cancel",
        second,
        "--as",
        "ct.alvarez",
        "--reason",
        "ERO called back: subject already in custody.",
    )
    rows = staffed.ok("request", "list").splitlines()
    assert rows[0].split() == ["REF", "RECEIVED", "AGENCY", "STATE", "COMMANDER", "FLAGGED"]
    assert rows[1].split() == [
        first,
        "2018-03-06",
        "09:41",
        "EST",
        "ice-ero",
        "units_dispatched",
        "lt.okafor",
    ]
    assert rows[2].split()[0:1] + rows[2].split()[4:] == [second, "ice-ero", "cancelled", "-"]
    only = json.loads(staffed.ok("request", "list", "--state", "cancelled", "--json"))
    assert [(r["ref"], r["cancel_reason"]) for r in only] == [
        (second, "ERO called back: subject already in custody.")
    ]
    assert staffed.ok("request", "list", "--state", "closed") == "no requests\n"


def test_create_prints_the_request_as_json_on_request(staffed: Cli) -> None:
    created = json.loads(staffed.create("--json"))
    assert created["ref"] == "AG-2018-0001"
    assert created["state"] == "awaiting_review"
    assert created["requested_actions"] == ["serve_criminal_warrant", "knock_and_talk"]
    assert created["decision"] is None


def test_assess_shows_what_the_policy_says_and_records_nothing(staffed: Cli) -> None:
    ref = staffed.create()
    staffed.ok("request", "claim", ref, "--as", "lt.okafor")
    size = staffed.ledger_size()
    out = staffed.ok(
        "request",
        "assess",
        ref,
        "--as",
        "lt.okafor",
        "--facts",
        "-",
        stdin=json.dumps(WARRANT_FACTS),
    )
    assert out.startswith("AG-2018-0001: MAY SEND OFFICERS\n")
    assert "louisville-lmpd-2017 (2017-09-22) + louisville-ordinance-2017 (2017-10-26)" in out
    assert "nothing was recorded" in out
    answer = json.loads(
        staffed.ok(
            "request", "assess", ref, "--as", "lt.okafor", "--json", "--facts", "-", stdin="{}"
        )
    )
    assert (answer["decision"], answer["date"]) == ("decline", "2018-03-06")
    assert staffed.ledger_size() == size
    assert json.loads(staffed.ok("request", "show", ref, "--json"))["decision"] is None


def test_no_approval_is_a_decline_and_a_declined_request_closes(staffed: Cli) -> None:
    ref = staffed.create()
    staffed.ok("request", "claim", ref, "--as", "lt.okafor")
    out = staffed.ok(
        "request",
        "decide",
        ref,
        "--as",
        "lt.okafor",
        "--facts",
        "-",
        stdin=json.dumps(WARRANT_FACTS),
    )
    assert "Decision: DECLINE" in out
    assert "approved: none" in out
    staffed.ok(
        "request",
        "exception",
        ref,
        "--as",
        "maj.chen",
        "--kind",
        "no_recording",
        "--reason",
        "Recorder outage 09:30-11:00, ticket 5521.",
    )
    staffed.ok(
        "request",
        "close",
        ref,
        "--as",
        "lt.okafor",
        "--outcome",
        "-",
        stdin='{"immigration_status_asked": false}',
    )
    shown = json.loads(staffed.ok("request", "show", ref, "--json"))
    assert (shown["state"], shown["flagged_for_review"]) == ("closed", True)


def test_a_claim_can_be_released_for_another_commanding_officer(staffed: Cli) -> None:
    ref = staffed.create()
    staffed.ok("request", "claim", ref, "--as", "lt.okafor")
    line = staffed.refused(1, "request", "claim", ref, "--as", "lt.brandt")
    assert "already held by lt.okafor" in line
    assert "now awaiting_review" in staffed.ok("request", "release", ref, "--as", "lt.okafor")
    assert "claimed by lt.brandt" in staffed.ok("request", "claim", ref, "--as", "lt.brandt")


# Each refusal: the exit code, what the one line on stderr says, and nothing written.
REFUSALS = [
    pytest.param(
        2,
        ["request", "claim", "{ref}", "--as", "lt.nobody"],
        "no user named 'lt.nobody'",
        id="unknown user",
    ),
    pytest.param(
        1,
        ["request", "claim", "{ref}", "--as", "ct.alvarez"],
        "ct.alvarez (call_taker) may not claim a request; allowed: commander",
        id="wrong role",
    ),
    pytest.param(
        1,
        ["request", "arrive", "{ref}", "--as", "lt.okafor"],
        "cannot arrive a request that is awaiting_review; allowed from awaiting_review: "
        "claim, cancel",
        id="refused transition",
    ),
    pytest.param(
        2,
        ["request", "claim", "AG-2018-0999", "--as", "lt.okafor"],
        "no request with reference 'AG-2018-0999'",
        id="unknown request",
    ),
    pytest.param(
        2,
        ["request", "decide", "{ref}", "--as", "lt.okafor", "--facts", "-"],
        "--facts: standard input is not valid JSON: line 2, column 11",
        id="bad JSON",
    ),
    pytest.param(
        2,
        ["request", "decide", "{ref}", "--as", "lt.okafor", "--facts", "{missing}"],
        "no such file",
        id="missing file",
    ),
    pytest.param(
        2,
        ["request", "cancel", "{ref}", "--as", "ct.alvarez", "--reason", " "],
        "reason: say why the request is cancelled",
        id="invalid field",
    ),
    pytest.param(
        2,
        ["request", "recording", "{ref}", "--as", "lt.okafor", "--sha256", "abc"],
        "sha256: expected 64 hexadecimal characters",
        id="bad digest",
    ),
    pytest.param(
        1,
        ["request", "close", "{ref}", "--as", "lt.okafor", "--outcome", "-"],
        "cannot close a request that is awaiting_review",
        id="early close",
    ),
]


@pytest.mark.parametrize(("code", "args", "message"), REFUSALS)
def test_a_refusal_exits_with_its_code_says_why_and_writes_nothing(
    staffed: Cli, code: int, args: list[str], message: str
) -> None:
    ref = staffed.create()
    size = staffed.ledger_size()
    missing = str(staffed.work / "no-such-facts.json")
    argv = [a.format(ref=ref, missing=missing) for a in args]
    line = staffed.refused(
        code, *argv, stdin='{"warrant":\n {"kind": }}' if "--facts" in argv else json.dumps(OUTCOME)
    )
    assert message in line
    assert staffed.ledger_size() == size
    assert json.loads(staffed.ok("request", "show", ref, "--json"))["state"] == "awaiting_review"


def test_a_lifecycle_rule_refuses_clearing_before_the_commander_arrives(staffed: Cli) -> None:
    ref = staffed.dispatched()
    size = staffed.ledger_size()
    line = staffed.refused(1, "request", "clear", ref, "--as", "cad")
    assert "the commanding officer's arrival is not recorded" in line
    assert staffed.ledger_size() == size


def test_an_approval_beyond_the_policy_is_refused_by_field(staffed: Cli) -> None:
    ref = staffed.create()
    staffed.ok("request", "claim", ref, "--as", "lt.okafor")
    size = staffed.ledger_size()
    line = staffed.refused(
        2,
        "request",
        "decide",
        ref,
        "--as",
        "lt.okafor",
        "--facts",
        "-",
        "--approve",
        "knock_and_talk",
        stdin=json.dumps(WARRANT_FACTS),
    )
    assert "approve: knock_and_talk not permitted by the policy" in line
    line = staffed.refused(
        2,
        "request",
        "assess",
        ref,
        "--as",
        "lt.okafor",
        "--facts",
        "-",
        stdin='{"warrant": {"kind": "judicial_criminal", "verified": "yes"}}',
    )
    assert "facts.warrant.verified: expected true or false" in line
    assert staffed.ledger_size() == size


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agency", "fbi"], "agency: expected one of ice-ero"),
        (["--action", "raid"], "requested_actions[2]: expected one of"),
        (["--received-at", "2018-03-06T09:41"], "received_at: give the UTC offset"),
        (["--received-at", "6 March 2018"], "received_at: expected ISO 8601"),
    ],
)
def test_bad_request_fields_are_refused_by_name(
    staffed: Cli, args: list[str], message: str
) -> None:
    line = staffed.refused(2, *_create_args(args))
    assert message in line
    assert staffed.ledger_size() == 0


def _create_args(extra: list[str]) -> list[str]:
    base = {
        "--agency": "ice-ero",
        "--official": "K. Marsh",
        "--identity-check": "not_verified",
        "--location": "S 4th St",
        "--words": "Backup please",
        "--received-at": "2018-03-06T09:41-05:00",
    }
    pairs = dict(zip(extra[::2], extra[1::2], strict=True))
    args = [
        "request",
        "create",
        "--as",
        "ct.alvarez",
        "--action",
        "backup",
        "--action",
        "perimeter",
    ]
    for option, value in {**base, **pairs}.items():
        if option != "--action":
            args += [option, value]
    if "--action" in pairs:
        args += ["--action", pairs["--action"]]
    return args


def test_the_installed_entry_point_registers_and_refuses(staffed: Cli) -> None:
    proc = staffed.subprocess(*_create_args([]))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "AG-2018-0001\n"
    proc = staffed.subprocess(
        "request", "dispatch", "AG-2018-0001", "--as", "cad", "--unit", "4A21"
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        "assistgate: request AG-2018-0001 has no dispatch decision by a "
        "commanding officer; units cannot be sent\n"
    )
