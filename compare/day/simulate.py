"""One business day of a cost profile on each runtime as deployed, as one JSON-ready document."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from compare.aws_model.distributions import Sum
from compare.aws_model.overheads import Overheads
from compare.aws_model.projection import hops_for
from compare.cost import estimate
from compare.cost.prices import PriceBook
from compare.cost.profile import Profile, parse
from compare.day import deployed, fleet_sim, lambda_sim
from compare.day.fleet_sim import UnitShape
from compare.day.inputs import DayInputs
from compare.day.requests import draw
from compare.day.traffic import Arrivals, arrivals, cafe_mix
from compare.local.envelopes import LAMBDA_MB_PER_VCPU

log = logging.getLogger(__name__)
SCHEMA = "cafe-compute/day@1"
LABEL = "modeled: a discrete-event simulation of the profile's day from measured and sourced inputs"
HOURS = 24


def _ms(seconds: np.ndarray, q: float) -> float | None:
    return None if len(seconds) == 0 else round(float(np.percentile(seconds, q)) * 1000.0, 3)


def hourly_max(series: list[tuple[float, int]]) -> list[int]:
    """Largest value of a step series (time, value) within each hour of the day."""
    out = []
    idx, current = 0, 0
    ordered = sorted(series, key=lambda e: e[0])
    for h in range(HOURS):
        start, end = h * 3600.0, (h + 1) * 3600.0
        while idx < len(ordered) and ordered[idx][0] <= start:
            current = ordered[idx][1]
            idx += 1
        peak = current
        while idx < len(ordered) and ordered[idx][0] < end:
            current = ordered[idx][1]
            peak = max(peak, current)
            idx += 1
        out.append(peak)
    return out


def _alive(events: list[tuple[float, int]]) -> list[tuple[float, int]]:
    alive, series = 0, []
    for t, delta in events:
        alive += delta
        series.append((t, alive))
    return series


def summarise(
    times: np.ndarray,
    latency_s: np.ndarray,
    cold: np.ndarray,
    capacity: list[int],
    usd: float,
    throttled: np.ndarray | None = None,
) -> dict[str, Any]:
    hour_of = np.minimum((times // 3600).astype(int), HOURS - 1)
    done = ~np.isnan(latency_s)
    hours = []
    for h in range(HOURS):
        in_hour = hour_of == h
        served = latency_s[in_hour & done]
        row: dict[str, Any] = {
            "hour": h,
            "requests": int(in_hour.sum()),
            "p50_ms": _ms(served, 50),
            "p99_ms": _ms(served, 99),
            "cold_start_share": round(float(cold[in_hour].mean()), 6) if in_hour.any() else 0.0,
            "capacity_units": int(capacity[h]),
        }
        if throttled is not None:
            row["throttled"] = int(throttled[in_hour].sum())
        hours.append(row)
    day: dict[str, Any] = {
        "requests": len(times),
        "p50_ms": _ms(latency_s[done], 50),
        "p99_ms": _ms(latency_s[done], 99),
        "cold_start_share": round(float(cold.mean()), 6) if len(cold) else 0.0,
        "usd": usd,
    }
    if throttled is not None:
        day["throttled"] = int(throttled.sum())
    return {"hours": hours, "day": day}


def daily_usd(raw_profile: dict[str, Any]) -> dict[str, float]:
    """The cost model's own figure per open day (`make cost` prints the same numbers)."""
    result = estimate(raw_profile, with_breakeven=False)
    return {name: float(r["usd_per_open_day"]) for name, r in result["runtimes"].items()}


def run_lambda(
    profile: Profile, arr: Arrivals, inputs: DayInputs, seed: int, idle_reap_s: float
) -> lambda_sim.LambdaOutcome:
    hops = hops_for("lambda", inputs.overheads, api=profile.lambda_.api)
    return lambda_sim.simulate(
        arr,
        draw("lambda", arr, inputs, hops, seed),
        memory_mb=profile.lambda_.memory_mb,
        idle_reap_s=idle_reap_s,
        concurrency_limit=int(inputs.overheads["lambda.concurrency_limit"].value["value"]),
        init_ms=inputs.init_ms,
        seed=seed,
    )


def simulate_day(
    raw_profile: dict[str, Any],
    inputs: DayInputs,
    *,
    seed: int = 20261202,
    idle_reap_s: float | None = None,
    idle_sweep_s: tuple[float, ...] | None = None,
) -> dict[str, Any]:
    """Simulate the profile's open day on Lambda, Fargate and EC2; ``usd`` is the cost model's."""
    profile = parse(raw_profile)
    over = inputs.overheads
    reap_fig = over["lambda.idle_reap_s"]
    reap = float(reap_fig.value["value"]) if idle_reap_s is None else idle_reap_s
    sweep = idle_sweep_s if idle_sweep_s is not None else (300.0, 600.0, 1800.0, 3600.0)
    mix = cafe_mix(profile)
    arr = arrivals(profile, mix, np.random.default_rng([seed, 0]))
    usd = daily_usd(raw_profile)
    book = PriceBook.load(profile.region)
    runtimes: dict[str, Any] = {}

    lam = run_lambda(profile, arr, inputs, seed, reap)
    runtimes["lambda"] = summarise(
        arr.times, lam.latency_s, lam.cold, hourly_max(_alive(lam.env_events)), usd["lambda"], lam.throttled
    )
    runtimes["lambda"]["idle_reap_sweep"] = [
        _sweep_row(profile, arr, inputs, seed, s, lam if s == reap else None) for s in sweep
    ]

    # Fargate: the service's desired count and target tracking from the template
    far = profile.fargate
    policy, far_facts = deployed.fargate_policy(over, far.min_count)
    start = Sum(tuple(f.distribution() for f in over.capacity_ready("fargate")))
    fo = fleet_sim.simulate(
        arr,
        draw("fargate", arr, inputs, hops_for("fargate", over), seed),
        shape=UnitShape(vcpu=far.vcpu, workers=int(far_facts["workers_per_task"]), cfs=True),
        initial=far.min_count,
        policy=policy,
        start_s=start,
        seed=seed,
    )
    runtimes["fargate"] = summarise(
        arr.times, fo.latency_s, np.zeros(len(arr), bool), hourly_max(fo.serving), usd["fargate"]
    )

    # EC2: one instance, or the Auto Scaling group behind an ALB when the profile puts one in front
    ec2 = profile.ec2
    spec = book.instance_type(ec2.instance_type)
    vcpus = float(spec["vcpu"])
    scale_out = ec2.alb
    ec2_policy, ec2_facts = (
        deployed.ec2_policy(over, ec2.min_count) if scale_out else (None, {"mode": "single"})
    )
    launch = Sum(tuple(f.distribution() for f in over.capacity_ready("ec2")))
    eo = fleet_sim.simulate(
        arr,
        draw("ec2", arr, inputs, hops_for("ec2", over, scale_out=scale_out), seed),
        shape=UnitShape(
            vcpu=vcpus,
            workers=int(vcpus),
            cfs=False,
            baseline=float(spec["baseline_pct"]) / 100 if spec.get("burstable") else None,
            unlimited=ec2.unlimited,
        ),
        initial=ec2.min_count if scale_out else 1,
        policy=ec2_policy,
        start_s=launch,
        seed=seed,
    )
    runtimes["ec2"] = summarise(
        arr.times, eo.latency_s, np.zeros(len(arr), bool), hourly_max(eo.serving), usd["ec2"]
    )
    if spec.get("burstable"):
        runtimes["ec2"]["cpu_credits"] = {
            "instance_type": ec2.instance_type,
            "baseline_pct_per_vcpu": spec["baseline_pct"],
            "mode": "unlimited" if ec2.unlimited else "standard",
            "start": "full balance (24 h of earnings)",
            "lowest_balance_credits": None if eo.credits_min is None else round(eo.credits_min, 3),
            "surplus_vcpu_hours": round(eo.surplus_vcpu_s / 3600.0, 6),
        }

    return {
        "schema": SCHEMA,
        "label": LABEL,
        "runtimes": runtimes,
        "provenance": {
            "profile": raw_profile.get("description", ""),
            "seed": seed,
            "requests_per_open_day": round(profile.monthly_requests / profile.open_days_per_month, 3),
            "cafe_mix": {k: round(v, 6) for k, v in mix.items()},
            "arrivals": "Poisson within each hour at the cost model's hourly rate; in peak hours a burst "
            "window (1/6 h at burst_factor × the rate) keeps the hour's mean",
            "usd": "the cost model's monthly figure per runtime ÷ open days per month (make cost: "
            "runtimes.<name>.usd_per_open_day), excluding the shared DynamoDB and transfer costs",
            "lambda": {
                "memory_mb": profile.lambda_.memory_mb,
                "vcpu": round(profile.lambda_.memory_mb / LAMBDA_MB_PER_VCPU, 4),
                "api": profile.lambda_.api,
                "idle_reap_s": reap,
                "idle_reap_source": reap_fig.label(),
                "idle_reap_range_s": list(reap_fig.range or ()),
                "environment_reuse": "the most recently released warm environment serves first (assumption)",
            },
            "fargate": {
                **far_facts,
                "task_vcpu": far.vcpu,
                "task_start": _ready_parts(over, "fargate"),
            },
            "ec2": {
                **ec2_facts,
                "instance_type": ec2.instance_type,
                "vcpus": vcpus,
                "launch": _ready_parts(over, "ec2"),
            },
            "cold_start_share": "Lambda: requests that waited for an environment's init; Fargate and EC2 "
            "queue requests on running units, so none waits for a start (new capacity arrives "
            "behind the scaling policy instead)",
            "inputs": inputs.rows,
            "overheads": over.name,
        },
    }


def _ready_parts(over: Overheads, runtime: str) -> list[dict[str, Any]]:
    """New capacity's time to serve, part by part, each with its own kind (never one label for the sum)."""
    return [
        {
            "figure": f.name,
            "value": f"{f.distribution().describe()} {f.unit}",
            "kind": f.kind,
            "source": f.source,
        }
        for f in over.capacity_ready(runtime)
    ]


def _sweep_row(
    profile: Profile,
    arr: Arrivals,
    inputs: DayInputs,
    seed: int,
    idle: float,
    done: lambda_sim.LambdaOutcome | None,
) -> dict[str, Any]:
    out = done or run_lambda(profile, arr, inputs, seed, idle)
    served = out.latency_s[~np.isnan(out.latency_s)]
    return {
        "idle_reap_s": idle,
        "p99_ms": _ms(served, 99),
        "cold_start_share": round(float(out.cold.mean()), 6) if len(out.cold) else 0.0,
        "environments_started": out.environments,
    }
