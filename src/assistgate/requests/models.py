"""The request and the commanding officer's decision, as stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistgate.db.base import Base, UTCDateTime, utcnow


class Request(Base):
    """One call from an immigration agency asking the police for help."""

    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    cad_incident_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(32), index=True)

    agency: Mapped[str] = mapped_column(String(32))
    official_name: Mapped[str] = mapped_column(String(200))
    official_badge: Mapped[str] = mapped_column(String(100), default="")
    callback_number: Mapped[str] = mapped_column(String(40), default="")
    identity_check: Mapped[str] = mapped_column(String(40))
    identity_note: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(40), default="")
    caller_words: Mapped[str] = mapped_column(Text)
    requested_actions: Mapped[list[str]] = mapped_column(JSON)

    call_taker: Mapped[str] = mapped_column(String(64))
    commander: Mapped[str | None] = mapped_column(String(64), default=None)
    # How many times the alert went further up the duty list because nobody claimed it.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)

    # The current decision. Not a foreign key: decisions point at their request, and a cycle
    # of keys would make the two tables impossible to create or restore in one order.
    decision_id: Mapped[int | None] = mapped_column(default=None)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    units: Mapped[list[str]] = mapped_column(JSON, default=list)
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    recording_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    exceptions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    flagged_for_review: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Decision(Base):
    """A commanding officer's decision: the facts, the engine's answer, and what was approved."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str] = mapped_column(String(64))
    assessment: Mapped[dict[str, Any]] = mapped_column(JSON)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))
    approved_actions: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    engine_version: Mapped[str] = mapped_column(String(32))
