"""The settings reference (docs/SETTINGS.md) cannot drift from the code, and the settings file.

docs/SETTINGS.md is generated from `assistgate.settings.REFERENCE`; regenerate it with
    .venv/bin/python -m tests.operations.test_settings --write-docs
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from assistgate.settings import REFERENCE, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "SETTINGS.md"
SOURCE = ROOT / "src" / "assistgate"


def render() -> str:
    """Return docs/SETTINGS.md as generated from the reference table."""
    lines = [
        "# Settings",
        "",
        "Every setting of assistgate, generated from `src/assistgate/settings.py` (`REFERENCE`)",
        "by `.venv/bin/python -m tests.operations.test_settings --write-docs`; a test fails if",
        "this page and the code disagree. Each is an environment variable; all but",
        "`ASSISTGATE_CONFIG` may also be written in a TOML settings file named by",
        "`ASSISTGATE_CONFIG`, under the name without `ASSISTGATE_`, in lower case. A variable",
        "set in the environment wins over the file. Every value is checked when a command",
        "starts; a bad one stops it with exit code 2 and a message naming the variable (and",
        "the file, when the value came from it).",
        "",
        "```toml",
        "# /etc/assistgate/assistgate.toml (mode 0640, owner root, group assistgate)",
        'environment = "production"',
        'data_dir = "/var/lib/assistgate"',
        'database_url = "postgresql+psycopg://assistgate@/assistgate?host=/run/postgresql"',
        'profiles = ["louisville-lmpd-2017", "louisville-ordinance-2017"]',
        "escalate_after_seconds = 120",
        "```",
        "",
        "| variable | file key | meaning | default | allowed values |",
        "|---|---|---|---|---|",
    ]
    for v in REFERENCE:
        key = f"`{v.name.removeprefix('ASSISTGATE_').lower()}`" if v.file else "(environment only)"
        cells = [f"`{v.name}`", key, v.meaning, v.default, v.allowed]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", "What production refuses at start, and why, is in "
              "[OPERATIONS.md](OPERATIONS.md#what-production-refuses-at-start).", ""]  # fmt: skip
    return "\n".join(lines)


def test_every_variable_the_code_reads_is_in_the_reference_and_no_other() -> None:
    read = set()
    for path in SOURCE.rglob("*.py"):
        read |= set(re.findall(r"\bASSISTGATE_[A-Z_]+[A-Z]\b", path.read_text(encoding="utf-8")))
    documented = {v.name for v in REFERENCE}
    assert read - documented == set(), "read by the code but not in settings.REFERENCE"
    assert documented - read == set(), "in settings.REFERENCE but read nowhere"


def test_the_reference_states_the_defaults_the_code_uses() -> None:
    default = Settings.from_env({"XDG_DATA_HOME": "/home/op/.local/share"})
    by_name = {v.name: v for v in REFERENCE}
    assert by_name["ASSISTGATE_ENVIRONMENT"].default == default.environment
    assert by_name["ASSISTGATE_TIMEZONE"].default == default.timezone
    assert by_name["ASSISTGATE_LEDGER_ORIGIN"].default == default.ledger_origin
    assert by_name["ASSISTGATE_PROFILES"].default == ",".join(default.profiles)
    assert by_name["ASSISTGATE_DEFAULT_PROFILES"].default == ",".join(default.default_profiles)
    assert by_name["ASSISTGATE_ESCALATE_AFTER_SECONDS"].default == str(
        default.escalate_after_seconds
    )
    assert by_name["ASSISTGATE_COMMAND_STAFF_CONTACT"].default == default.command_staff_contact
    assert by_name["ASSISTGATE_RECORDING_RETENTION_DAYS"].default.startswith(
        str(default.recording_retention_days)
    )
    assert by_name["ASSISTGATE_LOG_LEVEL"].default == default.log_level
    assert default.data_dir == Path("/home/op/.local/share/assistgate")
    assert default.database_url == "sqlite:////home/op/.local/share/assistgate/assistgate.db"


def test_docs_settings_is_the_generated_reference() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/SETTINGS.md is out of date: run "
        ".venv/bin/python -m tests.operations.test_settings --write-docs"
    )


# --- The settings file ------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "assistgate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_file_sets_values_and_the_environment_wins_over_it(tmp_path: Path) -> None:
    path = write(tmp_path, 'environment = "demo"\nprofiles = ["louisville-lmpd-2017"]\n'
                 f'data_dir = "{tmp_path}"\nescalate_after_seconds = 300\n')  # fmt: skip
    settings = Settings.from_env({"ASSISTGATE_CONFIG": str(path),
                                  "ASSISTGATE_ESCALATE_AFTER_SECONDS": "45"})  # fmt: skip
    assert settings.environment == "demo"
    assert settings.profiles == ("louisville-lmpd-2017",)
    assert settings.data_dir == tmp_path
    assert settings.escalate_after_seconds == 45
    assert settings.config_file == path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("databse_url = 'x'\n", "unknown setting 'databse_url'"),
        ("config = 'other.toml'\n", "unknown setting 'config'"),
        ("Environment = 'demo'\n", "unknown setting 'Environment'"),
        ("escalate_after_seconds = 0\n",
         "escalate_after_seconds (ASSISTGATE_ESCALATE_AFTER_SECONDS: expected a whole number"),
        ("environment = 'staging'\n", "environment (ASSISTGATE_ENVIRONMENT: expected one of"),
        ("log_level = 'loud'\n", "log_level (ASSISTGATE_LOG_LEVEL: expected one of"),
        ("environment = true\n", "environment: expected a string, a whole number or a list"),
        ("profiles = [1, 2]\n", "profiles: expected a list of strings"),
        ("environment = \n", "is not valid TOML"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_naming_the_file_and_the_setting(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"ASSISTGATE_CONFIG": str(path)})
    assert str(path) in str(refused.value)
    assert message in str(refused.value)


def test_a_missing_file_is_refused_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^ASSISTGATE_CONFIG: .*nowhere.toml: no such file"):
        Settings.from_env({"ASSISTGATE_CONFIG": str(tmp_path / "nowhere.toml")})


def test_a_bad_environment_value_is_named_as_the_variable_not_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "escalate_after_seconds = 60\n")
    with pytest.raises(SettingsError, match=r"^ASSISTGATE_ESCALATE_AFTER_SECONDS: expected"):
        Settings.from_env({"ASSISTGATE_CONFIG": str(path),
                           "ASSISTGATE_ESCALATE_AFTER_SECONDS": "soon"})  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-docs"]:
        DOCS.write_text(render(), encoding="utf-8")
        print(f"wrote {DOCS}")
    else:
        print("usage: python -m tests.operations.test_settings --write-docs", file=sys.stderr)
        sys.exit(2)
