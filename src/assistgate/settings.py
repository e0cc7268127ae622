"""Deployment settings, read once from ASSISTGATE_* environment variables.

Later parts of the service add their settings here, so that there is one place to read them.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENVIRONMENTS = ("development", "demo", "production")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    default_profiles: tuple[str, ...] = ("louisville-lmpd-2017",)
    timezone: str = "America/Kentucky/Louisville"

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
        raw_profiles = env.get("ASSISTGATE_DEFAULT_PROFILES")
        profiles = cls.default_profiles
        if raw_profiles is not None:
            profiles = tuple(p.strip() for p in raw_profiles.split(",") if p.strip())
            if not profiles:
                raise SettingsError(
                    "ASSISTGATE_DEFAULT_PROFILES: expected a comma-separated "
                    "list of profile ids; got an empty value"
                )
        timezone = env.get("ASSISTGATE_TIMEZONE", cls.timezone)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"ASSISTGATE_TIMEZONE: expected an IANA time zone such as "
                f"America/Kentucky/Louisville; got {timezone!r}"
            ) from exc
        return cls(environment=environment, default_profiles=profiles, timezone=timezone)

    def today(self) -> dt.date:
        """Return today's date in the deployment's time zone (a request's local date)."""
        return dt.datetime.now(ZoneInfo(self.timezone)).date()
