"""Typed errors of the register; each says what was wrong and what is allowed."""

from __future__ import annotations


class RegisterError(ValueError):
    """Base of the register's refusals: nothing was written."""


class RequestNotFound(RegisterError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no request with reference {ref!r}")
        self.ref = ref


class NotPermitted(RegisterError):
    """The actor's role does not allow this step."""


class InvalidField(RegisterError):
    """A field of a request, a decision or an outcome is missing or malformed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class AlreadyHeld(RegisterError):
    """Another commanding officer holds the request."""

    def __init__(self, ref: str, holder: str) -> None:
        super().__init__(
            f"request {ref} is already held by {holder}; only one commanding "
            f"officer can hold a request at a time"
        )
        self.ref, self.holder = ref, holder


class RuleNotMet(RegisterError):
    """A rule of the lifecycle is not met (dispatch without a dispatch decision, ...)."""
