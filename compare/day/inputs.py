"""What the day simulator takes: service-time distributions, DynamoDB round trips and per-call
latencies, Lambda init — from a comparison run's results.json when given, else from the sourced
defaults in the overheads file (compare/aws_model/overheads-*.json)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compare.aws_model.distributions import Distribution, LogNormal, from_spec
from compare.aws_model.overheads import Overheads

log = logging.getLogger(__name__)
RUNTIMES = ("lambda", "fargate", "ec2")
CALLS = ("GetItem", "PutItem", "UpdateItem", "Query", "TransactWriteItems")
#: p99/median of the measured Lambda Duration (docs/benchmarks.md): the spread given to a mean.
SPREAD = 1.8


@dataclass(frozen=True)
class DayInputs:
    overheads: Overheads
    cpu_ms: dict[str, Distribution]
    #: boto3 CPU per DynamoDB call, per runtime (zero where the measured CPU already includes it)
    client_cpu_ms: dict[str, Distribution]
    round_trips: dict[str, dict[str, float]]
    call_ms: dict[str, Distribution]
    init_ms: tuple[Distribution, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)


def _row(name: str, value: Any, source: str) -> dict[str, Any]:
    return {"name": name, "value": value, "source": source}


def defaults(overheads: Overheads) -> DayInputs:
    """Every input from the overheads file, each listed with its kind and source."""
    rows: list[dict[str, Any]] = []

    def take(name: str) -> Distribution:
        fig = overheads[name]
        rows.append(fig.to_input())
        return fig.distribution()

    cpu = {r: take(f"service.cpu_ms.{r}") for r in RUNTIMES}
    client_cpu = take("service.dynamodb_client_cpu_ms")
    client = dict.fromkeys(RUNTIMES, client_cpu)
    calls = {c: take(f"dynamodb.{c}.ms") for c in CALLS}
    trips_fig = overheads["dynamodb.round_trips"]
    rows.append(trips_fig.to_input())
    init = (take("lambda.init.runtime_ms"), take("lambda.init.app_ms"))
    trips = {op: {k: float(v) for k, v in calls_.items()} for op, calls_ in trips_fig.value.items()}
    return DayInputs(overheads, cpu, client, trips, calls, init, rows)


def _num(node: Any, *keys: str) -> float | None:
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def from_results(path: Path, base: DayInputs) -> DayInputs:
    """The ONE adapter to a comparison run's results.json (its format is being typed elsewhere):
    read defensively, falling back to ``base`` for anything absent.

    Per runtime, in order of preference: ``cpu_ms_per_request.dynamodb`` (CPU on the deployed
    store path, client included), ``cpu_ms_per_request.sqlite`` (+ the client's CPU per call from
    the defaults), ``reference`` latency samples or p50/p99 (the local wall time: an upper bound
    of the service time). Lambda's ``cold_start.request_path_ms`` replaces the app's init, and
    ``dynamodb_round_trips`` the counted round trips.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    runtimes = data.get("runtimes", {}) if isinstance(data, dict) else {}
    cpu = dict(base.cpu_ms)
    client = dict(base.client_cpu_ms)
    rows = list(base.rows)
    init = base.init_ms
    trips = {op: dict(c) for op, c in base.round_trips.items()}
    where = f"measured here ({path.name})"
    for name in RUNTIMES:
        node = runtimes.get(name)
        if not isinstance(node, dict):
            continue
        dyn = _num(node, "cpu_ms_per_request", "dynamodb")
        sql = _num(node, "cpu_ms_per_request", "sqlite")
        ref = node.get("reference") if isinstance(node.get("reference"), dict) else {}
        samples = ref.get("samples_ms") or ref.get("samples")
        if dyn:
            cpu[name] = LogNormal.from_percentile(dyn, dyn * SPREAD, "p99")
            client[name] = from_spec(0.0)  # measured on the DynamoDB path: boto3 included
            rows.append(_row(f"service.cpu_ms.{name}", f"{dyn:g} (DynamoDB path)", where))
        elif sql:
            cpu[name] = LogNormal.from_percentile(sql, sql * SPREAD, "p99")
            rows.append(_row(f"service.cpu_ms.{name}", f"{sql:g} (SQLite path)", where))
        elif isinstance(samples, list) and samples:
            cpu[name] = from_spec([float(s) for s in samples])
            rows.append(_row(f"service.cpu_ms.{name}", f"{len(samples)} reference samples", where))
        elif _num(ref, "p50_ms") and _num(ref, "p99_ms"):
            p50, p99 = _num(ref, "p50_ms"), _num(ref, "p99_ms")
            assert p50 is not None and p99 is not None
            cpu[name] = LogNormal.from_percentile(p50, max(p99, p50), "p99")
            rows.append(_row(f"service.cpu_ms.{name}", f"reference p50 {p50:g}, p99 {p99:g}", where))
        if name == "lambda":
            cold = _num(node, "cold_start", "request_path_ms")
            if cold:
                init = (base.init_ms[0], from_spec(cold))
                rows.append(_row("lambda.init.app_ms", cold, where))
        measured_trips = node.get("dynamodb_round_trips")
        if isinstance(measured_trips, dict):
            for op, count in measured_trips.items():
                if isinstance(count, int | float) and op in trips and sum(trips[op].values()) != count:
                    log.warning(
                        "%s: %s makes %s DynamoDB calls, the defaults count %s", name, op, count, trips[op]
                    )
    return DayInputs(base.overheads, cpu, client, trips, base.call_ms, init, rows)
