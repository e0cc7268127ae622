"""The console's administrative commands: `assistgate user unlock | set-password | deactivate |
reactivate`, each recorded in the ledger as done from the console."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from assistgate.auth import security
from tests.cli.conftest import PEOPLE, Cli


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with Argon2id at its cheapest: the same code, a hundredth of the time."""
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                            parallelism=1))  # fmt: skip


@pytest.fixture
def staffed(database_url: str, tmp_path: Path) -> Cli:
    work = tmp_path / "work"
    work.mkdir()
    cli = Cli(data_dir=tmp_path / "data", database_url=database_url, work=work)
    cli.ok("keys", "init")
    for username, role, name in [*PEOPLE, ("admin.kim", "admin", "D. Kim (fictional)")]:
        cli.ok("user", "add", username, "--role", role, "--name", name)
    return cli


def events(cli: Cli) -> list[tuple[str, str, str]]:
    rows = cli.sql("SELECT actor, event, subject FROM ledger_entries ORDER BY seq")
    return [(a.split(":")[0], e, s) for a, e, s in rows]


def test_the_console_sets_a_password_that_must_be_changed_then_unlocks_and_deactivates(
    staffed: Cli,
) -> None:
    out = staffed.ok("user", "set-password", "ct.alvarez",
                     stdin="handed over in person\nhanded over in person\n")  # fmt: skip
    assert "password set for ct.alvarez; it must be changed at the next sign-in" in out
    [(stored, must_change)] = staffed.sql(
        "SELECT password_hash, password_must_change FROM users WHERE username = 'ct.alvarez'"
    )
    assert must_change
    assert security.check_password(stored, "handed over in person")
    assert "handed over in person" not in out

    assert "was not locked" in staffed.ok("user", "unlock", "ct.alvarez")
    staffed.sql("UPDATE users SET locked_at = CURRENT_TIMESTAMP WHERE username = 'ct.alvarez'")
    assert staffed.ok("user", "unlock", "ct.alvarez") == "unlocked ct.alvarez\n"
    assert staffed.sql("SELECT locked_at FROM users WHERE username = 'ct.alvarez'") == [(None,)]

    assert staffed.ok("user", "deactivate", "lt.okafor") == "deactivated lt.okafor\n"
    assert staffed.sql("SELECT active FROM users WHERE username = 'lt.okafor'")[0][0] in (0, False)
    assert staffed.ok("user", "reactivate", "lt.okafor") == "reactivated lt.okafor\n"
    assert events(staffed) == [
        ("console", "admin:password_set", "user:ct.alvarez"),
        ("console", "admin:user_unlocked", "user:ct.alvarez"),
        ("console", "admin:user_deactivated", "user:lt.okafor"),
        ("console", "admin:user_reactivated", "user:lt.okafor"),
    ]


def refused_after_prompts(cli: Cli, code: int, *args: str, stdin: str) -> str:
    """Run a prompting command that must fail: return its one error line (after the prompts)."""
    result = cli.run(*args, stdin=stdin)
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("assistgate: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_the_console_refuses_weak_passwords_unknown_users_and_removing_the_last_admin(
    staffed: Cli,
) -> None:
    weak = refused_after_prompts(staffed, 2, "user", "set-password", "ct.alvarez",
                                 stdin="short\nshort\n")  # fmt: skip
    assert "password: at least 12 characters" in weak
    mine = refused_after_prompts(staffed, 2, "user", "set-password", "ct.alvarez",
                                 stdin="ct.alvarez-2018-pw\nct.alvarez-2018-pw\n")  # fmt: skip
    assert "must not contain the username" in mine
    phrase = "a long enough phrase\n"
    system = refused_after_prompts(staffed, 2, "user", "set-password", "cad", stdin=phrase * 2)
    assert "has no password" in system
    # An unknown user is named before any password is asked for.
    assert "no user named 'chief.x'" in staffed.refused(2, "user", "set-password", "chief.x")
    assert "no user named 'chief.x'" in staffed.refused(2, "user", "unlock", "chief.x")
    last = staffed.refused(1, "user", "deactivate", "admin.kim")
    assert "last active administrator" in last
    assert staffed.ledger_size() == 0


def test_the_person_may_set_their_own_password_at_the_console(staffed: Cli) -> None:
    staffed.ok("user", "set-password", "admin.kim", "--no-change-required",
               stdin="first administrator phrase\nfirst administrator phrase\n")  # fmt: skip
    [(_stored, must_change)] = staffed.sql(
        "SELECT password_hash, password_must_change FROM users WHERE username = 'admin.kim'"
    )
    assert not must_change
