"""Database engines and sessions: SQLite embedded (WAL, full sync), PostgreSQL in production."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached or opened; the message says which one."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url`; SQLite gets the settings that make a commit durable."""
    parsed = make_url(url)
    # Connections enough for every admitted web request (web/admission.py) and the service's
    # background threads.
    kwargs.setdefault("pool_size", 24)
    if parsed.get_backend_name() == "sqlite":
        factory = _writer_queue_connection(threading.Lock())
        engine = create_engine(url, connect_args={"timeout": 30, "factory": factory}, **kwargs)
        _make_sqlite_durable(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _make_sqlite_durable(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is switched off so that BEGIN IMMEDIATE below
        # takes the write lock at the start: two writers then queue instead of deadlocking.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: the write-ahead log is synced at every commit, so an acknowledged step
        # survives a power cut, not only a crash of the process.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        dbapi_conn = conn.connection.dbapi_connection
        dbapi_conn.take_write_turn()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_conn.end_write_turn()
            raise


# How long a transaction waits for its turn to write, as SQLite's own busy timeout does.
WRITE_TURN_TIMEOUT = 30.0


def _writer_queue_connection(lock: threading.Lock) -> type[sqlite3.Connection]:
    """Return a connection class whose transactions take turns on `lock` within the process.

    SQLite lets one transaction write at a time; the others wait in its busy handler, which
    sleeps in growing steps (up to 100 ms) and then retries. Under load the lock is often free
    while every waiter sleeps, and latency collapses. Waiting on a mutex in the process
    instead hands the turn over at once. Other processes (a CLI command beside the server)
    still meet at SQLite's file lock, as before.
    """

    class WriterQueueConnection(sqlite3.Connection):
        _holds_turn = False

        def take_write_turn(self) -> None:
            if not lock.acquire(timeout=WRITE_TURN_TIMEOUT):
                raise sqlite3.OperationalError(
                    f"database is locked: no turn to write within {WRITE_TURN_TIMEOUT:.0f} s"
                )
            self._holds_turn = True

        def end_write_turn(self) -> None:
            if self._holds_turn:
                self._holds_turn = False
                lock.release()

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self.end_write_turn()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self.end_write_turn()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self.end_write_turn()

    return WriterQueueConnection


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session in one transaction: commit if the block succeeds, roll back if not."""
    with factory() as session, session.begin():
        yield session
