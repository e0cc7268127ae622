"""What a deployment decides with: its instruments, its time zone and its ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from assistgate.ledger.store import LedgerWriter
from assistgate.policy import PolicyEngine
from assistgate.requests.errors import RuleNotMet


@dataclass(frozen=True)
class Deployment:
    """What a deployment decides with: its instruments, its time zone and its ledger."""

    engine: PolicyEngine
    profiles: tuple[str, ...]
    timezone: ZoneInfo
    ledger: LedgerWriter

    def local_date(self, moment: dt.datetime) -> dt.date:
        """Return the deployment's calendar date at `moment`."""
        return moment.astimezone(self.timezone).date()

    def profiles_in_force(self, day: dt.date) -> list[str]:
        """Return the deployment's instruments in force on `day` (at least one, or an error)."""
        registry = self.engine.registry
        in_force = [p for p in self.profiles if registry.in_force(p, day) is not None]
        if not in_force:
            raise RuleNotMet(
                f"none of this deployment's instruments ({', '.join(self.profiles)}) "
                f"is in force on {day.isoformat()}"
            )
        return in_force
