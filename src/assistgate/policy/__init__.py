"""Policy as code: dated profiles of each jurisdiction's rules and the pure engine applying them.

This package imports no web framework, no ORM and does no I/O beyond reading its profile files.
"""

from assistgate.policy.engine import DECLINE, DISPATCH, Decision, PolicyEngine, Reason
from assistgate.policy.errors import AssessmentError, FieldProblem, ProfileError
from assistgate.policy.facts import Assessment
from assistgate.policy.profiles import Profile, ProfileRegistry, default_registry

__all__ = [
    "DECLINE",
    "DISPATCH",
    "Assessment",
    "AssessmentError",
    "Decision",
    "FieldProblem",
    "PolicyEngine",
    "Profile",
    "ProfileError",
    "ProfileRegistry",
    "Reason",
    "default_registry",
]
