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
CALLS = ("GetItem", "PutItem", "UpdateItem", "Query", "TransactWriteItems", "BatchGetItem")
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

    Service time per runtime, first found wins: ``cpu_ms_per_request.dynamodb`` (CPU on the
    deployed store path, boto3 included), ``cpu_ms_per_request.sqlite``, the reference window's
    ``server_cpu.ms_per_request.total`` (Fargate, EC2) or Lambda's REPORT ``duration_ms`` median/p99,
    then the reference latency (``samples_ms`` or ``latency_ms`` p50/p99: local wall time, an upper
    bound). Lambda's ``cold_start.request_path_ms`` (else the REPORT lines' Init Duration median)
    replaces the app's init. ``dynamodb_round_trips`` is checked against the counted round trips.
    """
    return from_results_data(json.loads(path.read_text(encoding="utf-8")), base, path.name)


def from_results_data(data: Any, base: DayInputs, name: str = "this run") -> DayInputs:
    """`from_results` on results already in memory (the comparison, before it writes them)."""
    runtimes = data.get("runtimes", {}) if isinstance(data, dict) else {}
    cpu = dict(base.cpu_ms)
    client = dict(base.client_cpu_ms)
    rows = list(base.rows)
    init = base.init_ms
    where = f"measured here ({name})"
    for name in RUNTIMES:
        node = runtimes.get(name) if isinstance(runtimes, dict) else None
        if not isinstance(node, dict):
            continue
        ref_node = node.get("reference")
        ref: dict[str, Any] = ref_node if isinstance(ref_node, dict) else {}
        reports = ref.get("lambda_reports") or (node.get("lambda_reports") or {}).get("summary") or {}
        samples = ref.get("samples_ms")
        latency = ref.get("latency_ms") if isinstance(ref.get("latency_ms"), dict) else {}
        found: tuple[float, float | None, str] | None = None
        if dyn := _num(node, "cpu_ms_per_request", "dynamodb"):
            found = (dyn, None, "CPU per request, DynamoDB path")
            client[name] = from_spec(0.0)  # boto3's CPU is in the measurement
        elif sql := _num(node, "cpu_ms_per_request", "sqlite"):
            found = (sql, None, "CPU per request, SQLite path")
        elif total := _num(ref, "server_cpu", "ms_per_request", "total"):
            found = (total, None, "server CPU per request, reference window")
        elif med := _num(reports, "duration_ms", "median"):
            found = (med, _num(reports, "duration_ms", "p99"), "Lambda Duration (REPORT lines)")
        elif isinstance(samples, list) and samples:
            cpu[name] = from_spec([float(v) for v in samples])
            rows.append(_row(f"service.cpu_ms.{name}", f"{len(samples)} reference latency samples", where))
        elif (p50 := _num(latency, "p50")) and (p99 := _num(latency, "p99")):
            found = (p50, p99, "reference latency p50/p99 (wall time: an upper bound)")
        if found:
            median, p99_ms, what = found
            upper = max(p99_ms or median * SPREAD, median)
            cpu[name] = LogNormal.from_percentile(median, upper, "p99")
            rows.append(_row(f"service.cpu_ms.{name}", f"{what}: median {median:g}, p99 {upper:g} ms", where))
        if name == "lambda":
            cold = _num(node, "cold_start", "request_path_ms") or _num(reports, "init_ms", "median")
            if cold:
                init = (base.init_ms[0], from_spec(cold))
                rows.append(_row("lambda.init.app_ms", cold, where))
        measured_trips = node.get("dynamodb_round_trips")
        if isinstance(measured_trips, dict):
            for op, count in measured_trips.items():
                counted = sum(base.round_trips.get(op, {}).values())
                if isinstance(count, int | float) and op in base.round_trips and counted != count:
                    log.warning(
                        "%s: %s makes %s DynamoDB calls, the defaults count %s", name, op, count, counted
                    )
    return DayInputs(base.overheads, cpu, client, base.round_trips, base.call_ms, init, rows)
