"""Wiring: from settings to a migrated database, a ledger writer and a deployment.

The CLI, the web service and the tests all open the system through `open_app`, so every one
of them runs against the same schema, profiles and signing key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from assistgate.auth.models import User
from assistgate.db.migrate import upgrade
from assistgate.db.session import DatabaseUnavailable, make_engine, make_session_factory
from assistgate.integrations import outbox
from assistgate.ledger.keys import FileKeyStore, KeyStore
from assistgate.ledger.store import LedgerWriter
from assistgate.policy import PolicyEngine, default_registry
from assistgate.requests.deployment import Deployment
from assistgate.requests.errors import NotPermitted
from assistgate.settings import Settings, SettingsError


@dataclass
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keys: KeyStore
    deployment: Deployment

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Open one transaction: committed if the block succeeds, rolled back otherwise."""
        with self.sessions() as session, session.begin():
            yield session

    def user(self, session: Session, username: str) -> User:
        """Return the user `username` (the service refuses inactive ones), or refuse."""
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise NotPermitted(
                f"no user named {username!r}; an administrator adds users with "
                f"'assistgate user add'"
            )
        return user

    def close(self) -> None:
        self.engine.dispose()


def key_dir(settings: Settings) -> Path:
    """Return the folder of the ledger's signing key."""
    return settings.data_dir / "keys"


def open_app(settings: Settings, *, keys: KeyStore | None = None, migrate: bool = True) -> App:
    """Open the database named by the settings (migrating it) and build the deployment."""
    unknown = [p for p in settings.profiles if p not in default_registry().ids]
    if unknown:
        raise SettingsError(f"ASSISTGATE_PROFILES: unknown profile {', '.join(unknown)}")
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    try:
        if migrate:
            upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        raise DatabaseUnavailable(
            f"cannot open the database {_safe(settings.database_url)}: {exc.orig}"
        ) from exc
    keys = keys or FileKeyStore(key_dir(settings))
    ledger = LedgerWriter(origin=settings.ledger_origin, keys=keys)
    deployment = Deployment(
        engine=PolicyEngine(default_profiles=settings.default_profiles, today=settings.today),
        profiles=settings.profiles,
        timezone=settings.zone,
        ledger=ledger,
    )
    deployment.after_step.append(outbox.after_step)  # notifications owed to dispatch systems
    return App(settings, engine, make_session_factory(engine), keys, deployment)


def _safe(url: str) -> str:
    """Return a database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
