"""Scan files of calls for service: read the candidates, classify them, keep the flagged ones.

The service between the readers (I/O) and the detector (pure); the CLI only formats. Rows come
out in input order: file by file, then row by row.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistgate.audit.detector import classify
from assistgate.audit.presets import blind_spots
from assistgate.audit.readers import ColumnPlan, FileScan, Progress, read_candidates
from assistgate.audit.rules import Category, RuleSet, default_rules

OUTPUT_COLUMNS = ("id", "time", "score", "category", "evidence", "rules")


@dataclass(frozen=True, slots=True)
class Flagged:
    """One flagged call, as written to the output file."""

    id: str
    time: str
    score: float
    category: Category
    evidence: tuple[str, ...]
    rules: tuple[str, ...]

    def as_row(self) -> tuple[str, str, str, str, str, str]:
        """Return the output columns: evidence quotes joined by ' | ', rule ids by spaces."""
        return (
            self.id,
            self.time,
            f"{self.score:.2f}",
            self.category.value,
            " | ".join(self.evidence),
            " ".join(self.rules),
        )


@dataclass
class Summary:
    """What a scan read, flagged and could not see."""

    files: list[FileScan] = field(default_factory=list)
    rows: int = 0
    candidates: int = 0
    by_category: Counter[Category] = field(default_factory=Counter)
    weak: int = 0
    written: int = 0
    seconds: float = 0.0
    blind: list[str] = field(default_factory=list)


def scan(
    paths: Sequence[Path],
    plan: ColumnPlan,
    *,
    keep: Callable[[Category], bool],
    rules: RuleSet | None = None,
    encoding: str = "auto",
    progress: Callable[[int, float], None] | None = None,
    summary: Summary | None = None,
) -> Iterator[Flagged]:
    """Yield the flagged calls of every file in turn; fill `summary` as it goes."""
    rs = rules if rules is not None else default_rules()
    s = summary if summary is not None else Summary()
    started = time.perf_counter()
    for index, path in enumerate(paths):
        report: Progress | None = None
        if progress is not None:
            report = _for_file(progress, index)
        result = read_candidates(
            path,
            plan,
            text_filter=rs.prefilter_text,
            type_filter=rs.prefilter_call_type,
            encoding=encoding,
            progress=report,
        )
        s.files.append(result)
        s.rows += result.rows
        s.candidates += len(result.candidates)
        for note in blind_spots(plan, result.used):
            if note not in s.blind:
                s.blind.append(note)
        for c in result.candidates:
            f = classify(c.text if c.text_passed else "", c.call_type or None, rules=rs)
            if f.category is Category.NONE:
                if f.score > 0:
                    s.weak += 1
                continue
            s.by_category[f.category] += 1
            if keep(f.category):
                s.written += 1
                yield Flagged(c.id, c.time, f.score, f.category, f.evidence, f.rules)
        s.seconds = time.perf_counter() - started
    s.seconds = time.perf_counter() - started


def _for_file(progress: Callable[[int, float], None], index: int) -> Progress:
    def report(done: float) -> None:
        progress(index, done)

    return report
