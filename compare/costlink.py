"""The run's measurements priced by the cost model (compare.cost).

One of the cost model's profiles gives the café's business inputs; the figures this run measured
replace the profile's own (each labelled "measured here" or "measured on AWS" in the profile's
provenance); compare.cost models the monthly bill and draws the break-even chart. When the profile
or the prices cannot be used, the section says why instead: the latency report never fails on it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from compare.cost import breakeven_chart, estimate
from compare.cost.prices import PriceBook, PriceError
from compare.cost.profile import DEPLOYED_PATH_SCALED, PROJECTED, ProfileError
from compare.results import AWS_LABEL, MEASURED_HERE, CostSection, RunResults, RuntimeResult, UnitSizing

BASE_PROFILE = Path(__file__).with_name("cost") / "profiles" / "small-cafe.json"


class SloError(ValueError):
    """The cost profile gives no usable `slo_p99_ms` (and none was given on the command line)."""


def profile_slo(path: Path) -> float:
    """The cost profile's own p99 SLO (`slo_p99_ms`), read from its JSON as it is."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SloError(f"cannot read the cost profile {path} for its SLO ({exc}); give --slo-p99-ms") from exc
    value = data.get("slo_p99_ms") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise SloError(f"the cost profile {path} has no slo_p99_ms (a positive number); give --slo-p99-ms")
    return float(value)


def _put(profile: dict[str, Any], key: str, value: Any, label: str) -> None:
    node = profile
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    profile.setdefault("provenance", {})[key] = label


def _unit_vcpu(name: str, section: dict[str, Any], region: str) -> float:
    """The vCPU of the unit a profile prices: the Fargate task's, or the instance type's."""
    if name == "fargate":
        return float(section.get("vcpu", 0.25))
    instance_type = str(section.get("instance_type", "t4g.small"))
    return float(PriceBook.load(region).instance_type(instance_type)["vcpu"])


def _deployed_capacity(name: str, entry: RuntimeResult, base: dict[str, Any]) -> tuple[float, str] | None:
    """A task's or an instance's deployed-path capacity for the cost model's sizing, and where it
    comes from: only a bound of the runtime itself (CPU or concurrency: not the local store or the
    generator). A profile that prices another unit size gets it scaled by vCPU: a CPU bound grows
    with the unit's vCPU, and so does a concurrency bound (one worker per vCPU, its threads each)."""
    path = entry.deployed_path
    if name not in ("fargate", "ec2") or path is None or path.capacity_rps is None:
        return None
    if not path.limit_found or path.limited_by not in ("cpu", "concurrency"):
        return None
    envelope = entry.envelope
    if envelope is None or not envelope.enforced or not envelope.cpu_vcpu:
        return None
    section = base.get(name, {}) or {}
    try:
        unit = _unit_vcpu(name, section, str(base.get("region", "us-east-1")))
    except PriceError:
        return None  # an instance type the snapshot lacks: the estimate itself says so
    ratio = unit / envelope.cpu_vcpu
    if abs(ratio - 1.0) < 1e-6:
        return path.capacity_rps, path.source
    return round(path.capacity_rps * ratio, 1), DEPLOYED_PATH_SCALED


def measured_profile(results: RunResults, base: dict[str, Any]) -> dict[str, Any]:
    """`base` with every figure this run measured put in, labelled with where it was measured."""
    label = AWS_LABEL if results.mode == "remote" else MEASURED_HERE
    profile = copy.deepcopy(base)
    profile["description"] = f"{base.get('description', '')} Measured figures from the latency run ({label})."
    # The SLO the run was judged against: the profile's own stays as it is; one given on the command
    # line replaces it, labelled so (results.json's `slo.source` says the same).
    slo = results.slo_setting
    if not slo.source.startswith("profile "):
        _put(profile, "slo_p99_ms", slo.p99_ms, "command line")
    for name, entry in results.runtimes.items():
        reference = entry.reference
        deployed = entry.cpu_ms_per_request
        # The recommendation's latency is the AWS projection when there is one, never a local p99
        # presented as what customers would see on AWS.
        if entry.projection is not None:
            _put(profile, f"p99_ms.{name}", round(entry.projection.p99_ms, 2), PROJECTED)
        elif reference is not None:
            _put(profile, f"p99_ms.{name}", round(reference.latency_ms.p99, 2), label)
        # CPU and billed duration on the deployed store path (DynamoDB) when measured: SQLite
        # costs far less CPU than boto3, so it would understate every bill.
        if name in ("fargate", "ec2"):
            if deployed is not None and deployed.dynamodb is not None:
                _put(profile, f"{name}.cpu_ms_per_request", deployed.dynamodb, label)  # the DynamoDB path
            elif reference is not None and reference.server_cpu is not None:
                cpu = round(reference.server_cpu.ms_per_request.total, 3)
                _put(profile, f"{name}.cpu_ms_per_request", cpu, label)  # SQLite: no DynamoDB window
        reports = entry.billed
        if name == "lambda" and deployed is not None and deployed.billed_ms_dynamodb is not None:
            _put(profile, "lambda.avg_billed_ms", deployed.billed_ms_dynamodb, label)  # the DynamoDB path
        elif name == "lambda" and reports is not None and reports.invocations:
            warm = reports.billed_warm_ms.mean or reports.billed_ms.mean
            _put(profile, "lambda.avg_billed_ms", round(warm, 2), label)  # SQLite: no DynamoDB window
        if name == "lambda" and reports is not None and reports.memory_size_mb:
            _put(profile, "lambda.memory_mb", reports.memory_size_mb, label)
        capacity = _deployed_capacity(name, entry, base)
        if capacity is not None:
            key = "fargate.capacity_rps_per_task" if name == "fargate" else "ec2.capacity_rps_per_instance"
            _put(profile, key, capacity[0], capacity[1])
        init = entry.cold_start.init_ms if entry.cold_start is not None else None
        if name == "lambda" and init is not None and init.n:
            _put(profile, "lambda.init_ms", round(init.median, 1), label)
    return profile


def unit_sizing(
    profile_name: str, name: str, profile: dict[str, Any], estimate_doc: dict[str, Any]
) -> UnitSizing:
    """One profile's servers of one runtime at the peak hour, as the cost model sized them."""
    priced = estimate_doc["runtimes"][name]
    sizing = priced["sizing"]
    key = "capacity_rps_per_task" if name == "fargate" else "capacity_rps_per_instance"
    capacity = (profile.get(name) or {}).get(key)
    source = str(profile.get("provenance", {}).get(f"{name}.{key}", ""))
    binding = next((n.split(": ", 1)[-1] for n in priced.get("notes", []) if "on the deployed path" in n), "")
    if name == "fargate":
        unit, count = (
            f"{float(profile.get('fargate', {}).get('vcpu', 0.25)):g} vCPU task",
            sizing["tasks_peak"],
        )
    else:
        unit, count = str(sizing["instance_type"]), sizing["instances_peak"]
    return UnitSizing(
        profile=profile_name,
        runtime=name,
        unit=unit,
        units_peak=int(count),
        capacity_rps=None if capacity is None else float(capacity),
        capacity_source=source or "CPU alone (no bound of the runtime itself measured for it)",
        binding=binding or "CPU alone",
    )


def profiles_sizing(
    results: RunResults,
    profiles: Sequence[Path],
    estimated: Mapping[Path, tuple[dict[str, Any], dict[str, Any]]] | None = None,
) -> tuple[UnitSizing, ...]:
    """Every profile's Fargate tasks and EC2 instances at its peak, with this run's figures
    (`estimated`: profiles already priced, as (measured profile, estimate), not priced again)."""
    out: list[UnitSizing] = []
    for path in profiles:
        if estimated is not None and path in estimated:
            profile, doc = estimated[path]
        else:
            profile = measured_profile(results, json.loads(path.read_text(encoding="utf-8")))
            try:
                doc = estimate(profile)
            except (ProfileError, PriceError, OSError, ValueError):
                continue  # a profile the model refuses is reported by `make cost`, not sized here
        out += [unit_sizing(path.stem, name, profile, doc) for name in ("fargate", "ec2")]
    return tuple(out)


def cost_section(results: RunResults, out_dir: Path, base_profile: Path = BASE_PROFILE) -> CostSection:
    """The modeled bill for `base_profile` with this run's figures, and its chart in `out_dir`."""
    try:
        base = json.loads(base_profile.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return CostSection(available=False, note=f"no base cost profile at {base_profile} ({exc})")
    profile = measured_profile(results, base)
    try:
        result = estimate(profile)
    except (ProfileError, PriceError) as exc:
        note = f"compare.cost.estimate failed: {type(exc).__name__}: {exc}"
        return CostSection(available=False, note=note, profile=profile)
    target = out_dir / "breakeven.png"
    from compare.report.charts import breakeven_footer  # the report's footer words, one place

    breakeven_chart(result, target, footer=breakeven_footer(results, result))
    return CostSection(
        available=True,
        note="modeled",
        estimate=result,
        chart=str(target) if target.exists() else None,
        profile=profile,
        base_profile=str(base_profile),
        sizing=profiles_sizing(
            results, sorted(base_profile.parent.glob("*.json")), {base_profile: (profile, result)}
        ),
    )
