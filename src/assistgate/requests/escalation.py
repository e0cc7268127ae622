"""Escalation: a request nobody claims in time is alerted further along the duty list.

The rules, so that a request never waits unseen:

- The duty list is the commanders marked on duty (active, not locked), in ascending
  `duty_rank`, then by username.
- At intake (level 0) the first commander on the duty list is alerted through the notifier;
  every commander with the queue open also sees the request there at once.
- A request still awaiting review `after` seconds (`ASSISTGATE_ESCALATE_AFTER_SECONDS`,
  default 120) after its last alert (intake, an escalation, or a release back to the queue) is
  escalated: its `escalation_level` goes up by one and a `request:escalated` ledger entry, in
  the same transaction, names who is alerted: the commander at that position of the duty list
  (level 1: the second on duty, ...), and once every commander on duty has been alerted, the
  command-staff contact (`ASSISTGATE_COMMAND_STAFF_CONTACT`), again at every interval until
  someone claims the request or it is cancelled.
- With nobody on duty, the alert at intake already goes to command staff.

Alerts go out only once the escalation is committed, so the ledger and the pages agree.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from assistgate.auth.enums import Role
from assistgate.auth.models import User, UserRole
from assistgate.db.base import utcnow
from assistgate.integrations.notifier import Notifier, notifier_from_settings, recipient_label
from assistgate.ledger.entry import utc_timestamp
from assistgate.ledger.models import LedgerEntryRow
from assistgate.requests.deployment import Deployment
from assistgate.requests.enums import Event, State
from assistgate.requests.models import Request
from assistgate.requests.service import _apply
from assistgate.settings import Settings

log = logging.getLogger("assistgate.escalation")

DEFAULT_AFTER = dt.timedelta(seconds=120)
DEFAULT_COMMAND_STAFF = "command-staff"
# The ledger's actor for escalations: nobody acted, the timer did.
ESCALATION_ACTOR = "system:escalation"
# The entries after which a request waits for a claim again; the timer counts from the last.
ALERT_EVENTS = (Event.ALERTED, Event.ESCALATED, Event.RELEASED)
_PENDING = "assistgate.escalation.pending_alerts"


@dataclass(frozen=True)
class Alert:
    """Who is alerted about which request, at which escalation level."""

    to: User | str
    request: Request
    level: int

    @property
    def label(self) -> str:
        return recipient_label(self.to)


def duty_list(session: Session) -> list[User]:
    """Return the commanders on duty in the order alerts walk: duty_rank, then username."""
    query = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            UserRole.role == Role.COMMANDER,
            User.on_duty.is_(True),
            User.active.is_(True),
            User.locked_at.is_(None),
        )
        .order_by(User.duty_rank, User.username)
    )
    return list(session.scalars(query))


def recipient_at(level: int, duty: Sequence[User], command_staff: str) -> User | str:
    """Return who is alerted at `level`: that commander on the duty list, else command staff."""
    return duty[level] if level < len(duty) else command_staff


def first_recipient(session: Session, command_staff: str = DEFAULT_COMMAND_STAFF) -> User | str:
    """Return who the alert at intake goes to: the first commander on duty, or command staff."""
    return recipient_at(0, duty_list(session), command_staff)


def last_alerts(session: Session, refs: Sequence[str]) -> dict[str, str]:
    """Return, per request, the ledger time of its last alert, escalation or release."""
    found: dict[str, str] = {}
    for start in range(0, len(refs), 500):
        query = (
            select(LedgerEntryRow.subject, func.max(LedgerEntryRow.at))
            .where(
                LedgerEntryRow.subject.in_(refs[start : start + 500]),
                LedgerEntryRow.event.in_([str(e) for e in ALERT_EVENTS]),
            )
            .group_by(LedgerEntryRow.subject)
        )
        found.update((subject, at) for subject, at in session.execute(query))
    return found


def escalate(
    session: Session,
    deployment: Deployment,
    *,
    ref: str,
    now: dt.datetime,
    after: dt.timedelta = DEFAULT_AFTER,
    command_staff: str = DEFAULT_COMMAND_STAFF,
) -> Alert | None:
    """Escalate one request if it still awaits review and its last alert is `after` old.

    Returns who to alert, or None when nothing was due (claimed meanwhile, or being changed by
    someone else right now: it is looked at again on the next round). The change and its
    ledger entry are written in the caller's transaction.
    """
    request = session.scalars(
        select(Request).where(Request.ref == ref).with_for_update(skip_locked=True)
    ).one_or_none()
    if request is None or request.state != State.AWAITING_REVIEW:
        return None
    last = last_alerts(session, [ref]).get(ref)
    if last is not None and last > utc_timestamp(now - after):
        return None
    level = request.escalation_level + 1
    to = recipient_at(level, duty_list(session), command_staff)
    waited = (now - request.received_at).total_seconds()
    _apply(
        session,
        deployment,
        request,
        actor=User(username=ESCALATION_ACTOR, display_name="Escalation timer"),
        event=Event.ESCALATED,
        now=now,
        sets={"escalation_level": level},
        extra={
            "escalation": {
                "level": level,
                "alerted": recipient_label(to),
                "to_command_staff": isinstance(to, str),
                "after_seconds": int(after.total_seconds()),
                "unclaimed_seconds": max(0, int(waited)),
            }
        },
    )
    return Alert(to, request, level)


def escalate_due(
    session: Session,
    deployment: Deployment,
    *,
    now: dt.datetime,
    notifier: Notifier,
    after: dt.timedelta = DEFAULT_AFTER,
    command_staff: str = DEFAULT_COMMAND_STAFF,
) -> list[Alert]:
    """Escalate every request awaiting review whose last alert is `after` old or older.

    The escalations are written in the caller's transaction; the notifier is called for each
    once that transaction commits (and never if it rolls back).
    """
    refs = list(session.scalars(select(Request.ref).where(Request.state == State.AWAITING_REVIEW)))
    cutoff = utc_timestamp(now - after)
    last = last_alerts(session, refs)
    alerts = []
    for ref in refs:
        if last.get(ref, "") > cutoff:
            continue
        alert = escalate(
            session, deployment, ref=ref, now=now, after=after, command_staff=command_staff
        )
        if alert is not None:
            alerts.append(alert)
    for alert in alerts:
        after_commit(session, _sender(notifier, alert))
    return alerts


def alert_new(
    session: Session,
    refs: Sequence[str],
    *,
    notifier: Notifier,
    command_staff: str = DEFAULT_COMMAND_STAFF,
) -> list[Alert]:
    """Send the intake alert for newly registered requests that still await review."""
    if not refs:
        return []
    duty = duty_list(session)
    requests = session.scalars(
        select(Request).where(Request.ref.in_(refs), Request.state == State.AWAITING_REVIEW)
    )
    alerts = [
        Alert(recipient_at(r.escalation_level, duty, command_staff), r, r.escalation_level)
        for r in requests
    ]
    for alert in alerts:
        _sender(notifier, alert)()
    return alerts


def _sender(notifier: Notifier, alert: Alert) -> Callable[[], None]:
    def send() -> None:
        try:
            notifier.alert(alert.to, alert.request, alert.level)
        except Exception:  # a broken notifier must not stop the timer
            log.exception("alerting %s about %s failed", alert.label, alert.request.ref)

    return send


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's current transaction commits (never on rollback)."""
    pending: list[Callable[[], None]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _run_pending)
        event.listen(session, "after_rollback", _drop_pending)
    pending.append(callback)


def _run_pending(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is committed yet
        return
    callbacks: list[Callable[[], None]] = session.info.get(_PENDING, [])
    session.info[_PENDING] = []
    for callback in callbacks:
        callback()


def _drop_pending(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's rollback leaves the rest pending
        session.info[_PENDING] = []


class EscalationLoop:
    """Run `escalate_due` every few seconds in a background thread, until stopped."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        deployment: Deployment,
        *,
        notifier: Notifier,
        after: dt.timedelta = DEFAULT_AFTER,
        command_staff: str = DEFAULT_COMMAND_STAFF,
        every: float | None = None,
    ) -> None:
        self.sessions, self.deployment, self.notifier = sessions, deployment, notifier
        self.after, self.command_staff = after, command_staff
        # Often enough that an escalation is at most a quarter of the limit late (5 s at most).
        self.every = every if every is not None else max(0.2, min(5.0, after.total_seconds() / 4))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="assistgate-escalation", daemon=True)

    @classmethod
    def from_settings(
        cls,
        sessions: sessionmaker[Session],
        deployment: Deployment,
        settings: Settings,
        *,
        notifier: Notifier | None = None,
    ) -> EscalationLoop:
        """Return the loop the settings describe (alerting through their notifier by default)."""
        return cls(
            sessions,
            deployment,
            notifier=notifier or notifier_from_settings(settings),
            after=dt.timedelta(seconds=settings.escalate_after_seconds),
            command_staff=settings.command_staff_contact,
        )

    def run_once(self, now: dt.datetime | None = None) -> list[Alert]:
        """Escalate whatever is due now, in one transaction."""
        with self.sessions() as session, session.begin():
            return escalate_due(
                session,
                self.deployment,
                now=now or utcnow(),
                notifier=self.notifier,
                after=self.after,
                command_staff=self.command_staff,
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except OperationalError as exc:  # the database restarting: one line, no traceback
                reason = type(exc.orig).__name__
                log.warning("the escalation round failed: the database cannot be reached "
                            "(%s); retrying in %.1f s", reason, self.every)  # fmt: skip
            except Exception:  # any other failed round is retried next round too
                log.exception("the escalation round failed; retrying in %.1f s", self.every)
            self._stop.wait(self.every)

    def start(self) -> EscalationLoop:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> EscalationLoop:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
