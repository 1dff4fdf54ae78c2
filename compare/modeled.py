"""What a run's measurements imply on AWS: a projected latency per runtime and the café's day.

Both are *modeled from measured inputs*, never measurements: the service time measured here under
each runtime's deployed envelope, plus what AWS adds (API Gateway or the ALB, DynamoDB round trips,
start-up times) from the sourced overheads file (compare/aws_model), combined by Monte Carlo; and
one business day of the cost profile simulated on each runtime as deployed (compare/day).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from compare.aws_model import Component, LogNormal, Overheads, hops_for, project_mix
from compare.day.inputs import defaults, from_results_data
from compare.day.simulate import simulate_day
from compare.day.traffic import cafe_mix
from compare.local.runtimes import RUNTIMES
from compare.results import DayTotals, Projection, ProjectionInput, RunResults, RuntimeResult, to_json

SEED = 20261202


def service_component(name: str, entry: RuntimeResult) -> Component | None:
    """The runtime's own time per request, measured here under its envelope (reference window on
    SQLite, so DynamoDB calls are not in it twice), as a lognormal through its p50 and p99."""
    reference = entry.reference
    if reference is None or reference.requests == 0 or reference.latency_ms.p50 <= 0:
        return None
    p50, p99 = reference.latency_ms.p50, max(reference.latency_ms.p99, reference.latency_ms.p50 * 1.01)
    envelope = entry.envelope
    shape = (
        f"{envelope.cpu_vcpu:g} vCPU, {envelope.memory_mb} MB, "
        f"{'enforced' if envelope.enforced else 'NOT enforced'}"
        if envelope is not None
        else "no envelope"
    )
    return Component(
        f"{name} service time (reference window, SQLite)",
        LogNormal.from_percentile(p50, p99, "p99"),
        f"measured here under the deployed envelope ({shape}): p50 {p50:.2f} ms, p99 {p99:.2f} ms",
        value={"dist": "lognormal", "median": round(p50, 3), "p99": round(p99, 3)},
    )


def projection(
    name: str, entry: RuntimeResult, overheads: Overheads, mix: Mapping[str, float] | None = None
) -> Projection | None:
    """None where there is nothing to project from, or for a target that is not one of the three
    runtimes (remote mode may drive any URL: its hops on AWS are unknown). `mix` is the operation
    mix the run sent (results.workload.by_operation); the default profile's when not given."""
    service = service_component(name, entry)
    if service is None or name not in RUNTIMES:
        return None
    projected = project_mix(
        service,
        hops_for(name, overheads, api="rest", scale_out=False),
        dict(mix) if mix else cafe_mix(),
        overheads["dynamodb.round_trips"].value,
        overheads,
        seed=SEED,
    )
    inputs = tuple(
        ProjectionInput(str(row["name"]), _plain(row["value"]), str(row["source"]))
        for row in projected["inputs"]  # type: ignore[attr-defined]
    )
    return Projection(float(projected["p50_ms"]), float(projected["p99_ms"]), inputs)  # type: ignore[arg-type]


def _plain(value: Any) -> Any:
    """A JSON-safe copy (the distributions describe themselves as dicts and tuples)."""
    return json.loads(json.dumps(value, default=str))


def with_projections(results: RunResults, overheads: Overheads) -> RunResults:
    runtimes = {
        name: replace(entry, projection=projection(name, entry, overheads, results.workload.by_operation))
        for name, entry in results.runtimes.items()
    }
    return replace(results, runtimes=runtimes)


def day_of(results: RunResults, overheads: Overheads, profile: Path) -> dict[str, Any]:
    """The profile's business day simulated with this run's measured inputs (`make day`'s JSON)."""
    inputs = from_results_data(to_json(results), defaults(overheads), "this run")
    raw = json.loads(profile.read_text(encoding="utf-8"))
    return simulate_day(raw, inputs, seed=SEED)


def with_day(results: RunResults, day: Mapping[str, Any], chart: str | None) -> RunResults:
    runtimes = dict(results.runtimes)
    for name, simulated in day.get("runtimes", {}).items():
        if name in runtimes:
            totals = simulated["day"]
            runtimes[name] = replace(
                runtimes[name],
                day=DayTotals(
                    requests=int(totals["requests"]),
                    p99_ms=None if totals.get("p99_ms") is None else float(totals["p99_ms"]),
                    cold_start_share=float(totals.get("cold_start_share") or 0.0),
                    usd=float(totals["usd"]),
                ),
            )
    return replace(results, runtimes=runtimes, day_chart=chart)
