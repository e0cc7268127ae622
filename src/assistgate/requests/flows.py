"""The one transition table of a request's lifecycle; every other change is refused.

received -> awaiting_review -> under_review -> declined ----------------------> closed
                   ^               |       +-> dispatch_approved -> units_dispatched
                   +-- release ----+               -> commander_on_scene -> cleared -> closed
cancel: from any open state before clearing (the agency withdrew).
"""

from __future__ import annotations

from assistgate.requests.enums import State, Step


class TransitionRefused(ValueError):
    """A step that the lifecycle does not allow from the request's state; nothing is written."""

    def __init__(self, state: State, step: Step, reason: str = "") -> None:
        self.state, self.step = state, step
        allowed = ", ".join(s.value for s in allowed_steps(state)) or "nothing (it is final)"
        detail = f": {reason}" if reason else ""
        super().__init__(
            f"cannot {step.value} a request that is {state.value}{detail}; "
            f"allowed from {state.value}: {allowed}"
        )


def next_state(state: State, step: Step) -> State:
    """Return the state that `step` leads to from `state`, or raise TransitionRefused."""
    target = _table(state, step)
    if target is None:
        raise TransitionRefused(state, step)
    return target


def allowed_steps(state: State) -> list[Step]:
    """Return the steps the table allows from `state`, in lifecycle order."""
    return [step for step in Step if _table(state, step) is not None]


def _table(state: State, step: Step) -> State | None:
    match (state, step):
        case (State.RECEIVED, Step.ALERT):
            return State.AWAITING_REVIEW
        case (State.AWAITING_REVIEW, Step.CLAIM):
            return State.UNDER_REVIEW
        case (State.UNDER_REVIEW, Step.RELEASE):
            return State.AWAITING_REVIEW
        case (State.UNDER_REVIEW, Step.DECLINE):
            return State.DECLINED
        case (State.UNDER_REVIEW, Step.APPROVE_DISPATCH):
            return State.DISPATCH_APPROVED
        case (State.DISPATCH_APPROVED, Step.DISPATCH_UNITS):
            return State.UNITS_DISPATCHED
        case (State.UNITS_DISPATCHED, Step.ARRIVE):
            return State.COMMANDER_ON_SCENE
        # Clearing without the commander's arrival needs an exception (checked by the service).
        case (State.UNITS_DISPATCHED | State.COMMANDER_ON_SCENE, Step.CLEAR):
            return State.CLEARED
        case (State.DECLINED | State.CLEARED, Step.CLOSE):
            return State.CLOSED
        case (
            State.RECEIVED
            | State.AWAITING_REVIEW
            | State.UNDER_REVIEW
            | State.DISPATCH_APPROVED
            | State.UNITS_DISPATCHED
            | State.COMMANDER_ON_SCENE,
            Step.CANCEL,
        ):
            return State.CANCELLED
        case _:
            return None
