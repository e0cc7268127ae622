"""Deployment settings, read once from ASSISTGATE_* environment variables and checked.

Every part of the service reads its settings here, so there is one place to look.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENVIRONMENTS = ("development", "demo", "production")
LOUISVILLE = ("louisville-lmpd-2017", "louisville-ordinance-2017")
_ORIGIN = re.compile(r"^[A-Za-z0-9._/-]+$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


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

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read the settings from the environment (or a given mapping), checking each."""
        env = dict(os.environ) if env is None else env
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
