"""What a deployment decides with: its instruments, its time zone and its ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias
from zoneinfo import ZoneInfo

from assistgate.ledger.store import LedgerWriter
from assistgate.policy import PolicyEngine
from assistgate.requests.errors import RuleNotMet

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from assistgate.requests.models import Request

# Called by every step after its ledger entry, in the same transaction, with the request, the
# ledger event name and the step's time: whatever it writes commits or rolls back with the step
# (the dispatch-system outbox is one).
StepHook: TypeAlias = "Callable[[Session, Request, str, dt.datetime], None]"


@dataclass(frozen=True)
class Deployment:
    """What a deployment decides with: its instruments, its time zone and its ledger."""

    engine: PolicyEngine
    profiles: tuple[str, ...]
    timezone: ZoneInfo
    ledger: LedgerWriter
    after_step: list[StepHook] = field(default_factory=list)

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
