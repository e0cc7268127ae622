"""Live updates for the commanders' queue: every committed change of a request, pushed to every
open queue within a second, and the intake alert sent through the notifier.

How a change travels:

1. A session hook (installed on the app's session factory while the web service runs) notes
   every request the session adds or changes, at each flush.
2. On SQLite (one server process), once the transaction commits, the change is published to
   this process's `Broker`. On PostgreSQL, the flush also runs `pg_notify` in the same
   transaction: PostgreSQL delivers the notification only if, and when, the transaction
   commits, to every process that LISTENs (a `PostgresListener` thread in each one), so an
   intake on one server process reaches a queue open on another.
3. The broker hands the change to every open `/queue/events` stream (server-sent events); the
   page's script then fetches the queue's rows again.

The intake alert goes out from the process that committed the new request, after the commit,
on a worker thread, so that a slow pager gateway never delays the call taker's screen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from assistgate.app import App
from assistgate.integrations.notifier import Notifier, notifier_from_settings
from assistgate.requests.escalation import alert_new
from assistgate.requests.models import Request

log = logging.getLogger("assistgate.live")

CHANNEL = "assistgate_queue"
_CHANGES = "assistgate.live.changes"


@dataclass(frozen=True)
class Change:
    """A request that was added or changed: enough for a queue to know it must refresh."""

    ref: str
    state: str
    new: bool
    level: int

    def to_json(self) -> str:
        return json.dumps(
            {"ref": self.ref, "state": self.state, "new": self.new, "level": self.level}
        )

    @classmethod
    def from_json(cls, payload: str) -> Change:
        obj = json.loads(payload)
        return cls(str(obj["ref"]), str(obj["state"]), bool(obj["new"]), int(obj["level"]))


class Closed(Exception):
    """The broker was closed: the service is stopping."""


class Subscription:
    """One open stream's queue of changes, on the event loop that reads it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        # Any change makes the page fetch the whole queue, so a full buffer loses nothing.
        self.changes: asyncio.Queue[Change | None] = asyncio.Queue(maxsize=64)

    def _put(self, change: Change | None) -> None:
        try:
            self.changes.put_nowait(change)
        except asyncio.QueueFull:
            if change is None:  # closing must get through
                self.changes.get_nowait()
                self.changes.put_nowait(None)

    async def next(self, timeout: float) -> Change | None:
        """Return the next change, or None if there was none within `timeout` seconds."""
        try:
            change = await asyncio.wait_for(self.changes.get(), timeout)
        except TimeoutError:
            return None
        if change is None:
            raise Closed
        return change


class Broker:
    """Fan changes out to every open stream of this process; thread-safe."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()
        self.closed = False

    def subscribe(self) -> Subscription:
        """Open a subscription on the running event loop."""
        subscription = Subscription(asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def publish(self, change: Change | None) -> None:
        """Hand `change` to every subscription (None closes them); callable from any thread."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            try:
                subscription.loop.call_soon_threadsafe(subscription._put, change)
            except RuntimeError:  # its event loop is gone
                self.unsubscribe(subscription)

    def close(self) -> None:
        self.closed = True
        self.publish(None)


def changes_in_flush(session: Session) -> list[Change]:
    """Return the requests this flush adds or changes (called from `after_flush`)."""
    found = []
    for obj in session.new:
        if isinstance(obj, Request):
            found.append(Change(obj.ref, obj.state, True, obj.escalation_level))
    for obj in session.dirty:
        if isinstance(obj, Request) and session.is_modified(obj):
            found.append(Change(obj.ref, obj.state, False, obj.escalation_level))
    return found


class SessionHooks:
    """Collect the changed requests of each transaction; hand them over once it commits."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        on_commit: Callable[[list[Change]], None],
        notify_postgres: bool,
    ) -> None:
        self.sessions, self.on_commit, self.notify_postgres = sessions, on_commit, notify_postgres

    def after_flush(self, session: Session, _context: Any) -> None:
        changes = changes_in_flush(session)
        if not changes:
            return
        collected: dict[str, Change] = session.info.setdefault(_CHANGES, {})
        for change in changes:
            earlier = collected.get(change.ref)
            new = change.new or (earlier is not None and earlier.new)
            collected[change.ref] = Change(change.ref, change.state, new, change.level)
        if self.notify_postgres:
            # Delivered by PostgreSQL at commit, to every listening process, or never.
            connection = session.connection()
            for change in changes:
                connection.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {"channel": CHANNEL, "payload": change.to_json()},
                )

    def after_commit(self, session: Session) -> None:
        if session.in_nested_transaction():  # a savepoint released: nothing is committed yet
            return
        collected: dict[str, Change] = session.info.pop(_CHANGES, {})
        if collected:
            try:
                self.on_commit(list(collected.values()))
            except Exception:  # the commit happened; a failed update must not look like an error
                log.exception("handing over committed request changes failed")

    def after_transaction_end(self, session: Session, transaction: Any) -> None:
        if transaction.parent is None:  # rolled back (a commit already took them)
            session.info.pop(_CHANGES, None)

    def install(self) -> SessionHooks:
        event.listen(self.sessions, "after_flush", self.after_flush)
        event.listen(self.sessions, "after_commit", self.after_commit)
        event.listen(self.sessions, "after_transaction_end", self.after_transaction_end)
        return self

    def remove(self) -> None:
        event.remove(self.sessions, "after_flush", self.after_flush)
        event.remove(self.sessions, "after_commit", self.after_commit)
        event.remove(self.sessions, "after_transaction_end", self.after_transaction_end)


class PostgresListener:
    """LISTEN for changes committed by any server process and publish them to the broker."""

    def __init__(self, database_url: str, broker: Broker) -> None:
        self.conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(False)
        self.broker = broker
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="assistgate-listen", daemon=True)

    def start(self, timeout: float = 10.0) -> PostgresListener:
        """Start listening; return once the LISTEN is in place (or the timeout passed)."""
        self._thread.start()
        if not self._ready.wait(timeout):
            log.error("could not LISTEN on PostgreSQL within %.0f s; retrying", timeout)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    while not self._stop.is_set():
                        for note in connection.notifies(timeout=0.5):
                            self.broker.publish(Change.from_json(note.payload))
            except psycopg.OperationalError as exc:  # the server restarting: no traceback
                log.warning("lost the PostgreSQL LISTEN connection (%s); reconnecting",
                            " ".join(str(exc).split())[:200])  # fmt: skip
                self._stop.wait(1.0)
            except Exception:
                log.exception("lost the PostgreSQL LISTEN connection; reconnecting")
                self._stop.wait(1.0)


class IntakeAlerter:
    """Send the intake alert of each new request on a worker thread, after its commit."""

    def __init__(self, app: App, notifier: Notifier) -> None:
        self.app, self.notifier = app, notifier
        self._refs: queue.Queue[list[str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="assistgate-alerts", daemon=True)

    def submit(self, changes: list[Change]) -> None:
        refs = [c.ref for c in changes if c.new]
        if refs:
            self._refs.put(refs)

    def _run(self) -> None:
        while (refs := self._refs.get()) is not None:
            try:
                with self.app.sessions() as session:
                    alert_new(
                        session,
                        refs,
                        notifier=self.notifier,
                        command_staff=self.app.settings.command_staff_contact,
                    )
            except Exception:  # the escalation timer still covers this request
                log.exception("the intake alert for %s failed", ", ".join(refs))

    def start(self) -> IntakeAlerter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._refs.put(None)
        self._thread.join(timeout=10)


def broker_of(web: Any) -> Broker | None:
    """Return the web service's broker (None until the service has started)."""
    broker: Broker | None = getattr(web.state, "live_broker", None)
    return broker


@asynccontextmanager
async def lifespan(web: FastAPI) -> AsyncIterator[None]:
    """Start the broker, the hooks, the listener and the alerter; stop them at shutdown.

    A notifier set on `web.state.notifier` before start-up is used (tests set a fake);
    otherwise the one the settings name.
    """
    app: App = web.state.assistgate
    notifier: Notifier = getattr(web.state, "notifier", None) or notifier_from_settings(
        app.settings
    )
    web.state.notifier = notifier
    broker = Broker()
    postgres = app.engine.dialect.name == "postgresql"
    listener = PostgresListener(app.settings.database_url, broker).start() if postgres else None
    alerter = IntakeAlerter(app, notifier).start()

    def on_commit(changes: list[Change]) -> None:
        if not postgres:  # on PostgreSQL the listener publishes, for every process alike
            for change in changes:
                broker.publish(change)
        alerter.submit(changes)

    hooks = SessionHooks(app.sessions, on_commit=on_commit, notify_postgres=postgres).install()
    web.state.live_broker = broker
    try:
        yield
    finally:
        hooks.remove()
        broker.close()
        if listener is not None:
            await asyncio.to_thread(listener.stop)
        await asyncio.to_thread(alerter.stop)
