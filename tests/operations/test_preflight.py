"""A long-running process refuses to start in production with a default, missing or exposed
secret, or a database it cannot reach: exit code 2 and one line naming what to fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from assistgate.cli import main
from assistgate.ledger.keys import FileKeyStore
from assistgate.operations.preflight import StartRefused, check_production
from assistgate.settings import Settings

GOOD_URL = "postgresql+psycopg://assistgate:Zq8-long-random-Xv3@127.0.0.1:9/assistgate"


def start(tmp_path: Path, *args: str, **env: str) -> Result:
    """Run `assistgate serve` (or `args`) with only the given settings."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ASSISTGATE_")}
    settings = {"ASSISTGATE_DATA_DIR": str(tmp_path / "data"), **env}
    return CliRunner().invoke(main, list(args or ["serve"]), env={**clean, **settings})


def with_keys(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    FileKeyStore(data / "keys").init()
    return data


def refused(result: Result, *expected: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    line = result.stderr.strip()
    assert line.startswith("assistgate: "), line
    assert len(line.splitlines()) == 1, line
    for part in expected:
        assert part in line, line
    return line


def test_production_refuses_the_default_sqlite_database(tmp_path: Path) -> None:
    with_keys(tmp_path)
    refused(start(tmp_path, ASSISTGATE_ENVIRONMENT="production"),
            "refusing to start in production", "ASSISTGATE_DATABASE_URL",
            "production runs on PostgreSQL, not sqlite")  # fmt: skip


@pytest.mark.parametrize("password", ["postgres", "changeme", "assistgate", "Password"])
def test_production_refuses_a_well_known_database_password_without_printing_it(
    tmp_path: Path, password: str
) -> None:
    with_keys(tmp_path)
    url = f"postgresql+psycopg://dbuser:{password}@127.0.0.1:5432/assistgate"
    line = refused(start(tmp_path, ASSISTGATE_ENVIRONMENT="production",
                         ASSISTGATE_DATABASE_URL=url),
                   "ASSISTGATE_DATABASE_URL", "well-known default")  # fmt: skip
    assert f":{password}@" not in line
    assert password not in line.removeprefix("assistgate: ")


def test_production_refuses_a_database_password_that_is_the_user_name(tmp_path: Path) -> None:
    with_keys(tmp_path)
    url = "postgresql+psycopg://lmpd_ag:lmpd_ag@127.0.0.1:5432/assistgate"
    refused(start(tmp_path, ASSISTGATE_ENVIRONMENT="production", ASSISTGATE_DATABASE_URL=url),
            "well-known default")  # fmt: skip


def test_production_refuses_a_missing_signing_key(tmp_path: Path) -> None:
    refused(start(tmp_path, ASSISTGATE_ENVIRONMENT="production",
                  ASSISTGATE_DATABASE_URL=GOOD_URL),
            "the ledger's signing key is missing", "assistgate keys init")  # fmt: skip


def test_production_refuses_a_signing_key_others_can_read(tmp_path: Path) -> None:
    data = with_keys(tmp_path)
    (data / "keys" / "ledger-ed25519.pem").chmod(0o644)
    refused(start(tmp_path, ASSISTGATE_ENVIRONMENT="production",
                  ASSISTGATE_DATABASE_URL=GOOD_URL),
            "ledger-ed25519.pem: mode 0644, expected 0600")  # fmt: skip


def test_production_refuses_a_key_folder_others_can_open(tmp_path: Path) -> None:
    data = with_keys(tmp_path)
    (data / "keys").chmod(0o755)
    refused(start(tmp_path, ASSISTGATE_ENVIRONMENT="production",
                  ASSISTGATE_DATABASE_URL=GOOD_URL),
            "mode 0755", "chmod 700")  # fmt: skip


def test_production_refuses_a_recordings_key_others_can_read(tmp_path: Path) -> None:
    data = with_keys(tmp_path)
    (data / "keys" / "recordings-aes256.key").write_text("cd" * 32 + "\n")
    (data / "keys" / "recordings-aes256.key").chmod(0o640)
    refused(start(tmp_path, ASSISTGATE_ENVIRONMENT="production",
                  ASSISTGATE_DATABASE_URL=GOOD_URL),
            "the recordings' key cannot be used", "mode 0640")  # fmt: skip


def test_production_refuses_keys_inside_a_source_checkout(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    with_keys(tmp_path)
    refused(start(tmp_path, ASSISTGATE_ENVIRONMENT="production",
                  ASSISTGATE_DATABASE_URL=GOOD_URL),
            "ASSISTGATE_DATA_DIR", "inside the source checkout")  # fmt: skip


def test_production_refuses_a_settings_file_anyone_may_read_with_the_password(
    tmp_path: Path,
) -> None:
    with_keys(tmp_path)
    config = tmp_path / "assistgate.toml"
    config.write_text(f'environment = "production"\ndatabase_url = "{GOOD_URL}"\n')
    config.chmod(0o644)
    line = refused(start(tmp_path, ASSISTGATE_CONFIG=str(config)),
                   "ASSISTGATE_CONFIG", "holds the database password", "chmod 640")  # fmt: skip
    assert "Zq8-long-random-Xv3" not in line


def test_the_workers_refuse_as_the_web_service_does(tmp_path: Path) -> None:
    folder = tmp_path / "recorder"
    folder.mkdir()
    for args in (["outbox", "deliver"], ["recordings", "watch", str(folder), "--as", "cad"]):
        refused(start(tmp_path, *args, ASSISTGATE_ENVIRONMENT="production"),
                "ASSISTGATE_DATABASE_URL")  # fmt: skip


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    line = refused(start(tmp_path, ASSISTGATE_DATABASE_URL=GOOD_URL),
                   "cannot open the database", "127.0.0.1:9/assistgate",
                   "check ASSISTGATE_DATABASE_URL")  # fmt: skip
    assert "Zq8-long-random-Xv3" not in line


def test_a_sound_production_installation_passes_and_development_is_not_checked(
    tmp_path: Path,
) -> None:
    data = with_keys(tmp_path)
    check_production(Settings(environment="production", data_dir=data, database_url=GOOD_URL))
    open_sqlite = Settings(environment="development", data_dir=tmp_path / "empty",
                           database_url="sqlite:///x.db")  # fmt: skip
    check_production(open_sqlite)
    with pytest.raises(StartRefused):
        check_production(Settings(environment="production", data_dir=tmp_path / "empty",
                                  database_url="sqlite:///x.db"))  # fmt: skip
