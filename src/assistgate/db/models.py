"""Every table, imported in one place so that metadata and migrations see them all."""

from assistgate.auth.models import ApiToken, LoginFailure, User, UserRole, WebSession
from assistgate.db.base import Base
from assistgate.integrations.models import OutboxMessage, WebhookEndpoint
from assistgate.ledger.models import CheckpointRow, LedgerEntryRow, LedgerHead
from assistgate.recordings.models import (
    PlaybackGrant,
    Recording,
    RecordingAttachment,
    RecordingReview,
)
from assistgate.requests.models import Decision, Request
from assistgate.transparency.models import CallsForServiceMonth

__all__ = [
    "ApiToken",
    "Base",
    "CallsForServiceMonth",
    "CheckpointRow",
    "Decision",
    "LedgerEntryRow",
    "LedgerHead",
    "LoginFailure",
    "OutboxMessage",
    "PlaybackGrant",
    "Recording",
    "RecordingAttachment",
    "RecordingReview",
    "Request",
    "User",
    "UserRole",
    "WebSession",
    "WebhookEndpoint",
]
