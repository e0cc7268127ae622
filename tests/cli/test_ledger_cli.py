"""`assistgate ledger ...`: the checks an auditor runs, and what each shows after tampering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistgate.ledger.checkpoint import SignedCheckpoint, verify_checkpoint
from assistgate.ledger.keys import load_public_key
from tests.cli.conftest import OUTCOME, Cli, call_wav


@pytest.fixture
def history(staffed: Cli) -> Cli:
    """A closed request (seq 0 to 8) and a second one awaiting review (seq 9 and 10)."""
    ref = staffed.dispatched()
    staffed.ok("request", "arrive", ref, "--as", "lt.okafor")
    staffed.ok("request", "clear", ref, "--as", "cad")
    staffed.ok("request", "recording", ref, "--as", "lt.okafor", "--file", call_wav(staffed))
    staffed.ok(
        "request", "close", ref, "--as", "lt.okafor", "--outcome", "-", stdin=json.dumps(OUTCOME)
    )
    staffed.create()
    assert staffed.ledger_size() == 11
    return staffed


def test_an_untouched_ledger_verifies(history: Cli) -> None:
    out = history.ok("ledger", "verify").splitlines()
    assert out[0].startswith("ledger OK: 11 entries, root ")
    assert out[1] == "  1 signed checkpoint(s) verified"
    assert out[2] == "  2 request(s) and 1 decision(s) match their ledger entries"
    assert history.ok("ledger", "verify", "--key", history.public_key) == "\n".join(out) + "\n"


def test_a_direct_change_to_a_request_fails_verification_naming_the_seq(history: Cli) -> None:
    history.sql(
        "UPDATE requests SET location = '1300 block of S 4th St' WHERE ref = 'AG-2018-0001'"
    )
    result = history.run("ledger", "verify")
    assert result.exit_code == 1
    assert result.stdout == (
        "seq 0: request AG-2018-0001 differs from its ledger entries in "
        "location: the row was changed directly\n"
    )
    assert result.stderr == (
        "assistgate: the ledger does not verify: 1 finding(s), first at seq 0\n"
    )


def test_a_changed_ledger_entry_is_named_first_among_the_findings(history: Cli) -> None:
    history.sql("UPDATE ledger_entries SET actor = 'lt.brandt' WHERE seq = 5")
    history.sql("UPDATE requests SET district = '6' WHERE ref = 'AG-2018-0002'")
    result = history.run("ledger", "verify")
    assert result.exit_code == 1
    findings = result.stdout.splitlines()
    assert findings[0] == "seq 5: the entry's columns disagree with its hashed body"
    assert findings[-1].startswith("seq 9: request AG-2018-0002 differs")
    assert "first at seq 5" in result.stderr


def test_an_export_verifies_offline_with_the_public_key_alone(history: Cli, tmp_path: Path) -> None:
    export = str(history.work / "ledger.jsonl")
    assert history.ok("ledger", "export", export).startswith(
        "exported 11 entries and the checkpoint signed at "
    )
    lines = Path(export).read_text().splitlines()
    assert len(lines) == 12
    assert json.loads(lines[0])["event"] == "request:created"
    assert lines[-1].startswith('{"checkpoint":')
    # Elsewhere: no database, no key store; only the file and the published key.
    offline = {
        "ASSISTGATE_DATA_DIR": str(tmp_path / "elsewhere"),
        "ASSISTGATE_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
    }
    result = history.run("ledger", "verify", export, "--key", history.public_key, **offline)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("export OK: 11 entries of assistgate/louisville-metro, root ")
    result = history.run("ledger", "verify", export, **offline)
    assert result.exit_code == 2
    assert "give --key PUBKEY.pem" in result.stderr


def test_an_edited_line_of_an_export_fails_naming_the_seq_and_line(history: Cli) -> None:
    export = history.work / "ledger.jsonl"
    history.ok("ledger", "export", str(export))
    lines = export.read_text().splitlines(keepends=True)
    assert '"actor":"lt.okafor","at":' in lines[5]  # seq 5: the commander's arrival
    lines[5] = lines[5].replace('"actor":"lt.okafor"', '"actor":"lt.brandt"')
    export.write_text("".join(lines))
    line = history.refused(1, "ledger", "verify", str(export), "--key", history.public_key)
    assert "ledger.jsonl does not verify: line 12 (seq 0): the entries hash to root" in line
    assert "an entry was altered, added or removed" in line

    del lines[5]
    export.write_text("".join(lines))
    line = history.refused(1, "ledger", "verify", str(export), "--key", history.public_key)
    assert "line 6 (seq 5): carries seq 6, expected 5" in line


def test_a_trusted_checkpoint_locates_an_edit_after_it(history: Cli) -> None:
    held = history.file("held.json", history.ok("ledger", "checkpoint"))
    history.create()
    export = history.work / "ledger.jsonl"
    history.ok("ledger", "export", str(export))
    lines = export.read_text().splitlines(keepends=True)
    lines[12] = lines[12].replace('"actor":"ct.alvarez"', '"actor":"ct.other"')
    export.write_text("".join(lines))
    line = history.refused(
        1, "ledger", "verify", str(export), "--key", history.public_key, "--trusted", held
    )
    assert "(seq 11):" in line
    assert "after seq 10" in line


def test_a_failed_export_leaves_no_file_behind(history: Cli) -> None:
    folder = history.work / "exports"
    folder.mkdir()
    export = folder / "ledger.jsonl"
    export.write_text("an earlier export\n")
    history.sql("UPDATE ledger_entries SET body = :body WHERE seq = 3", body=b'{"seq": 3}')
    line = history.refused(1, "ledger", "export", str(export))
    assert "the stored ledger cannot be exported" in line
    assert export.read_text() == "an earlier export\n"
    assert [p.name for p in folder.iterdir()] == ["ledger.jsonl"]


def test_checkpoint_prints_a_signed_checkpoint_to_publish(history: Cli) -> None:
    signed = SignedCheckpoint.from_json(json.loads(history.ok("ledger", "checkpoint")))
    checkpoint = verify_checkpoint(signed, load_public_key(Path(history.public_key)))
    assert (checkpoint.origin, checkpoint.size) == ("assistgate/louisville-metro", 11)
    assert history.ledger_size() == 11  # publishing writes no entry
    assert "1 signed checkpoint(s)" not in history.ok("ledger", "verify")


def _prove(cli: Cli, seq: int) -> dict[str, Any]:
    path = cli.work / f"proof-{seq}.json"
    assert cli.ok("ledger", "prove", str(seq), "--out", str(path)) == (
        f"wrote the proof of entry {seq} to {path}\n"
    )
    proof: dict[str, Any] = json.loads(path.read_text())
    return proof


def test_an_inclusion_proof_checks_out_offline(history: Cli) -> None:
    proof = _prove(history, 3)
    assert (proof["leaf_index"], proof["tree_size"]) == (3, 11)
    assert proof["entry"]["event"] == "request:decided"
    assert json.loads(history.ok("ledger", "prove", "3")) == proof
    out = history.ok(
        "ledger", "check-proof", history.file("p.json", proof), "--key", history.public_key
    )
    assert out.startswith(
        "proof OK: entry 3 (request:decided, AG-2018-0001) is in the ledger "
        "of 11 entries signed at "
    )
    assert out.endswith(" UTC\n")
    out = history.ok(
        "ledger", "check-proof", "-", "--key", history.public_key, stdin=json.dumps(proof)
    )
    assert out.startswith("proof OK: entry 3")


def _altered(proof: dict[str, Any], how: str) -> dict[str, Any]:
    changed: dict[str, Any] = json.loads(json.dumps(proof))
    if how == "proof hash":
        first = changed["proof"][0]
        changed["proof"][0] = ("0" if first[0] != "0" else "1") + first[1:]
    elif how == "entry":
        changed["entry"]["actor"] = "lt.brandt"
    elif how == "index":
        changed["leaf_index"] = 4
    elif how == "truncated":
        changed["proof"] = changed["proof"][:-1]
    elif how == "checkpoint":
        changed["checkpoint"]["size"] = 12
    return changed


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("proof hash", "entry 3 is not proved in the signed tree"),
        ("entry", "entry 3 is not proved in the signed tree"),
        ("index", "the entry is seq 3 but leaf_index is 4"),
        ("truncated", "has 3 hashes, expected 4"),
        ("checkpoint", "checkpoint: signature does not verify"),
    ],
)
def test_an_altered_inclusion_proof_fails_saying_what(history: Cli, how: str, message: str) -> None:
    proof = _altered(_prove(history, 3), how)
    line = history.refused(
        1, "ledger", "check-proof", history.file("p.json", proof), "--key", history.public_key
    )
    assert line.startswith("assistgate: the proof does not verify: ")
    assert message in line


def test_a_proof_checked_with_another_key_fails(history: Cli, tmp_path: Path) -> None:
    proof = history.file("p.json", _prove(history, 0))
    other = {"ASSISTGATE_DATA_DIR": str(tmp_path / "other")}
    assert history.run("keys", "init", **other).exit_code == 0
    result = history.run("ledger", "check-proof", proof, **other)
    assert result.exit_code == 1
    assert "checkpoint: checkpoint names key" in result.stderr


def test_prove_refuses_a_seq_beyond_the_ledger(history: Cli) -> None:
    line = history.refused(2, "ledger", "prove", "11")
    assert "seq 11 is not in the ledger of 11 entries (0 to 10)" in line


def test_a_consistency_proof_shows_the_ledger_only_grew(history: Cli) -> None:
    history.ok("ledger", "checkpoint")
    history.dispatched()
    path = history.work / "grew.json"
    history.ok("ledger", "consistency", "11", "--out", str(path))
    proof = json.loads(path.read_text())
    assert (proof["old_size"], proof["new_size"]) == (11, 16)
    out = history.ok("ledger", "check-consistency", str(path), "--key", history.public_key)
    assert out.startswith("consistency OK: the ledger of 16 entries signed at ")
    assert " UTC extends the ledger of 11 entries signed at " in out
    assert out.endswith(" UTC: it only grew\n")

    proof["proof"][0] = "00" * 32
    line = history.refused(
        1,
        "ledger",
        "check-consistency",
        history.file("bad.json", proof),
        "--key",
        history.public_key,
    )
    assert "the ledger of 16 entries does not extend the one of 11" in line


def test_a_consistency_proof_needs_a_kept_checkpoint(history: Cli) -> None:
    history.ok("ledger", "checkpoint")
    line = history.refused(2, "ledger", "consistency", "5")
    assert "no checkpoint of 5 entries is kept (kept sizes: 11)" in line


def test_a_malformed_proof_file_is_refused(history: Cli) -> None:
    line = history.refused(
        2, "ledger", "check-proof", str(history.work / "none.json"), "--key", history.public_key
    )
    assert "proof file: " in line
    assert "no such file" in line
    line = history.refused(
        1,
        "ledger",
        "check-consistency",
        history.file("x.json", {"a": 1}),
        "--key",
        history.public_key,
    )
    assert "a consistency proof fields wrong" in line


def test_the_installed_entry_point_proves_and_verifies_offline(history: Cli) -> None:
    export = str(history.work / "ledger.jsonl")
    proc = history.subprocess("ledger", "export", export)
    assert proc.returncode == 0, proc.stderr
    proc = history.subprocess("ledger", "verify", export, "--key", history.public_key)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("export OK: 11 entries")
    proof = history.subprocess("ledger", "prove", "10")
    assert proof.returncode == 0, proof.stderr
    proc = history.subprocess(
        "ledger", "check-proof", "-", "--key", history.public_key, stdin=proof.stdout
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("proof OK: entry 10 (request:alerted, AG-2018-0002)")
