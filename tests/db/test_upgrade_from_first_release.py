"""A register made by the first released schema (0001) upgrades to today's with nothing lost.

The fixture in `fixtures/rev0001/` was made by the code of that revision, not by today's (see
`fixtures/make_rev0001.py`): five requests (approved and cleared with a recording hash,
declined, cancelled, under review, awaiting review), their ledger, and its public key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.cli.conftest import Cli

FIXTURE = Path(__file__).with_name("fixtures") / "rev0001"
REFS = ["AG-2018-0001", "AG-2018-0002", "AG-2018-0003", "AG-2018-0004", "AG-2018-0005"]
STATES = ["cleared", "awaiting_review", "declined", "cancelled", "under_review"]


def _load_first_release(database_url: str, data_dir: Path) -> None:
    """Put the fixture's database where `database_url` points, and its public key in place."""
    (data_dir / "keys").mkdir(parents=True)
    shutil.copy(FIXTURE / "keys" / "ledger-ed25519.pub.pem", data_dir / "keys")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        shutil.copy(FIXTURE / "assistgate.db", str(url.database))
        return
    engine = sa.create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            cursor = raw.cursor()  # a plain pg_dump script: many statements in one execute
            cursor.execute((FIXTURE / "assistgate.pg.sql").read_text(encoding="utf-8"))
            cursor.close()
            raw.commit()
    finally:
        engine.dispose()


def test_a_first_release_register_upgrades_and_every_ledger_entry_still_verifies(
    database_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _load_first_release(database_url, data_dir)
    cli = Cli(data_dir, database_url, tmp_path)

    assert cli.sql("SELECT version_num FROM alembic_version") == [("0001",)]
    entries_before = cli.ledger_size()
    assert entries_before > 0

    upgraded = cli.ok("db", "upgrade")
    assert "upgraded from revision 0001 to" in upgraded

    verified = cli.ok("ledger", "verify")
    assert f"ledger OK: {entries_before}" in verified, "the upgrade wrote to the ledger"
    assert "5 request(s)" in verified

    listed = json.loads(cli.ok("request", "list", "--json"))
    assert sorted((r["ref"], r["state"]) for r in listed) == sorted(zip(REFS, STATES, strict=True))
    shown = cli.ok("request", "show", REFS[0])
    assert "cleared" in shown
    assert "ab" * 32 in shown, "the recording hash attached under 0001 is kept"
