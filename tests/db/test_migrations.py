"""The migrations build the schema the models describe, from empty and from every revision."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, inspect, text

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


def _empty(engine: Engine) -> None:
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)


def test_every_earlier_revision_upgrades_to_the_newest(database_url: str) -> None:
    revisions = [r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    assert len(revisions) >= 2
    engine = make_engine(database_url)
    try:
        for start in reversed(revisions):
            _empty(engine)
            upgrade(engine, start)
            assert current_revision(engine) == start
            upgrade(engine)
            assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_people_of_the_first_schema_keep_their_powers_under_the_new_roles(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            for i, (name, role) in enumerate([
                ("lt.okafor", "commanding_officer"), ("maj.chen", "command_staff"),
                ("admin.kim", "administrator"), ("ct.alvarez", "call_taker"),
                ("ig.rowe", "auditor"), ("cad", "dispatch_system"),
            ]):  # fmt: skip
                conn.execute(
                    text("INSERT INTO users (id, username, display_name, role, active, "
                         "created_at) VALUES (:i, :u, :u, :r, true, '2024-01-01 00:00:00')"),
                    {"i": i + 1, "u": name, "r": role},
                )  # fmt: skip
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT u.username, r.role FROM users u JOIN user_roles r ON r.user_id = u.id"
            )).all()  # fmt: skip
        held: dict[str, set[str]] = {}
        for username, role in rows:
            held.setdefault(username, set()).add(role)
        assert held == {
            "lt.okafor": {"commander"}, "maj.chen": {"commander", "auditor"},
            "admin.kim": {"admin"}, "ct.alvarez": {"call_taker"}, "ig.rowe": {"auditor"},
            "cad": {"dispatch_system"},
        }  # fmt: skip
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


def test_a_password_marked_must_change_in_its_hash_keeps_the_mark_in_its_own_column(
    database_url: str,
) -> None:
    from assistgate.auth.security import check_password, hash_password

    engine = make_engine(database_url)
    reset, chosen = hash_password("handed over in person"), hash_password("a phrase of my own")
    try:
        upgrade(engine, "0002")
        with engine.begin() as conn:
            for i, (name, stored) in enumerate([("ct.osei", "must-change$" + reset),
                                                ("lt.okafor", chosen), ("cad", None)]):  # fmt: skip
                conn.execute(
                    text("INSERT INTO users (id, username, display_name, password_hash, active, "
                         "created_at) VALUES (:i, :u, :u, :h, true, '2024-01-01 00:00:00')"),
                    {"i": i + 1, "u": name, "h": stored},
                )  # fmt: skip
        upgrade(engine)
        with engine.connect() as conn:
            rows = {
                u: (h, bool(m))
                for u, h, m in conn.execute(
                    text("SELECT username, password_hash, password_must_change FROM users")
                )
            }
        assert rows == {
            "ct.osei": (reset, True),
            "lt.okafor": (chosen, False),
            "cad": (None, False),
        }
        assert check_password(rows["ct.osei"][0], "handed over in person")
    finally:
        engine.dispose()
