"""Monthly totals of calls for service, imported from the dispatch system's exports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from assistgate.db.base import Base, UTCDateTime, utcnow


class CallsForServiceMonth(Base):
    """How many calls for service the 911 centre handled in one local month."""

    __tablename__ = "calls_for_service_months"

    # YYYY-MM in the deployment's time zone.
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger)
    # The file the total came from (its name only) and how it was read, for the record.
    source: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
