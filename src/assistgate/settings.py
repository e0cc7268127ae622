"""Deployment settings, read once from ASSISTGATE_* environment variables and checked.

Every part of the service reads its settings here, so there is one place to look. An optional
TOML file named by ASSISTGATE_CONFIG holds the same settings under their names without the
prefix, in lower case (`database_url = "..."`); a variable set in the environment wins over the
file. `REFERENCE` below documents every variable; docs/SETTINGS.md is generated from it and a
test checks that every variable read here is in it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENVIRONMENTS = ("development", "demo", "production")
LOG_LEVELS = ("debug", "info", "warning", "error")
LOUISVILLE = ("louisville-lmpd-2017", "louisville-ordinance-2017")
_ORIGIN = re.compile(r"^[A-Za-z0-9._/-]+$")
PREFIX = "ASSISTGATE_"


@dataclass(frozen=True)
class Variable:
    """One setting as an operator sees it: its variable, what it does, its default, its values."""

    name: str
    meaning: str
    default: str
    allowed: str
    # Only in the environment: the file cannot name itself.
    file: bool = True


# Every setting, in the order of docs/SETTINGS.md (generated from this table).
REFERENCE: tuple[Variable, ...] = (
    Variable(
        "ASSISTGATE_CONFIG",
        "A TOML settings file holding any of the settings below under "
        "their names without the prefix, in lower case; a variable set in the environment "
        "wins over the file.",
        "none",
        "a path to a readable TOML file",
        file=False,
    ),
    Variable(
        "ASSISTGATE_ENVIRONMENT",
        "What this installation is. In `production` the service "
        "refuses to start with a default or missing secret (see docs/OPERATIONS.md) and "
        "session cookies are sent over HTTPS only.",
        "development",
        "development, demo, production",
    ),
    Variable(
        "ASSISTGATE_DATA_DIR",
        "The folder of the signing keys (`keys/`), the sealed "
        "recordings (`recordings/`) and, without ASSISTGATE_DATABASE_URL, the SQLite "
        "database. Keep it outside the source tree.",
        "$XDG_DATA_HOME/assistgate, else ~/.local/share/assistgate",
        "a folder path",
    ),
    Variable(
        "ASSISTGATE_DATABASE_URL",
        "The database, as an SQLAlchemy URL. Production runs "
        "on PostgreSQL; its password is never printed.",
        "sqlite:///<data dir>/assistgate.db",
        "sqlite:///PATH, or postgresql+psycopg://USER[:PASSWORD]@HOST[:PORT]/NAME",
    ),
    Variable(
        "ASSISTGATE_PROFILES",
        "The policy instruments that bind this deployment; a "
        "request is decided under those in force on its date.",
        ",".join(LOUISVILLE),
        "comma-separated profile ids (`assistgate policy list`)",
    ),
    Variable(
        "ASSISTGATE_DEFAULT_PROFILES",
        "The profiles `assistgate policy evaluate` uses for an assessment that names none.",
        "louisville-lmpd-2017",
        "comma-separated profile ids",
    ),
    Variable(
        "ASSISTGATE_TIMEZONE",
        "The deployment's time zone: a request's local date (which "
        "picks the rules in force) and the times shown.",
        "America/Kentucky/Louisville",
        "an IANA time zone name",
    ),
    Variable(
        "ASSISTGATE_LEDGER_ORIGIN",
        "The name of this ledger inside its signed "
        "checkpoints; never change it once the ledger has entries.",
        "assistgate/louisville-metro",
        "letters, digits and . _ / -",
    ),
    Variable(
        "ASSISTGATE_ESCALATE_AFTER_SECONDS",
        "A request nobody claims within this many "
        "seconds is alerted to the next commander on duty, then to command staff.",
        "120",
        "1 to 86400",
    ),
    Variable(
        "ASSISTGATE_PAGER_URL",
        "A paging or text-message gateway that receives alerts as "
        "JSON; without it, alerts are written to the log.",
        "none (alerts are logged)",
        "an http:// or https:// address",
    ),
    Variable(
        "ASSISTGATE_COMMAND_STAFF_CONTACT",
        "Who the pager reaches once every commander on duty has been alerted.",
        "command-staff",
        "1 to 200 characters",
    ),
    Variable(
        "ASSISTGATE_RECORDING_RETENTION_DAYS",
        "How long recorded calls are kept before "
        "`assistgate recordings purge` may delete their audio; legal holds override it.",
        "2557 (seven years)",
        "a whole number of days, 1 or more",
    ),
    Variable(
        "ASSISTGATE_RECORDING_RETENTION_BY_PROFILE",
        "A longer (or shorter) retention for the recordings of requests under one instrument, "
        "such as a state law that sets its own period.",
        "none (ASSISTGATE_RECORDING_RETENTION_DAYS for all)",
        "comma-separated PROFILE=DAYS, each profile one of ASSISTGATE_PROFILES",
    ),
    Variable(
        "ASSISTGATE_LOG_LEVEL",
        "The lowest level written to the JSON log on standard "
        "error (see docs/OPERATIONS.md for its fields).",
        "info",
        "debug, info, warning, error",
    ),
    Variable(
        "ASSISTGATE_BACKUP_PASSPHRASE",
        "The passphrase that seals the private keys in a backup, for "
        "`assistgate backup create`, `verify` and `restore` when --passphrase-file is not "
        "given. Read by those commands only, never by the service; keep it out of the "
        "settings file.",
        "none (the commands ask for --passphrase-file or --without-private-keys)",
        "at least 12 characters",
        file=False,
    ),
)
_KNOWN = {v.name: v for v in REFERENCE}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def read_settings_file(path: Path) -> dict[str, str]:
    """Read a TOML settings file into ASSISTGATE_* values, refusing unknown or malformed keys."""
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise SettingsError(f"ASSISTGATE_CONFIG: {path}: no such file") from None
    except OSError as exc:
        raise SettingsError(f"ASSISTGATE_CONFIG: {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"ASSISTGATE_CONFIG: {path} is not valid TOML: {exc}") from None
    values: dict[str, str] = {}
    for key, value in document.items():
        name = PREFIX + key.upper()
        if key != key.lower() or name not in _KNOWN or not _KNOWN[name].file:
            known = ", ".join(v.name.removeprefix(PREFIX).lower() for v in REFERENCE if v.file)
            raise SettingsError(f"{path}: unknown setting {key!r} (known: {known})")
        if isinstance(value, bool) or not isinstance(value, str | int | list):
            raise SettingsError(f"{path}: {key}: expected a string, a whole number or a list "
                                f"of strings; got {type(value).__name__}")  # fmt: skip
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                raise SettingsError(f"{path}: {key}: expected a list of strings")
            value = ",".join(value)
        values[name] = str(value)
    return values


def default_data_dir(env: dict[str, str]) -> Path:
    """Return the per-user data folder: $XDG_DATA_HOME/assistgate or ~/.local/share/assistgate."""
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "assistgate"


def _ids(env: dict[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    ids = tuple(p.strip() for p in raw.split(",") if p.strip())
    if not ids:
        raise SettingsError(
            f"{name}: expected a comma-separated list of profile ids; got an empty value"
        )
    return ids


def _seconds(env: dict[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw.strip()) or not low <= int(raw) <= high:
        raise SettingsError(f"{name}: expected a whole number of seconds, {low} to {high}; "
                            f"got {raw!r}")  # fmt: skip
    return int(raw)


def _whole(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", raw.strip()) or int(raw) < 1:
        raise SettingsError(f"{name}: expected a whole number of days (1 or more); got {raw!r}")
    return int(raw)


def _days_by_profile(
    env: dict[str, str], name: str, profiles: tuple[str, ...]
) -> tuple[tuple[str, int], ...]:
    """Read `profile=days,profile=days`; each profile must be one the deployment follows."""
    pairs = []
    for item in filter(None, (part.strip() for part in env.get(name, "").split(","))):
        profile, _, days = item.partition("=")
        profile = profile.strip()
        if profile not in profiles:
            raise SettingsError(f"{name}: {profile!r} is not one of this deployment's profiles "
                                f"({', '.join(profiles)})")  # fmt: skip
        pairs.append((profile, _whole({name: days}, name, 1)))
    return tuple(pairs)


def _url(env: dict[str, str], name: str) -> str:
    raw = env.get(name, "").strip()
    if raw and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", raw):
        raise SettingsError(f"{name}: expected an http:// or https:// address; got {raw!r}")
    return raw


def _choice(env: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, default).strip().lower()
    if raw not in allowed:
        raise SettingsError(f"{name}: expected one of {', '.join(allowed)}; got {raw!r}")
    return raw


def _contact(env: dict[str, str], default: str) -> str:
    raw = env.get("ASSISTGATE_COMMAND_STAFF_CONTACT", default).strip()
    if not raw or len(raw) > 200:
        raise SettingsError(
            "ASSISTGATE_COMMAND_STAFF_CONTACT: expected who the pager reaches "
            f"after the commanders on duty (1 to 200 characters); got {raw!r}"
        )
    return raw


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    # The profile the engine uses for an assessment that names none (`policy evaluate`).
    default_profiles: tuple[str, ...] = ("louisville-lmpd-2017",)
    # The instruments that bind this deployment; a request is decided under those in force
    # on its date.
    profiles: tuple[str, ...] = LOUISVILLE
    timezone: str = "America/Kentucky/Louisville"
    data_dir: Path = Path()
    database_url: str = ""
    ledger_origin: str = "assistgate/louisville-metro"
    # A request nobody claims within this many seconds is escalated to the next commander on
    # duty, then to command staff (ASSISTGATE_ESCALATE_AFTER_SECONDS).
    escalate_after_seconds: int = 120
    # A paging or text-message gateway that receives alerts as JSON; none: alerts are logged.
    pager_url: str = ""
    # Who is alerted once every commander on duty has been (ASSISTGATE_COMMAND_STAFF_CONTACT).
    command_staff_contact: str = "command-staff"
    # How long recorded calls are kept before `recordings purge` may delete their audio
    # (ASSISTGATE_RECORDING_RETENTION_DAYS; default seven years). Legal holds override it.
    recording_retention_days: int = 2557
    # A longer (or shorter) period for the requests of one instrument, e.g. a state law that
    # sets its own (ASSISTGATE_RECORDING_RETENTION_BY_PROFILE="oregon-sanctuary-law=3653").
    recording_retention_by_profile: tuple[tuple[str, int], ...] = ()
    # The lowest level written to the JSON log on standard error (ASSISTGATE_LOG_LEVEL).
    log_level: str = "info"
    # The settings file the values came from, if any (ASSISTGATE_CONFIG).
    config_file: Path | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read the settings from the environment (or a given mapping) and the file it names."""
        env = dict(os.environ) if env is None else env
        config = env.get("ASSISTGATE_CONFIG", "").strip()
        if not config:
            return cls._parse(env)
        path = Path(config).expanduser()
        from_file = read_settings_file(path)
        merged = {**from_file, **env}
        try:
            return replace(cls._parse(merged), config_file=path)
        except SettingsError as exc:
            name = str(exc).split(":", 1)[0]
            if name in from_file and name not in env:  # say where the bad value was written
                raise SettingsError(
                    f"{path}: {name.removeprefix(PREFIX).lower()} ({exc})"
                ) from None
            raise

    @classmethod
    def _parse(cls, env: dict[str, str]) -> Settings:
        environment = env.get("ASSISTGATE_ENVIRONMENT", cls.environment)
        if environment not in ENVIRONMENTS:
            raise SettingsError(
                f"ASSISTGATE_ENVIRONMENT: expected one of "
                f"{', '.join(ENVIRONMENTS)}; got {environment!r}"
            )
        timezone = env.get("ASSISTGATE_TIMEZONE", cls.timezone)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"ASSISTGATE_TIMEZONE: expected an IANA time zone such as "
                f"America/Kentucky/Louisville; got {timezone!r}"
            ) from exc
        data_dir = Path(env.get("ASSISTGATE_DATA_DIR") or default_data_dir(env)).expanduser()
        database_url = (
            env.get("ASSISTGATE_DATABASE_URL")
            or f"sqlite:///{(data_dir / 'assistgate.db').as_posix()}"
        )
        origin = env.get("ASSISTGATE_LEDGER_ORIGIN", cls.ledger_origin)
        if not _ORIGIN.match(origin):
            raise SettingsError(
                f"ASSISTGATE_LEDGER_ORIGIN: expected letters, digits and . _ / -; got {origin!r}"
            )
        profiles = _ids(env, "ASSISTGATE_PROFILES", cls.profiles)
        return cls(
            environment=environment,
            default_profiles=_ids(env, "ASSISTGATE_DEFAULT_PROFILES", cls.default_profiles),
            profiles=profiles,
            timezone=timezone,
            data_dir=data_dir,
            database_url=database_url,
            ledger_origin=origin,
            escalate_after_seconds=_seconds(
                env,
                "ASSISTGATE_ESCALATE_AFTER_SECONDS",
                cls.escalate_after_seconds,
                low=1,
                high=86_400,
            ),
            pager_url=_url(env, "ASSISTGATE_PAGER_URL"),
            command_staff_contact=_contact(env, cls.command_staff_contact),
            recording_retention_days=_whole(
                env, "ASSISTGATE_RECORDING_RETENTION_DAYS", cls.recording_retention_days
            ),
            recording_retention_by_profile=_days_by_profile(
                env, "ASSISTGATE_RECORDING_RETENTION_BY_PROFILE", profiles
            ),
            log_level=_choice(env, "ASSISTGATE_LOG_LEVEL", cls.log_level, LOG_LEVELS),
        )

    @property
    def recording_retention(self) -> dt.timedelta:
        """Return how long recordings are kept: the longest period of the profiles followed.

        A recording is evidence under every instrument the deployment follows, so it is kept
        as long as the most demanding one asks; a profile with no period of its own has the
        default one.
        """
        own = dict(self.recording_retention_by_profile)
        days = [own.get(profile, self.recording_retention_days) for profile in self.profiles]
        return dt.timedelta(days=max(days, default=self.recording_retention_days))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self) -> dt.date:
        """Return today's date in the deployment's time zone (a request's local date)."""
        return dt.datetime.now(self.zone).date()
