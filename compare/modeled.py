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

from compare.aws_model import Component, Constant, LogNormal, Overheads, hops_for, project_mix
from compare.day.inputs import defaults, from_results_data
from compare.day.simulate import simulate_day
from compare.day.traffic import cafe_mix
from compare.local.runtimes import RUNTIMES
from compare.results import (
    DayTotals,
    DeployedPathResult,
    ModelCheck,
    Projection,
    ProjectionInput,
    RunResults,
    RuntimeResult,
    to_json,
)

SEED = 20261202
# The projection and the emulated deployed path agree when both p50 and p99 are within this share.
MODEL_TOLERANCE = 0.20


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


def dynamodb_client_component(name: str, entry: RuntimeResult) -> list[Component]:
    """The DynamoDB client's own CPU per request (boto3 building, signing and parsing each call),
    which the service time measured on SQLite does not hold: the runtime's server CPU per request
    on DynamoDB less on SQLite, both measured here. Empty where either was not measured."""
    cpu = entry.cpu_ms_per_request
    if cpu is None or cpu.dynamodb is None or cpu.sqlite is None or cpu.dynamodb <= cpu.sqlite:
        return []
    extra = cpu.dynamodb - cpu.sqlite
    return [
        Component(
            f"{name} DynamoDB client CPU",
            Constant(round(extra, 3)),
            f"measured here: server CPU per request {cpu.dynamodb:g} ms on DynamoDB against "
            f"{cpu.sqlite:g} ms on SQLite (the service time above is SQLite's)",
            value=round(extra, 3),
        )
    ]


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
        [*dynamodb_client_component(name, entry), *hops_for(name, overheads, api="rest", scale_out=False)],
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
    mix = results.workload.by_operation
    runtimes = {}
    for name, entry in results.runtimes.items():
        entry = replace(entry, projection=projection(name, entry, overheads, mix))
        check = model_check(name, entry, overheads, mix)
        if check is not None and entry.deployed_path is not None:
            entry = replace(entry, deployed_path=replace(entry.deployed_path, model=check))
        runtimes[name] = entry
    return replace(results, runtimes=runtimes)


def calls_per_request(mix: Mapping[str, float], trips: Mapping[str, Mapping[str, float]]) -> float:
    """DynamoDB calls per request of a mix (the overheads' round trips per operation)."""
    total = sum(mix.values()) or 1.0
    return sum(share * sum(trips.get(op, {}).values()) for op, share in mix.items()) / total


def model_check(
    name: str,
    entry: RuntimeResult,
    overheads: Overheads,
    mix: Mapping[str, float] | None = None,
) -> ModelCheck | None:
    """The projection without the front door (the emulation has none) against the deployed path
    emulated at the reference rate; where they differ by more than MODEL_TOLERANCE, the input that
    differs most, from what the run measured of each."""
    path = entry.deployed_path
    service = service_component(name, entry)
    if path is None or service is None or name not in RUNTIMES or path.reference is None:
        return None
    the_mix = dict(mix) if mix else cafe_mix()
    trips = overheads["dynamodb.round_trips"].value
    projected = project_mix(
        service, dynamodb_client_component(name, entry), the_mix, trips, overheads, seed=SEED
    )
    m50, m99 = float(projected["p50_ms"]), float(projected["p99_ms"])  # type: ignore[arg-type]
    e50, e99 = path.p50_ms, path.p99_ms
    agrees = abs(e50 - m50) <= MODEL_TOLERANCE * m50 and abs(e99 - m99) <= MODEL_TOLERANCE * m99
    # What each input measured here, as milliseconds per request the projection did not have.
    found: list[tuple[float, str]] = []
    modeled_calls = calls_per_request(the_mix, trips)
    store = path.reference_store
    requests = path.reference.requests
    calls = store.calls / requests if store is not None and requests else None
    if store is not None and not store.kept_up:
        found.append(
            (
                store.excess_p99_ms,
                f"the store: moto answered later than its draws (lateness p99 {store.excess_p99_ms:g} ms)",
            )
        )
    p50_off = abs(e50 - m50) > MODEL_TOLERANCE * m50
    p99_off = abs(e99 - m99) > MODEL_TOLERANCE * m99
    # Fewer or more calls per request move every request, so the median: an input for a gap there.
    if p50_off and calls is not None and abs(calls - modeled_calls) > 0.1 * modeled_calls:
        per_call = overheads["dynamodb.GetItem.ms"].typical()
        found.append(
            (
                abs(calls - modeled_calls) * per_call,
                f"dynamodb.round_trips: {calls:.2f} calls per request at the store, {modeled_calls:.2f} "
                "in the overheads file for this mix",
            )
        )
    if calls and path.hop_ms > 0 and e50 < m50 and p50_off:
        # The delayed store takes the hop a boto3 client measured (client_hop_ms) off each draw; where
        # the emulation is the faster, that correction is the input nearest to explaining it.
        found.append(
            (
                path.hop_ms * calls,
                f"the local hop to moto taken off each draw: {path.hop_ms:.2f} ms per call (a boto3 "
                f"client's, beyond moto's hold, less its own CPU) × {calls:.2f} calls; the emulation is the "
                "faster, so at most this much of each draw went missing if the runtimes' calls hop quicker",
            )
        )
    server = path.reference.server_cpu
    slower = [e - m for e, m, off in ((e50, m50, p50_off), (e99, m99, p99_off)) if off and e > m]
    if server is not None and path.cpu_quota_vcpu and slower:  # queueing only ever slows
        share = server.share_of_one_core / path.cpu_quota_vcpu
        if share >= 0.6:
            found.append(
                (
                    max(slower),
                    f"queueing: the runtime's CPU at {100 * share:.0f} % of its quota at the reference "
                    "rate (the projection adds no queueing)",
                )
            )
    found.sort(key=lambda item: -item[0])
    if path.steady is False:  # the emulated figures are a transient: that comes before any input
        found.insert(
            0,
            (
                abs(e50 - m50),
                "not steady: the emulated reference window is a transient (the runtime had not "
                "settled, or something other than the café answered in it: the deployed path's bound "
                "says which), not the steady figure the projection stands for",
            ),
        )
    disagrees = ""
    if not agrees:
        disagrees = found[0][1] if found else _unexplained(path, p50_off, e99, m99)
    return ModelCheck(
        modeled_p50_ms=round(m50, 3),
        modeled_p99_ms=round(m99, 3),
        emulated_p50_ms=round(e50, 3),
        emulated_p99_ms=round(e99, 3),
        tolerance=MODEL_TOLERANCE,
        agrees=agrees,
        disagrees=disagrees,
        evidence=tuple(f"{text} (≈ {ms:.1f} ms per request)" for ms, text in found),
    )


def _unexplained(path: DeployedPathResult, p50_off: bool, e99: float, m99: float) -> str:
    """No input measured here explains the gap: say what is left."""
    if p50_off or path.reference is None:
        return "the service time (measured on SQLite, not under this load)"
    n = path.reference.requests
    return (
        f"the tail alone (p99 {e99:.1f} ms against {m99:.1f} ms projected, the medians within "
        f"{100 * MODEL_TOLERANCE:.0f} %, over {n} requests): the projection's DynamoDB client CPU is a "
        "constant and its service time's tail was measured on SQLite, while on the DynamoDB path the "
        "runtime's own time per request has a tail of its own under load (threads sharing one "
        "interpreter, the CPU quota's periods), not measured apart here"
    )


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
