"""The migrations build the schema the models describe, from empty and from every revision."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from assistgate.db.migrate import alembic_config, current_revision, head_revision, upgrade
from assistgate.db.models import Base
from assistgate.db.session import make_engine


def test_an_empty_database_is_migrated_to_the_models_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            head = conn.execute(text("SELECT id, size FROM ledger_head")).all()
        assert diff == [], f"models and migrations disagree: {diff}"
        assert head == [(1, 0)]
        assert set(inspect(engine).get_table_names()) >= {
            "users", "requests", "decisions", "ledger_entries", "ledger_head",
            "ledger_checkpoints"}  # fmt: skip
    finally:
        engine.dispose()


def test_every_earlier_revision_upgrades_to_the_newest(database_url: str) -> None:
    revisions = [r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    for start in reversed(revisions):
        engine = make_engine(database_url)
        try:
            with engine.begin() as conn:
                for table in ("ledger_checkpoints", "ledger_head", "ledger_entries", "decisions",
                              "requests", "users", "alembic_version"):  # fmt: skip
                    conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            upgrade(engine, start)
            assert current_revision(engine) == start
            upgrade(engine)
            assert current_revision(engine) == head_revision()
        finally:
            engine.dispose()


def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM ledger_head")).scalar_one() == 1
    finally:
        engine.dispose()
