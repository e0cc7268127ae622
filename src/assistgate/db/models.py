"""Every table, imported in one place so that metadata and migrations see them all."""

from assistgate.auth.models import User
from assistgate.db.base import Base
from assistgate.ledger.models import CheckpointRow, LedgerEntryRow, LedgerHead
from assistgate.requests.models import Decision, Request

__all__ = ["Base", "CheckpointRow", "Decision", "LedgerEntryRow", "LedgerHead", "Request", "User"]
