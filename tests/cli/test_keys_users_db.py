"""`assistgate keys|user|db`: setting up a deployment, as its administrator would check it."""

from __future__ import annotations

import json
import stat

from assistgate.db.migrate import head_revision
from assistgate.ledger.keys import load_public_key
from tests.cli.conftest import Cli


def test_keys_init_creates_a_private_key_and_prints_the_public_one(cli: Cli) -> None:
    out = cli.ok("keys", "init")
    keys = cli.data_dir / "keys"
    private, public = keys / "ledger-ed25519.pem", keys / "ledger-ed25519.pub.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert str(private) in out
    assert str(public) in out
    assert out.endswith(public.read_text())
    load_public_key(public)


def test_keys_show_prints_the_public_key_for_publication(cli: Cli) -> None:
    cli.ok("keys", "init")
    assert cli.ok("keys", "show") == (cli.data_dir / "keys" / "ledger-ed25519.pub.pem").read_text()


def test_keys_init_refuses_to_overwrite_a_key(cli: Cli) -> None:
    cli.ok("keys", "init")
    before = (cli.data_dir / "keys" / "ledger-ed25519.pem").read_bytes()
    line = cli.refused(1, "keys", "init")
    assert "already exists; a new key would not verify earlier checkpoints" in line
    assert (cli.data_dir / "keys" / "ledger-ed25519.pem").read_bytes() == before


def test_keys_show_without_a_key_says_how_to_make_one(cli: Cli) -> None:
    line = cli.refused(2, "keys", "show")
    assert "no such public key file" in line
    assert "assistgate keys init" in line


def test_users_are_added_and_listed(staffed: Cli) -> None:
    out = staffed.ok(
        "user",
        "add",
        "sgt.ruiz",
        "--role",
        "commander",
        "--role",
        "auditor",
        "--name",
        "Sgt. P. Ruiz (fictional)",
        "--extension",
        "4103",
    )
    assert out == "added sgt.ruiz (auditor, commander): Sgt. P. Ruiz (fictional)\n"
    table = staffed.ok("user", "list").splitlines()
    assert table[0].split() == ["USERNAME", "ROLES", "NAME", "EXTENSION", "ACTIVE", "ADDED"]
    assert any(line.startswith("sgt.ruiz") and "4103" in line for line in table)
    listed = {u["username"]: u for u in json.loads(staffed.ok("user", "list", "--json"))}
    assert set(listed) == {"ct.alvarez", "lt.okafor", "lt.brandt", "maj.chen", "cad", "sgt.ruiz"}
    assert listed["sgt.ruiz"]["roles"] == ["auditor", "commander"]
    assert listed["sgt.ruiz"]["extension"] == "4103"
    assert listed["sgt.ruiz"]["active"] is True
    assert listed["sgt.ruiz"]["created_at"].endswith("Z")


def test_a_bad_role_is_refused_naming_the_roles_and_nobody_is_added(staffed: Cli) -> None:
    line = staffed.refused(2, "user", "add", "sheriff.b", "--role", "sheriff", "--name", "B")
    assert "role: expected one of call_taker, commander, auditor, admin" in line
    assert "'sheriff'" in line
    assert "sheriff.b" not in staffed.ok("user", "list")


def test_a_username_is_checked_and_taken_once(staffed: Cli) -> None:
    line = staffed.refused(2, "user", "add", "Lt Okafor", "--role", "auditor", "--name", "X")
    assert "username: expected 2 to 64 lowercase letters" in line
    line = staffed.refused(2, "user", "add", "lt.okafor", "--role", "auditor", "--name", "X")
    assert "username: lt.okafor is already a user" in line


def test_db_upgrade_migrates_an_empty_database_and_current_says_so(cli: Cli) -> None:
    assert "the database is empty" in cli.ok("db", "current")
    newest = head_revision()
    assert cli.ok("db", "upgrade") == f"database upgraded from revision none (empty) to {newest}\n"
    assert cli.ok("db", "current") == f"{newest} (the newest)\n"
    assert cli.ok("db", "upgrade") == f"database already at revision {newest} (the newest)\n"


def test_an_unreachable_database_is_named_without_its_password(cli: Cli) -> None:
    url = "postgresql+psycopg://assistgate:s3cret@127.0.0.1:1/nowhere"
    result = cli.run("db", "current", ASSISTGATE_DATABASE_URL=url)
    assert result.exit_code == 2
    assert "cannot open the database postgresql+psycopg://assistgate:***@127.0.0.1:1" in (
        result.stderr
    )
    assert "s3cret" not in result.stderr
    result = cli.run("user", "list", ASSISTGATE_DATABASE_URL=url)
    assert result.exit_code == 2
    assert "ASSISTGATE_DATABASE_URL" in result.stderr


def test_a_bad_setting_is_refused_naming_the_variable(cli: Cli) -> None:
    result = cli.run("user", "list", ASSISTGATE_TIMEZONE="Mars/Olympus_Mons")
    assert result.exit_code == 2
    assert result.stderr.startswith("assistgate: ASSISTGATE_TIMEZONE: expected an IANA time zone")


def test_the_installed_entry_point_sets_up_a_deployment(cli: Cli) -> None:
    proc = cli.subprocess("keys", "init")
    assert proc.returncode == 0, proc.stderr
    proc = cli.subprocess(
        "user",
        "add",
        "lt.okafor",
        "--role",
        "commander",
        "--name",
        "Lt. J. Okafor (fictional)",
    )
    assert proc.returncode == 0, proc.stderr
    proc = cli.subprocess("user", "add", "x.y", "--role", "mayor", "--name", "X")
    assert proc.returncode == 2
    assert proc.stderr.startswith("assistgate: role: expected one of")


def test_a_step_before_the_key_exists_says_how_to_create_it_and_writes_nothing(cli: Cli) -> None:
    cli.ok("user", "add", "ct.alvarez", "--role", "call_taker", "--name", "R. Alvarez")
    line = cli.refused(2, *_create("ct.alvarez"))
    assert "no such private key file; create the ledger's key with 'assistgate keys init'" in line
    assert cli.ledger_size() == 0
    assert cli.ok("request", "list") == "no requests\n"


def _create(username: str) -> list[str]:
    return [
        "request", "create", "--as", username, "--agency", "ice-ero", "--official", "K. Marsh",
        "--identity-check", "not_verified", "--location", "S 4th St", "--words", "Backup",
        "--action", "backup",
    ]  # fmt: skip
