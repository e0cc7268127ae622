"""`assistgate policy evaluate|list|explain`, run as a user runs them, against the contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from assistgate.cli import main

CONTRACT_EXAMPLE = {
    "profile": "louisville-lmpd-2017",
    "date": "2018-05-01",
    "agency": "ice-ero",
    "requested_actions": ["serve_criminal_warrant", "knock_and_talk"],
    "warrant": {
        "kind": "judicial_criminal",
        "verified": True,
        "immigration_offense": False,
        "description": "Jefferson Circuit Court warrant, theft",
    },
    "crime": {"status": "none", "immigration_offense": False, "description": ""},
    "emergency": {"clear_public_danger": False, "description": ""},
}


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `assistgate` entry point in a child process."""
    exe = Path(sys.executable).with_name("assistgate")
    return subprocess.run(
        [str(exe), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def evaluate(document: Any) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["policy", "evaluate", "-"], input=json.dumps(document))
    return result.exit_code, result.stdout, result.stderr


def test_the_contract_example_is_decided_as_documented() -> None:
    proc = run("policy", "evaluate", "-", stdin=json.dumps(CONTRACT_EXAMPLE))
    assert proc.returncode == 0, proc.stderr
    decision = json.loads(proc.stdout)
    assert decision["profile"] == "louisville-lmpd-2017"
    assert decision["profile_version"] == "2017-09-22"
    assert decision["decision"] == "dispatch"
    assert decision["grounds"] == ["criminal_warrant"]
    assert decision["permitted_actions"] == ["serve_criminal_warrant"]
    assert decision["prohibited_actions"] == ["knock_and_talk"]
    assert decision["required_actions"] == ["record_call", "commanding_officer_to_scene"]
    for reason in decision["reasons"]:
        assert set(reason) >= {"clause", "text", "source"}
        assert reason["source"].startswith(("Louisville", "KyCIR"))
    assert {r["clause"] for r in decision["reasons"]} >= {
        "lmpd.ground-criminal-warrant",
        "lmpd.no-immigration-enforcement",
    }


def test_a_file_path_gives_the_same_answer_as_standard_input(tmp_path: Path) -> None:
    path = tmp_path / "assessment.json"
    path.write_text(json.dumps(CONTRACT_EXAMPLE), encoding="utf-8")
    from_file = run("policy", "evaluate", str(path))
    from_stdin = run("policy", "evaluate", "-", stdin=json.dumps(CONTRACT_EXAMPLE))
    assert from_file.returncode == 0
    assert from_file.stdout == from_stdin.stdout


def test_the_same_facts_always_give_the_same_decision() -> None:
    answers = {evaluate(CONTRACT_EXAMPLE)[1] for _ in range(5)}
    assert len(answers) == 1


def test_an_array_gives_an_array_of_decisions_in_the_same_order() -> None:
    batch = [
        {"date": "2018-01-02", "requested_actions": ["traffic_stop"]},
        CONTRACT_EXAMPLE,
        {
            "date": "2018-01-02",
            "requested_actions": ["emergency_response"],
            "emergency": {"clear_public_danger": True},
        },
    ]
    code, out, _ = evaluate(batch)
    assert code == 0
    decisions = json.loads(out)
    assert [d["decision"] for d in decisions] == ["decline", "dispatch", "dispatch"]
    assert [d["grounds"] for d in decisions] == [[], ["criminal_warrant"], ["public_danger"]]


def test_missing_fields_take_the_documented_defaults() -> None:
    code, out, _ = evaluate({"date": "2018-01-02"})
    assert code == 0
    d = json.loads(out)
    assert d["profile"] == "louisville-lmpd-2017"
    assert d["decision"] == "decline"
    assert d["prohibited_actions"] == ["serve_criminal_warrant", "knock_and_talk"]


def test_a_date_left_out_means_today_in_the_deployment_time_zone() -> None:
    code, out, _ = evaluate({"requested_actions": ["backup"]})
    assert code == 0
    assert json.loads(out)["profile_version"] == "2017-09-22"


@pytest.mark.parametrize(
    ("document", "path", "expected"),
    [
        ({"profile": "atlantis-2020"}, "profile", "expected a known profile id"),
        ({"agency": "fbi"}, "agency", "expected one of ice-ero, ice-hsi"),
        (
            {"requested_actions": ["arrest_everyone"]},
            "requested_actions[0]",
            "expected one of backup, serve_criminal_warrant",
        ),
        ({"requested_actions": []}, "requested_actions", "got an empty list"),
        ({"warrant": {"kind": "civil"}}, "warrant.kind", "expected one of none, judicial_criminal"),
        (
            {"warrant": {"kind": "judicial_criminal", "verified": "true"}},
            "warrant.verified",
            "expected true or false; got the string 'true'",
        ),
        (
            {"emergency": {"clear_public_danger": "yes"}},
            "emergency.clear_public_danger",
            "expected true or false",
        ),
        (
            {"emergency": {"clear_public_danger": 1}},
            "emergency.clear_public_danger",
            "got the number 1",
        ),
        ({"crime": {"status": "happening"}}, "crime.status", "expected one of none, occurred"),
        ({"date": "26/10/2017"}, "date", "expected a date written YYYY-MM-DD"),
        ({"warant": {}}, "warant", "unknown field"),
        (
            {"warrant": {"kind": "none", "verified": True}},
            "warrant.verified",
            "there is no warrant to verify",
        ),
        ({"profile": []}, "profile", "non-empty list of profile ids"),
    ],
)
def test_invalid_input_exits_2_naming_the_field_and_what_was_expected(
    document: dict[str, Any], path: str, expected: str
) -> None:
    code, out, err = evaluate(document)
    assert code == 2
    assert out == ""
    assert f"{path}: " in err
    assert expected in err


def test_malformed_json_exits_2_with_the_line_and_column() -> None:
    proc = run("policy", "evaluate", "-", stdin='{"agency": "ice-ero",\n "warrant": }')
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "standard input is not valid JSON: line 2, column 13" in proc.stderr


@pytest.mark.parametrize(
    "text", ['{"agency": "ice-ero", "agency": "cbp"}', '{"warrant": {"verified": NaN}}']
)
def test_json_with_repeated_keys_or_nan_is_refused(text: str) -> None:
    result = CliRunner().invoke(main, ["policy", "evaluate", "-"], input=text)
    assert result.exit_code == 2
    assert "is not valid JSON" in result.stderr


def test_a_missing_file_exits_2_naming_it(tmp_path: Path) -> None:
    proc = run("policy", "evaluate", str(tmp_path / "nope.json"))
    assert proc.returncode == 2
    assert "nope.json" in proc.stderr


def test_one_invalid_item_in_an_array_prints_no_decision_and_gives_its_index() -> None:
    batch = [
        CONTRACT_EXAMPLE,
        CONTRACT_EXAMPLE,
        {**CONTRACT_EXAMPLE, "warrant": {"kind": "judicial_criminal", "verified": "no"}},
    ]
    code, out, err = evaluate(batch)
    assert code == 2
    assert out == ""
    assert "invalid assessment [2]: warrant.verified" in err
    assert "[0]" not in err


def test_every_invalid_field_is_reported_not_only_the_first() -> None:
    code, _, err = evaluate({"agency": "fbi", "requested_actions": ["backup", "backup"]})
    assert code == 2
    assert "agency: " in err
    assert "requested_actions[1]: action 'backup' is listed twice" in err


def test_a_profile_not_in_force_on_the_date_is_an_error() -> None:
    code, out, err = evaluate({"profile": "louisville-ordinance-2017", "date": "2017-09-30"})
    assert code == 2
    assert out == ""
    assert "profile: profile louisville-ordinance-2017 is not in force on 2017-09-30" in err


def test_several_instruments_give_the_combined_answer_with_each_named() -> None:
    document = {
        **CONTRACT_EXAMPLE,
        "profile": ["louisville-lmpd-2017", "louisville-ordinance-2017"],
    }
    code, out, _ = evaluate(document)
    assert code == 0
    d = json.loads(out)
    assert d["profile"] == ["louisville-lmpd-2017", "louisville-ordinance-2017"]
    assert d["decision"] == "dispatch"
    assert d["grounds"] == ["criminal_warrant", "judicial_warrant"]
    assert d["prohibited_actions"] == ["knock_and_talk"]
    assert {r["profile"] for r in d["reasons"]} == set(d["profile"])


def test_the_default_profile_comes_from_the_deployment_settings() -> None:
    proc = run(
        "policy",
        "evaluate",
        "-",
        stdin=json.dumps({"date": "2018-01-02"}),
        env={"ASSISTGATE_DEFAULT_PROFILES": "louisville-ordinance-2017"},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["profile"] == "louisville-ordinance-2017"


def test_a_bad_default_profile_setting_is_refused_by_name() -> None:
    proc = run(
        "policy", "evaluate", "-", stdin="{}", env={"ASSISTGATE_DEFAULT_PROFILES": "nowhere-1999"}
    )
    assert proc.returncode == 2
    assert "unknown profile nowhere-1999" in proc.stderr


def test_policy_list_shows_every_profile_with_dates_and_sources() -> None:
    proc = run("policy", "list", "--json")
    assert proc.returncode == 0
    listed = json.loads(proc.stdout)
    ids = {p["id"] for p in listed}
    assert {"louisville-lmpd-2017", "louisville-ordinance-2017"} <= ids
    for p in listed:
        assert p["effective_from"]
        assert any(s["official"] for s in p["sources"])
    text = run("policy", "list").stdout
    assert "louisville-ordinance-2017  version 2017-10-26" in text
    assert "https://louisville.legistar.com/" in text


def test_policy_explain_reads_like_training_material() -> None:
    proc = run("policy", "explain", "louisville-lmpd-2017")
    assert proc.returncode == 0
    out = proc.stdout
    assert "When officers may be sent" in out
    assert "Never done, whatever the grounds" in out
    assert "knock and talk  [lmpd.no-immigration-enforcement]" in out
    assert "Not formalised:" in out
    assert "lmpd.ground-criminal-warrant" in out


def test_policy_explain_an_unknown_profile_exits_2() -> None:
    proc = run("policy", "explain", "atlantis")
    assert proc.returncode == 2
    assert "unknown profile 'atlantis'" in proc.stderr


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found += _commands(cmd, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _commands(main), ids=lambda c: " ".join(c) or "assistgate")
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.stdout
    assert len(result.stdout.splitlines()) > 3


def test_the_demo_decides_the_2017_requests() -> None:
    proc = run("demo")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("MAY SEND OFFICERS") == 2
    assert proc.stdout.count("DECLINE: NO OFFICERS") == 3
