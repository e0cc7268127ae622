"""Benchmark the policy engine against the same policy written in Cedar (cedarpy).

    python bench/policy_bench.py                 # 10,000 assessments, best of 5 runs
    python bench/policy_bench.py --n 2000 --repeat 3 --json

What it does, in one run:

1. builds a deterministic mixed batch of assessments (seeded random) for the profile
   louisville-lmpd-2017, dated 2018-01-15: every agency, warrant kind, verified / immigration
   offence flag, issuer, crime status, danger and violence flag, and 1-4 of the 15 actions;
2. checks, before any timing, that Cedar (bench/cedar/louisville-lmpd-2017.cedar) permits
   exactly the actions the engine permits, and allows `dispatch` exactly when the engine
   decides dispatch, for every assessment and every Cedar variant timed; it stops with the
   first differing case otherwise;
3. times, best and median of --repeat runs over the whole batch (after a warm-up run):
   - assistgate `engine.evaluate(a)` over pre-parsed assessments;
   - assistgate `engine.evaluate(engine.parse(obj))` from decoded JSON dicts;
   - cedarpy, the reference: facts pre-parsed into a `cedarpy.Entities` handle per
     assessment (the Assessment entity's attributes), one `is_authorized_batch` call per
     assessment carrying one request per requested action, policies pre-parsed into a
     `cedarpy.PolicySet`;
   - cedarpy with the facts in the request context (JSON, which Cedar parses on every
     request): one batch call per assessment; the same validated against the schema; one
     `is_authorized` call per action; the whole batch in a single call.

Why this reference is the fair one. Pre-parsed against pre-parsed: the engine gets an
`Assessment` already checked and built, so Cedar gets its facts already parsed too (an
Entities handle, built outside the timed loop), and its policies as a PolicySet handle
(cedarpy 4.x offers both; re-parsing the policy text per call would be unfair to Cedar).
One call per assessment: the engine answers one assessment per call, as the service does
(one request arrives, one decision goes out), and one assessment's answer is all its
requested actions together; `is_authorized_batch` is cedarpy's way to ask those questions
in one crossing into Rust, so it is Cedar's best per-assessment form. One call per action
adds a crossing per action; one call for the whole batch amortises it over all the
assessments, which no request-at-a-time service can do: both are shown for comparison only.
Requests are built beforehand with entity uids as {"type", "id"} dicts (the faster form for
cedarpy) and, for the context variants, the context JSON-encoded once per assessment.
Cedar's timed work is only the requested actions; the engine also works out the overall
decision, the grounds, the required actions and the cited reasons.

The garbage collector stays on (as in the service); it is run before every timed run.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.metadata
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cedarpy

from assistgate.policy import DISPATCH, Assessment, PolicyEngine
from assistgate.policy.facts import (
    ACTIONS,
    AGENCIES,
    CRIME_STATUSES,
    JUDGES,
    WARRANT_KINDS,
)

PROFILE = "louisville-lmpd-2017"
DATE = "2018-01-15"
DEFAULT_N = 10_000
DEFAULT_REPEAT = 5
DEFAULT_SEED = 20170922
TARGET_US = 20.0

CEDAR_DIR = Path(__file__).resolve().parent / "cedar"
POLICY_FILE = CEDAR_DIR / f"{PROFILE}.cedar"
SCHEMA_FILE = CEDAR_DIR / f"{PROFILE}.cedarschema"
# The Cedar action that answers the overall decision (dispatch or decline).
DISPATCH_ACTION = "dispatch"

# Issuers that fit each warrant kind (facts.py refuses the other combinations).
_ISSUERS: dict[str, tuple[str, ...]] = {
    "none": ("unknown",),
    "judicial_criminal": ("unknown", *sorted(JUDGES)),
    "administrative_immigration": ("unknown", "immigration_officer"),
    "immigration_detainer": ("unknown", "immigration_officer"),
}

Request = dict[str, Any]


# --- the batch ------------------------------------------------------------------------------


def make_batch(n: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """Return `n` valid assessments as decoded JSON, the same for the same seed.

    Every fact is drawn uniformly among the values that fit together (facts.py refuses, for
    instance, a verified warrant of kind none). A section at its defaults is left out half
    of the time, so the parser's defaults are exercised too.
    """
    rng = random.Random(seed)
    batch: list[dict[str, Any]] = []
    for _ in range(n):
        kind = rng.choice(WARRANT_KINDS)
        has_warrant = kind != "none"
        warrant = {
            "kind": kind,
            "verified": has_warrant and rng.random() < 0.5,
            "immigration_offense": has_warrant and rng.random() < 0.5,
            "issued_by": rng.choice(_ISSUERS[kind]),
        }
        status = rng.choice(CRIME_STATUSES)
        crime = {
            "status": status,
            "immigration_offense": status != "none" and rng.random() < 0.5,
        }
        obj: dict[str, Any] = {
            "profile": PROFILE,
            "date": DATE,
            "agency": rng.choice(AGENCIES),
            "requested_actions": rng.sample(ACTIONS, rng.randint(1, 4)),
        }
        if has_warrant or rng.random() < 0.5:
            obj["warrant"] = warrant
        if status != "none" or rng.random() < 0.5:
            obj["crime"] = crime
        obj["emergency"] = {"clear_public_danger": rng.random() < 0.5}
        obj["violence_risk"] = {"articulated": rng.random() < 0.5}
        batch.append(obj)
    return batch


# --- Cedar ----------------------------------------------------------------------------------

# Where the facts travel in a Cedar request: in the request context (JSON, parsed by Cedar on
# every request), or as attributes of the Assessment entity (parsed once per assessment into a
# cedarpy.Entities handle, the Cedar counterpart of the engine's pre-parsed Assessment).
CONTEXT = "context"
ENTITY = "entity"
FACTS_IN = (CONTEXT, ENTITY)


def policy_text(facts_in: str = CONTEXT) -> str:
    """Return the Cedar policy equivalent to the louisville-lmpd-2017 profile.

    The file reads the facts from `context.`; for `facts_in="entity"` every `context.` is
    read as `resource.` (the policy has no other use of the word; the agreement check
    verifies the result like the original).
    """
    if facts_in not in FACTS_IN:
        raise ValueError(f"facts_in must be one of {FACTS_IN}")
    text = POLICY_FILE.read_text(encoding="utf-8")
    return text if facts_in == CONTEXT else text.replace("context.", "resource.")


def load_schema() -> Any:
    """Parse the Cedar schema of the facts once; return the `cedarpy.Schema` handle."""
    return cedarpy.Schema.from_str(SCHEMA_FILE.read_text(encoding="utf-8"))


def load_policies(text: str, *, schema: Any = None) -> Any:
    """Parse Cedar policy text once; return the `cedarpy.PolicySet` handle.

    With `schema`, the policies are first type-checked against it (ValueError if they fail).
    """
    if schema is not None:
        result = cedarpy.validate_policies(text, schema)
        if not result.validation_passed:
            problems = "; ".join(str(e) for e in result.errors)
            raise ValueError(
                f"Cedar policies do not validate against {SCHEMA_FILE.name}: {problems}"
            )
    return cedarpy.PolicySet.from_str(text)


def policies_without(policy_id: str, text: str) -> Any:
    """Return the policy set of `text` with the policy annotated `@id(policy_id)` removed.

    Used to show that the agreement check can fail: a policy set missing a rule must
    disagree with the engine somewhere in the batch.
    """
    tree = cedarpy.PolicySet.from_str(text).to_pst()
    kept = {
        pid: p for pid, p in tree.static_policies.items() if p.annotations.get("id") != policy_id
    }
    if len(kept) == len(tree.static_policies):
        raise KeyError(f"no Cedar policy annotated @id({policy_id!r})")
    return cedarpy.PolicySet.from_pst(dataclasses.replace(tree, static_policies=kept))


def empty_entities() -> Any:
    """An empty entity store (for facts in the context)."""
    return cedarpy.Entities.from_json_str("[]")


def cedar_facts(a: Assessment) -> dict[str, Any]:
    """The facts a profile may test, shaped as the schema's `Facts`."""
    return {
        "warrant": {
            "kind": a.warrant.kind,
            "verified": a.warrant.verified,
            "immigration_offense": a.warrant.immigration_offense,
            "issued_by": a.warrant.issued_by,
        },
        "crime": {"status": a.crime.status, "immigration_offense": a.crime.immigration_offense},
        "emergency": {"clear_public_danger": a.emergency.clear_public_danger},
        "violence_risk": {"articulated": a.violence_risk.articulated},
    }


@dataclass(frozen=True)
class CedarCall:
    """What one `is_authorized_batch` call for one assessment takes, prepared beforehand."""

    requests: list[Request]
    entities: Any


def cedar_call(
    a: Assessment,
    resource_id: str,
    *,
    facts_in: str = CONTEXT,
    actions: Sequence[str] | None = None,
    empty: Any = None,
    schema: Any = None,
) -> CedarCall:
    """One Cedar request per action (default: the requested actions) of one assessment.

    Entity uids are given as {"type", "id"} dicts (cedarpy parses them faster than the
    `Type::"id"` form). With the facts in the context, the context is JSON-encoded once and
    shared by the requests (cedarpy accepts a string and would otherwise encode a dict on
    every request), and the entity store is `empty`. With the facts on the entity, the
    Assessment entity is parsed (and checked against `schema`, if given) into its own
    Entities handle, and the requests carry no context.
    """
    if facts_in not in FACTS_IN:
        raise ValueError(f"facts_in must be one of {FACTS_IN}")
    principal = {"type": "Agency", "id": a.agency}
    resource = {"type": "Assessment", "id": resource_id}
    wanted = a.requested_actions if actions is None else actions
    if facts_in == CONTEXT:
        context = json.dumps(cedar_facts(a))
        return CedarCall(
            [
                {
                    "principal": principal,
                    "action": {"type": "Action", "id": act},
                    "resource": resource,
                    "context": context,
                }
                for act in wanted
            ],
            empty_entities() if empty is None else empty,
        )
    entity = [{"uid": resource, "attrs": cedar_facts(a), "parents": []}]
    return CedarCall(
        [
            {"principal": principal, "action": {"type": "Action", "id": act}, "resource": resource}
            for act in wanted
        ],
        cedarpy.Entities.from_json_str(json.dumps(entity), schema),
    )


@dataclass(frozen=True)
class Disagreement:
    """One assessment on which Cedar and the engine do not give the same answer."""

    index: int
    assessment: dict[str, Any]
    engine_decision: str
    engine_permitted: tuple[str, ...]
    cedar_dispatch: bool
    cedar_permitted: tuple[str, ...]
    cedar_errors: tuple[str, ...]

    def describe(self) -> str:
        lines = [
            f"assessment #{self.index}: {json.dumps(self.assessment, sort_keys=True)}",
            f"  assistgate: decision={self.engine_decision} "
            f"permitted={sorted(self.engine_permitted)}",
            f"  cedar:      dispatch={'allow' if self.cedar_dispatch else 'deny'} "
            f"permitted={sorted(self.cedar_permitted)}",
        ]
        if self.cedar_errors:
            lines.append(f"  cedar evaluation errors: {list(self.cedar_errors)}")
        return "\n".join(lines)


def find_disagreements(
    engine: PolicyEngine,
    policies: Any,
    batch: Sequence[dict[str, Any]],
    *,
    facts_in: str = CONTEXT,
    schema: Any = None,
    stop_after: int | None = None,
) -> list[Disagreement]:
    """Compare Cedar's answers with the engine's on every assessment of `batch`.

    They agree on an assessment when Cedar allows exactly the requested actions the engine
    permits, allows `dispatch` exactly when the engine decides dispatch, and reports no
    evaluation error (Cedar turns an erroring policy into a silent deny). With `schema`,
    Cedar also validates against it every request (facts in the context) or every
    Assessment entity (facts on the entity: the schema's request context, required for
    the context variant, does not fit their empty context).
    """
    empty = empty_entities()
    request_schema = schema if facts_in == CONTEXT else None
    found: list[Disagreement] = []
    for i, obj in enumerate(batch):
        a = engine.parse(obj)
        d = engine.evaluate(a)
        call = cedar_call(
            a,
            f"a{i}",
            facts_in=facts_in,
            empty=empty,
            schema=schema,
            actions=(*a.requested_actions, DISPATCH_ACTION),
        )
        results = cedarpy.is_authorized_batch(
            call.requests, policies, call.entities, request_schema
        )
        *per_action, dispatch = results
        cedar_permitted = tuple(
            act for act, r in zip(a.requested_actions, per_action, strict=True) if r.allowed
        )
        errors = tuple(str(e) for r in results for e in r.diagnostics.errors)
        if (
            set(cedar_permitted) != set(d.permitted_actions)
            or dispatch.allowed != (d.decision == DISPATCH)
            or errors
        ):
            found.append(
                Disagreement(
                    i,
                    obj,
                    d.decision,
                    d.permitted_actions,
                    dispatch.allowed,
                    cedar_permitted,
                    errors,
                )
            )
            if stop_after is not None and len(found) >= stop_after:
                break
    return found


# --- timing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """Seconds per run over the whole batch, for one implementation."""

    key: str
    label: str
    runs_s: tuple[float, ...]
    decisions: int
    reference: bool = False

    @property
    def best_us(self) -> float:
        return min(self.runs_s) / self.decisions * 1e6

    @property
    def median_us(self) -> float:
        return statistics.median(self.runs_s) / self.decisions * 1e6

    @property
    def per_second(self) -> float:
        return 1e6 / self.best_us


def time_runs(run: Callable[[], object], repeat: int) -> tuple[float, ...]:
    """Time `repeat` calls of `run` (after one untimed warm-up call)."""
    run()
    times: list[float] = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return tuple(times)


@dataclass(frozen=True)
class Benchmark:
    key: str
    label: str
    run: Callable[[], object]
    reference: bool = False


def benchmarks(
    engine: PolicyEngine, batch: Sequence[dict[str, Any]], policies: Mapping[str, Any], schema: Any
) -> list[Benchmark]:
    """The timed loops over the whole batch; `policies` maps each FACTS_IN to its PolicySet."""
    assessments = [engine.parse(obj) for obj in batch]
    empty = empty_entities()
    in_context = [cedar_call(a, f"a{i}", empty=empty) for i, a in enumerate(assessments)]
    on_entity = [cedar_call(a, f"a{i}", facts_in=ENTITY) for i, a in enumerate(assessments)]
    flat = [r for c in in_context for r in c.requests]
    evaluate, parse = engine.evaluate, engine.parse
    authorize, authorize_batch = cedarpy.is_authorized, cedarpy.is_authorized_batch
    ps_context, ps_entity = policies[CONTEXT], policies[ENTITY]

    def engine_evaluate() -> None:
        for a in assessments:
            evaluate(a)

    def engine_parse_evaluate() -> None:
        for obj in batch:
            evaluate(parse(obj))

    def cedar_entity_batch() -> None:
        for c in on_entity:
            authorize_batch(c.requests, ps_entity, c.entities)

    def cedar_context_batch() -> None:
        for c in in_context:
            authorize_batch(c.requests, ps_context, empty)

    def cedar_context_schema() -> None:
        for c in in_context:
            authorize_batch(c.requests, ps_context, empty, schema)

    def cedar_context_per_action() -> None:
        for c in in_context:
            for r in c.requests:
                authorize(r, ps_context, empty)

    def cedar_context_whole_batch() -> None:
        authorize_batch(flat, ps_context, empty)

    return [
        Benchmark("assistgate_evaluate", "assistgate evaluate (pre-parsed)", engine_evaluate),
        Benchmark(
            "assistgate_parse_evaluate",
            "assistgate parse + evaluate (from dicts)",
            engine_parse_evaluate,
        ),
        Benchmark(
            "cedar_entity_batch",
            "cedarpy facts pre-parsed as entity, batch/assess.",
            cedar_entity_batch,
            reference=True,
        ),
        Benchmark(
            "cedar_context_batch", "cedarpy facts in context, batch/assessment", cedar_context_batch
        ),
        Benchmark(
            "cedar_context_schema",
            "cedarpy facts in context + schema, batch/assess.",
            cedar_context_schema,
        ),
        Benchmark(
            "cedar_context_per_action",
            "cedarpy facts in context, 1 call per action",
            cedar_context_per_action,
        ),
        Benchmark(
            "cedar_context_whole_batch",
            "cedarpy facts in context, whole batch 1 call",
            cedar_context_whole_batch,
        ),
    ]


def measure_all(
    engine: PolicyEngine,
    batch: Sequence[dict[str, Any]],
    policies: Mapping[str, Any],
    schema: Any,
    repeat: int,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Measurement]:
    out: list[Measurement] = []
    for b in benchmarks(engine, batch, policies, schema):
        progress(f"timing {b.label} ...")
        out.append(Measurement(b.key, b.label, time_runs(b.run, repeat), len(batch), b.reference))
    return out


def cedar_internal_metrics(
    engine: PolicyEngine, batch: Sequence[dict[str, Any]], policies: Mapping[str, Any]
) -> dict[str, float]:
    """Cedar's own timings (mean µs per request) as cedarpy reports them, for context."""
    empty = empty_entities()
    out: dict[str, float] = {}
    for facts_in in FACTS_IN:
        results = []
        for i, obj in enumerate(batch):
            call = cedar_call(engine.parse(obj), f"a{i}", facts_in=facts_in, empty=empty)
            results += cedarpy.is_authorized_batch(call.requests, policies[facts_in], call.entities)
        for metric in ("authz_duration_micros", "build_request_duration_micros"):
            values = [float(r.metrics.get(metric, 0)) for r in results]
            out[f"{facts_in}_{metric}"] = round(statistics.mean(values), 2)
    return out


# --- report ---------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(n: int, repeat: int, seed: int, requested: int) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "cedarpy": importlib.metadata.version("cedarpy"),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_available": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "batch_size": n,
        "requested_actions": requested,
        "repeat": repeat,
        "seed": seed,
        "profile": PROFILE,
        "date": DATE,
    }


def verdict(measurements: Sequence[Measurement]) -> dict[str, Any]:
    """Does `engine.evaluate` take under TARGET_US per decision and beat the Cedar reference?"""
    ref = next(m for m in measurements if m.reference)
    engine = next(m for m in measurements if m.key == "assistgate_evaluate")
    under = engine.best_us < TARGET_US
    faster = engine.best_us < ref.best_us
    return {
        "us_per_decision": TARGET_US,
        "engine_us": round(engine.best_us, 3),
        "cedar_reference_us": round(ref.best_us, 3),
        "under_target": under,
        "faster_than_cedar": faster,
        "met": under and faster,
    }


def results_json(
    env: dict[str, Any],
    checked: int,
    measurements: Sequence[Measurement],
    cedar_metrics: Mapping[str, float],
) -> dict[str, Any]:
    ref = next(m for m in measurements if m.reference)
    return {
        **env,
        "agreement": {
            "assessments_checked": checked,
            "disagreements": 0,
            "cedar_variants": [how for _, _, how in CHECKED_VARIANTS],
        },
        "reference": ref.key,
        "results": [
            {
                "key": m.key,
                "label": m.label,
                "us_per_decision_best": round(m.best_us, 3),
                "us_per_decision_median": round(m.median_us, 3),
                "decisions_per_second": round(m.per_second),
                "speed_vs_cedar": round(ref.best_us / m.best_us, 3),
                "runs_s": [round(t, 6) for t in m.runs_s],
            }
            for m in measurements
        ],
        "cedar_internal_us_per_request": dict(cedar_metrics),
        "target": verdict(measurements),
    }


def render_table(
    env: dict[str, Any], measurements: Sequence[Measurement], cedar_metrics: Mapping[str, float]
) -> str:
    ref = next(m for m in measurements if m.reference)
    lines = [
        f"Python {env['python']} ({env['python_implementation']}), cedarpy {env['cedarpy']}",
        f"machine: {env['cpu']}, {env['cores']} cores ({env['cores_available']} available), "
        f"{env['platform']}",
        f"batch: {env['batch_size']:,} assessments ({env['requested_actions']:,} requested "
        f"actions), profile {env['profile']} on {env['date']}, seed {env['seed']}; "
        f"best and median of {env['repeat']} runs",
        "agreement: Cedar (facts in context, in context + schema, on the entity) and "
        "assistgate give the same answer on every assessment",
        "",
    ]
    head = (
        f"{'implementation':<50} {'µs/decision':>11} {'median':>8} {'decisions/s':>12} "
        f"{'vs Cedar':>9}"
    )
    lines += [head, "-" * len(head)]
    for m in measurements:
        lines.append(
            f"{m.label:<50} {m.best_us:>11.2f} {m.median_us:>8.2f} "
            f"{m.per_second:>12,.0f} {ref.best_us / m.best_us:>8.2f}x"
        )
    lines += [
        "",
        "µs/decision: best run / batch size; one decision = all the requested actions of one "
        "assessment. decisions/s: from the best run.",
        f"vs Cedar: time of the Cedar reference ({ref.label.strip()}) / this time; "
        "above 1 = faster than Cedar.",
    ]
    if cedar_metrics:
        lines.append(
            "Cedar's own timings, mean µs per request (cedarpy metrics): facts in context: "
            f"authorize {cedar_metrics['context_authz_duration_micros']:.1f}, "
            f"build request {cedar_metrics['context_build_request_duration_micros']:.1f}; "
            f"facts on the entity: authorize {cedar_metrics['entity_authz_duration_micros']:.1f}"
            f", build request {cedar_metrics['entity_build_request_duration_micros']:.1f}."
        )
    v = verdict(measurements)
    lines += [
        "",
        f"target (< {TARGET_US:g} µs per decision and faster than Cedar): "
        f"{'MET' if v['met'] else 'NOT MET'} -- assistgate evaluate {v['engine_us']:.2f} µs "
        f"({'under' if v['under_target'] else 'over'} {TARGET_US:g} µs), "
        f"{v['cedar_reference_us'] / v['engine_us']:.1f}x the speed of the Cedar reference "
        f"({v['cedar_reference_us']:.2f} µs)",
    ]
    return "\n".join(lines)


# --- command line ---------------------------------------------------------------------------


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected a positive integer")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="policy_bench.py",
        description="Time assistgate's policy engine against an equivalent Cedar policy "
        "(cedarpy), after checking that both give the same answer on every "
        "assessment of the batch.",
    )
    p.add_argument(
        "--n",
        type=_positive,
        default=DEFAULT_N,
        help=f"number of assessments in the batch (default {DEFAULT_N})",
    )
    p.add_argument(
        "--repeat",
        type=_positive,
        default=DEFAULT_REPEAT,
        help=f"timed runs per implementation; best and median are reported "
        f"(default {DEFAULT_REPEAT})",
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"seed of the batch (default {DEFAULT_SEED})"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the results as JSON instead of a table (progress goes to stderr)",
    )
    return p.parse_args(argv)


# The Cedar variants the agreement check covers: (facts_in, with schema, description).
CHECKED_VARIANTS = (
    (CONTEXT, False, "facts in context"),
    (CONTEXT, True, "facts in context, with schema"),
    (ENTITY, True, "facts on the entity, with schema"),
)


def check_all(
    engine: PolicyEngine,
    batch: Sequence[dict[str, Any]],
    policies: Mapping[str, Any],
    schema: Any,
    progress: Callable[[str], None] = lambda _: None,
) -> str | None:
    """Run the agreement check for every Cedar variant timed; return an error or None."""
    for facts_in, with_schema, how in CHECKED_VARIANTS:
        sch = schema if with_schema else None
        progress(f"checking agreement on {len(batch):,} assessments ({how}) ...")
        bad = find_disagreements(engine, policies[facts_in], batch, facts_in=facts_in, schema=sch)
        if bad:
            return (
                f"Cedar ({POLICY_FILE.name}, {how}) and assistgate disagree on "
                f"{len(bad):,} of {len(batch):,} assessments; first differing case:\n"
                f"{bad[0].describe()}"
            )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    batch = make_batch(args.n, args.seed)
    engine = PolicyEngine()
    schema = load_schema()
    policies = {f: load_policies(policy_text(f), schema=schema) for f in FACTS_IN}

    error = check_all(engine, batch, policies, schema, progress)
    if error is not None:
        print(f"error: {error}", file=sys.stderr)
        return 1

    measurements = measure_all(engine, batch, policies, schema, args.repeat, progress)
    cedar_metrics = cedar_internal_metrics(engine, batch, policies)
    requested = sum(len(obj["requested_actions"]) for obj in batch)
    env = environment(args.n, args.repeat, args.seed, requested)
    if args.json:
        print(json.dumps(results_json(env, len(batch), measurements, cedar_metrics), indent=2))
    else:
        print(render_table(env, measurements, cedar_metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
