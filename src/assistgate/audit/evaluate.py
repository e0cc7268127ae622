"""Compare flagged calls with hand labels: precision, recall, F1 and the mistakes to read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from assistgate.audit.rules import Category

# Labels files may say yes/no instead of a category: yes means an agency request.
_YES = {"1", "true", "yes", "y"}
_NO = {"0", "false", "no", "n", ""}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Counts and rates for one category, with the ids it got wrong."""

    category: Category
    true_positives: int
    false_positives: int
    false_negatives: int
    false_positive_ids: tuple[str, ...]
    false_negative_ids: tuple[str, ...]
    unlabelled: tuple[str, ...]

    @property
    def precision(self) -> float | None:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)


def normalise_label(raw: str) -> Category | None:
    """Read one label: a category name, or yes/no for 'is an agency request'; None if unknown."""
    value = raw.strip().lower()
    if value in _YES:
        return Category.AGENCY_REQUEST
    if value in _NO:
        return Category.NONE
    try:
        return Category(value)
    except ValueError:
        return None


def evaluate(
    labels: Mapping[str, Category], flagged: Mapping[str, Category], category: Category
) -> Evaluation:
    """Score the flagged calls against the labels for one category."""
    predicted = {i for i, c in flagged.items() if c is category}
    actual = {i for i, c in labels.items() if c is category}
    return Evaluation(
        category=category,
        true_positives=len(predicted & actual),
        false_positives=len(predicted - actual),
        false_negatives=len(actual - predicted),
        false_positive_ids=tuple(sorted(predicted - actual)),
        false_negative_ids=tuple(sorted(actual - predicted)),
        unlabelled=tuple(sorted(set(flagged) - set(labels))),
    )
