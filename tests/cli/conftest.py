"""The CLI as an operator runs it: a data folder, a database (SQLite and PostgreSQL), people."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.pool import NullPool

from assistgate.cli import main
from assistgate.demo.wav import tone_wav

PEOPLE = [
    ("ct.alvarez", "call_taker", "Call taker R. Alvarez (fictional)"),
    ("lt.okafor", "commander", "Lt. J. Okafor (fictional)"),
    ("lt.brandt", "commander", "Lt. S. Brandt (fictional)"),
    ("maj.chen", "commander", "Maj. L. Chen (fictional)"),
    ("cad", "dispatch_system", "CAD interface"),
]
# 09:41 in Louisville (EST) on 6 March 2018.
RECEIVED = "2018-03-06T09:41:00-05:00"
WARRANT_FACTS = {
    "warrant": {
        "kind": "judicial_criminal",
        "verified": True,
        "description": "Jefferson Circuit Court bench warrant, theft",
    }
}
OUTCOME: dict[str, Any] = {
    "officer_actions": ["serve_criminal_warrant"],
    "police_arrests": [{"offense_category": "theft"}],
    "agency_arrests": 0,
    "immigration_status_asked": False,
    "summary": "Warrant served at the door by LMPD; agents stayed at the street.",
}
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@dataclass
class Cli:
    """Runs `assistgate` against one data folder and one database, and looks inside them."""

    data_dir: Path
    database_url: str
    work: Path
    env: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {
            "ASSISTGATE_DATA_DIR": str(self.data_dir),
            "ASSISTGATE_DATABASE_URL": self.database_url,
            "ASSISTGATE_TIMEZONE": "America/Kentucky/Louisville",
            "ASSISTGATE_ENVIRONMENT": None,
            "ASSISTGATE_PROFILES": None,
            "ASSISTGATE_DEFAULT_PROFILES": None,
            "ASSISTGATE_LEDGER_ORIGIN": None,
        }

    def run(self, *args: str, stdin: str | None = None, **env: str | None) -> Result:
        """Invoke the CLI in this process, as the entry point would."""
        return CliRunner().invoke(main, list(args), input=stdin, env={**self.env, **env})

    def ok(self, *args: str, stdin: str | None = None) -> str:
        """Run a command that must succeed; return its standard output."""
        result = self.run(*args, stdin=stdin)
        assert result.exit_code == 0, (
            f"assistgate {' '.join(args)} exited {result.exit_code}\n{result.stderr}"
            f"\n{result.exception!r}"
        )
        return result.stdout

    def refused(self, code: int, *args: str, stdin: str | None = None) -> str:
        """Run a command that must fail with `code`, print nothing on stdout and one error line."""
        result = self.run(*args, stdin=stdin)
        assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("assistgate: ")
        return lines[0]

    def subprocess(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the installed `assistgate` entry point in a child process."""
        exe = Path(sys.executable).with_name("assistgate")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTGATE_")}
        env.update({k: v for k, v in self.env.items() if v is not None})
        return subprocess.run(
            [str(exe), *args], input=stdin, capture_output=True, text=True, env=env, check=False
        )

    def file(self, name: str, content: Any) -> str:
        """Write `content` (JSON unless text) to a file in the work folder; return its path."""
        path = self.work / name
        path.write_text(
            content if isinstance(content, str) else json.dumps(content), encoding="utf-8"
        )
        return str(path)

    def sql(self, statement: str, **params: Any) -> Any:
        """Run one SQL statement directly on the database, as someone bypassing the app."""
        engine = sa.create_engine(self.database_url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(statement), params)
                return result.all() if result.returns_rows else None
        finally:
            engine.dispose()

    def ledger_size(self) -> int:
        return int(self.sql("SELECT count(*) FROM ledger_entries")[0][0])

    @property
    def public_key(self) -> str:
        return str(self.data_dir / "keys" / "ledger-ed25519.pub.pem")

    def create(self, *extra: str, by: str = "ct.alvarez") -> str:
        """Register a realistic request through the CLI; return its reference."""
        return self.ok(
            "request",
            "create",
            "--as",
            by,
            "--agency",
            "ice-ero",
            "--official",
            "Deportation Officer K. Marsh (fictional)",
            "--badge",
            "ERO Louisville sub-office",
            "--callback",
            "502-555-0142",
            "--identity-check",
            "callback_known_number",
            "--location",
            "1234 S 4th St",
            "--district",
            "4",
            "--words",
            "Agents ask for a unit to serve a circuit court "
            "warrant and to knock on the door with them.",
            "--action",
            "serve_criminal_warrant",
            "--action",
            "knock_and_talk",
            "--received-at",
            RECEIVED,
            *extra,
        ).strip()

    def dispatched(self) -> str:
        """Take a new request as far as units dispatched; return its reference."""
        ref = self.create()
        self.ok("request", "claim", ref, "--as", "lt.okafor")
        self.ok(
            "request",
            "decide",
            ref,
            "--as",
            "lt.okafor",
            "--facts",
            self.file("facts.json", WARRANT_FACTS),
            "--approve",
            "serve_criminal_warrant",
        )
        self.ok("request", "dispatch", ref, "--as", "cad", "--unit", "4A21")
        return ref


def call_wav(cli: Cli) -> str:
    """Write a short real recording (a WAV) into the work folder; return its path."""
    path = cli.work / "okafor-call.wav"
    path.write_bytes(tone_wav(1.5, 440))
    return str(path)


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    """A fresh deployment: no key, no users, an empty database."""
    work = tmp_path / "work"
    work.mkdir()
    return Cli(data_dir=tmp_path / "data", database_url=database_url, work=work)


@pytest.fixture
def staffed(cli: Cli) -> Cli:
    """A deployment with its signing key and the people of a shift."""
    cli.ok("keys", "init")
    for username, role, name in PEOPLE:
        cli.ok("user", "add", username, "--role", role, "--name", name)
    return cli
