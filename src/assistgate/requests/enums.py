"""States of a request, the steps between them, and the ledger's event names."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    RECEIVED = "received"
    AWAITING_REVIEW = "awaiting_review"
    UNDER_REVIEW = "under_review"
    DECLINED = "declined"
    DISPATCH_APPROVED = "dispatch_approved"
    UNITS_DISPATCHED = "units_dispatched"
    COMMANDER_ON_SCENE = "commander_on_scene"
    CLEARED = "cleared"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATES = frozenset(State) - {State.CLOSED, State.CANCELLED}


class Step(StrEnum):
    """What someone does to a request; the transition table says from where each may go."""

    ALERT = "alert"
    CLAIM = "claim"
    RELEASE = "release"
    DECLINE = "decline"
    APPROVE_DISPATCH = "approve_dispatch"
    DISPATCH_UNITS = "dispatch_units"
    ARRIVE = "arrive"
    CLEAR = "clear"
    CLOSE = "close"
    CANCEL = "cancel"


class Event(StrEnum):
    """Ledger event names, "subject:action"."""

    CREATED = "request:created"
    ALERTED = "request:alerted"
    CLAIMED = "request:claimed"
    RELEASED = "request:released"
    DECIDED = "request:decided"
    DISPATCHED = "request:dispatched"
    ARRIVED = "request:arrived"
    CLEARED = "request:cleared"
    CLOSED = "request:closed"
    CANCELLED = "request:cancelled"
    EXCEPTION_RECORDED = "request:exception_recorded"
    RECORDING_ATTACHED = "request:recording_attached"
    # Nobody claimed the request in time: the alert went to the next person on the duty list.
    ESCALATED = "request:escalated"
    USER_CREATED = "user:created"
    # A commander went on or off duty (by the screen or a roster import).
    DUTY_CHANGED = "user:duty_changed"


class ExceptionKind(StrEnum):
    """Why a rule of closure was not met; each is flagged for review."""

    NO_COMMANDER_ARRIVAL = "no_commander_arrival"
    NO_RECORDING = "no_recording"


class IdentityCheck(StrEnum):
    """How the call taker confirmed that the caller really is the agency."""

    CALLBACK_KNOWN_NUMBER = "callback_known_number"
    CAD_INTERFACE = "cad_interface"
    IN_PERSON_CREDENTIALS = "in_person_credentials"
    NOT_VERIFIED = "not_verified"
