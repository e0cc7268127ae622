"""Both database backends the product supports really run in the tests: SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.pool import NullPool

LOUISVILLE = ZoneInfo("America/Kentucky/Louisville")
# 22 September 2017, 14:30:05.123456 in Louisville (EDT, UTC-4).
RECEIVED_AT = dt.datetime(2017, 9, 22, 14, 30, 5, 123456, tzinfo=LOUISVILLE)
NOTE = "Solicitud de asistencia — ICE/ERO · «Zoë» · 警察 · ✓ 🚓"


class AwareDateTime(sa.TypeDecorator[dt.datetime]):
    """A timestamp that is stored in UTC and always comes back timezone-aware.

    PostgreSQL's ``timestamptz`` keeps the instant by itself; SQLite has no timestamp type, and
    SQLAlchemy's plain ``DateTime(timezone=True)`` there drops the offset (see the last test).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: give it a timezone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def test_a_row_with_an_aware_timestamp_and_unicode_text_round_trips(database_url: str) -> None:
    metadata = sa.MetaData()
    requests = sa.Table(
        "probe_requests",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("received_at", AwareDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    engine = sa.create_engine(database_url, poolclass=NullPool)
    try:
        assert sa.inspect(engine).get_table_names() == [], "the database is not fresh"
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(
                requests.insert(), {"id": 1, "received_at": RECEIVED_AT, "note": NOTE}
            )
        with engine.connect() as connection:
            row = connection.execute(sa.select(requests.c.received_at, requests.c.note)).one()
    finally:
        engine.dispose()

    received_at, note = row
    assert note == NOTE
    assert received_at == RECEIVED_AT  # the same instant
    assert received_at.utcoffset() == dt.timedelta(0)
    assert received_at.replace(tzinfo=None) == dt.datetime(2017, 9, 22, 18, 30, 5, 123456)


def test_postgresql_is_a_real_server_reached_over_tcp_on_loopback(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            assert connection.dialect.name == "postgresql"
            assert connection.dialect.driver == "psycopg"
            version_num = int(connection.execute(sa.text("SHOW server_version_num")).scalar_one())
            # inet_server_addr() is NULL over a Unix socket: an address proves TCP.
            address, port = connection.execute(
                sa.text("SELECT host(inet_server_addr()), inet_server_port()")
            ).one()
            fsync = connection.execute(sa.text("SHOW fsync")).scalar_one()
            encoding = connection.execute(sa.text("SHOW server_encoding")).scalar_one()
    finally:
        engine.dispose()

    assert version_num >= 130000, f"PostgreSQL {version_num} is older than 13"
    assert address == "127.0.0.1"
    assert port == make_url(postgres_url).port
    assert fsync == "on", "the test server must keep fsync on: tests check durability"
    assert encoding == "UTF8"


def test_plain_timezone_datetime_loses_the_offset_on_sqlite(tmp_path: Path) -> None:
    """Why AwareDateTime exists: on SQLite the plain type hands back a naive wall-clock time."""
    metadata = sa.MetaData()
    table = sa.Table(
        "plain",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'plain.sqlite3'}", poolclass=NullPool)
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(table.insert(), {"id": 1, "at": RECEIVED_AT})
        with engine.connect() as connection:
            at = connection.execute(sa.select(table.c.at)).scalar_one()
    finally:
        engine.dispose()

    assert at.tzinfo is None
    assert at == RECEIVED_AT.replace(tzinfo=None)
