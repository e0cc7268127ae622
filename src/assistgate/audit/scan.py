"""Scan files of calls for service: read the candidates, classify them, keep the flagged ones.

The service between the readers (I/O) and the detector (pure); the CLI only formats. Rows come
out in input order: file by file, then row by row.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistgate.audit.detector import Finding, classify
from assistgate.audit.presets import blind_spots
from assistgate.audit.readers import Candidate, ColumnPlan, FileScan, Progress, read_candidates
from assistgate.audit.rules import Category, RuleSet, default_rules

OUTPUT_COLUMNS = ("id", "time", "score", "category", "evidence", "rules")


def output_columns(plan: ColumnPlan) -> tuple[str, ...]:
    """Return the output header: the six columns, then the plan's context columns."""
    return OUTPUT_COLUMNS + plan.context_names


@dataclass(frozen=True, slots=True)
class Flagged:
    """One flagged call, as written to the output file."""

    id: str
    time: str
    score: float
    category: Category
    evidence: tuple[str, ...]
    rules: tuple[str, ...]
    context: tuple[str, ...] = ()

    def as_row(self) -> tuple[str, ...]:
        """Return the output columns: evidence quotes joined by ' | ', rule ids by spaces."""
        return (
            self.id,
            self.time,
            f"{self.score:.2f}",
            self.category.value,
            " | ".join(self.evidence),
            " ".join(self.rules),
            *self.context,
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
    parallel: bool = True,
) -> Iterator[Flagged]:
    """Yield the flagged calls of every file in turn; fill `summary` as it goes.

    `parallel=False` keeps the work in this process (a web server's threads must not fork).
    """
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
        for note in blind_spots(plan, result.used, rs.record):
            if note not in s.blind:
                s.blind.append(note)
        for c, f in zip(
            result.candidates, _classified(result.candidates, rs, parallel), strict=True
        ):
            if f.category is Category.NONE:
                if f.score > 0:
                    s.weak += 1
                continue
            s.by_category[f.category] += 1
            if keep(f.category):
                s.written += 1
                yield Flagged(c.id, c.time, f.score, f.category, f.evidence, f.rules, c.context)
        s.seconds = time.perf_counter() - started
    s.seconds = time.perf_counter() - started


# Below this many candidates in a file, starting worker processes costs more than it saves.
PARALLEL_FROM = 20_000
_worker_rules: RuleSet | None = None


def _classified(
    candidates: Sequence[Candidate], rs: RuleSet, parallel: bool = True
) -> Iterator[Finding]:
    """Classify the candidates in order; each distinct input once; on every core if many.

    The finding depends only on the text and the call type, so an input seen before is not
    classified again: candidates that passed on their call type alone (the text is not read)
    are a few call types repeated, and exports repeat remarks word for word. Worker processes
    are forked, so they share the loaded rules; each gets chunks of distinct inputs and `imap`
    hands the findings back in input order: the same findings, sooner.
    """
    global _worker_rules
    inputs = [(c.text if c.text_passed else "", c.call_type or None) for c in candidates]
    distinct = list(dict.fromkeys(inputs))
    workers = min(os.cpu_count() or 1, 8)
    if (
        not parallel
        or workers < 2
        or len(distinct) < PARALLEL_FROM
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        found = {item: classify(item[0], item[1], rules=rs) for item in distinct}
    else:
        _worker_rules = rs
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                findings = pool.imap(_classify_in_worker, distinct, chunksize=500)
                found = dict(zip(distinct, findings, strict=True))
        finally:
            _worker_rules = None
    for item in inputs:
        yield found[item]


def _classify_in_worker(item: tuple[str, str | None]) -> Finding:
    return classify(item[0], item[1], rules=_worker_rules)


def _for_file(progress: Callable[[int, float], None], index: int) -> Progress:
    def report(done: float) -> None:
        progress(index, done)

    return report
