"""The demo's accounts: a password for every person, a second factor for the roles that need
one, `demo code` for its current code, and no such account anywhere but in a demo folder."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner, Result

from assistgate.app import open_app
from assistgate.auth.enums import NEEDS_SECOND_FACTOR, Role
from assistgate.auth.models import User
from assistgate.auth.security import check_password
from assistgate.cli import main
from assistgate.cli.demo import DEMO_PASSWORD, demo_settings, give_demo_credentials
from assistgate.demo.history import PEOPLE
from assistgate.ledger.keys import MemoryKeyStore
from assistgate.settings import Settings

CLEAN_ENV: dict[str, str | None] = {
    "ASSISTGATE_DATA_DIR": None, "ASSISTGATE_DATABASE_URL": None,
    "ASSISTGATE_ENVIRONMENT": None, "ASSISTGATE_PROFILES": None,
    "ASSISTGATE_DEFAULT_PROFILES": None, "ASSISTGATE_LEDGER_ORIGIN": None,
}  # fmt: skip


def run(*args: str, **env: str | None) -> Result:
    return CliRunner().invoke(main, list(args), env={**CLEAN_ENV, **env})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """One demo, built once for the module (it takes a few seconds)."""
    folder = tmp_path_factory.mktemp("demo") / "var-demo"
    return folder, run("demo", "--data-dir", str(folder))


def test_the_demo_prints_how_to_sign_in_as_each_role(built: tuple[Path, Result]) -> None:
    folder, result = built
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Demo sign-ins (every demo password: {DEMO_PASSWORD}):" in out
    for role, username in (("call taker", "ct.alvarez"), ("commander", "lt.okafor"),
                           ("auditor", "ig.rowe"), ("administrator", "admin.kim")):  # fmt: skip
        assert re.search(rf"{role}\s+{re.escape(username)}\s+password {DEMO_PASSWORD}", out)
    assert "demo code lt.okafor" in out
    assert "call taker     ct.alvarez  password assistgate-demo   no second factor" in out
    settings = (folder / "demo.env").read_text()
    assert "ASSISTGATE_ENVIRONMENT=demo" in settings
    assert f"ASSISTGATE_DATA_DIR={folder.resolve()}" in settings


def test_every_demo_person_has_the_demo_password_and_the_second_factor_their_role_needs(
    built: tuple[Path, Result],
) -> None:
    folder, _ = built
    app = open_app(demo_settings(folder.resolve()), migrate=False)
    try:
        with app.sessions() as session:
            for username, _name, role, _ext in PEOPLE:
                person = session.query(User).filter_by(username=username).one()
                if role == Role.DISPATCH_SYSTEM:
                    assert person.password_hash is None, username
                    continue
                assert check_password(person.password_hash, DEMO_PASSWORD), username
                needs = role in NEEDS_SECOND_FACTOR
                assert (person.totp_enrolled_at is not None) is needs, username
                assert bool(person.totp_secret) is needs, username
    finally:
        app.close()


def test_demo_code_prints_the_current_code_of_a_demo_account(built: tuple[Path, Result]) -> None:
    folder, _ = built
    result = run("demo", "code", "lt.okafor", "--data-dir", str(folder))
    assert result.exit_code == 0, result.stderr
    code = result.stdout.strip()
    assert re.fullmatch(r"[0-9]{6}", code)
    app = open_app(demo_settings(folder.resolve()), migrate=False)
    try:
        with app.sessions() as session:
            secret = session.query(User).filter_by(username="lt.okafor").one().totp_secret
    finally:
        app.close()
    assert secret
    assert pyotp.TOTP(secret).verify(code, valid_window=1)
    # ASSISTGATE_DATA_DIR names the demo when --data-dir is left out (as after run.sh).
    assert run("demo", "code", "ig.rowe", ASSISTGATE_DATA_DIR=str(folder)).exit_code == 0
    plain = run("demo", "code", "ct.alvarez", "--data-dir", str(folder))
    assert plain.exit_code == 2
    assert "no second factor" in plain.stderr
    nobody = run("demo", "code", "chief.x", "--data-dir", str(folder))
    assert nobody.exit_code == 2


def test_demo_code_refuses_anything_but_demo_data(
    built: tuple[Path, Result], tmp_path: Path
) -> None:
    folder, _ = built
    real = tmp_path / "deployment"
    real.mkdir()
    refused = run("demo", "code", "lt.okafor", "--data-dir", str(real))
    assert refused.exit_code == 1
    assert "is not a demo folder" in refused.stderr
    assert refused.stdout == ""
    production = run("demo", "code", "lt.okafor", "--data-dir", str(folder),
                     ASSISTGATE_ENVIRONMENT="production")  # fmt: skip
    assert production.exit_code == 1
    assert production.stdout == ""


def test_outside_demo_mode_no_account_gets_a_default_password(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}",
                        environment="production")  # fmt: skip
    app = open_app(settings, keys=MemoryKeyStore())
    try:
        with pytest.raises(Exception, match="only ever given in a demo folder"):
            give_demo_credentials(app)
    finally:
        app.close()
    added = run("user", "add", "lt.new", "--role", "commander", "--name", "Lt. New",
                ASSISTGATE_DATA_DIR=str(tmp_path / "cli"))  # fmt: skip
    assert added.exit_code == 0, added.stderr
    app = open_app(Settings(data_dir=tmp_path / "cli",
                            database_url=f"sqlite:///{tmp_path / 'cli' / 'assistgate.db'}"),
                   keys=MemoryKeyStore())  # fmt: skip
    try:
        with app.sessions() as session:
            person = session.query(User).filter_by(username="lt.new").one()
            assert person.password_hash is None
            assert person.totp_secret is None
    finally:
        app.close()
