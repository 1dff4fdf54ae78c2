"""One business day of a cost profile on each runtime as deployed, in both modes (the pages
following a stream, and polling), as one JSON-ready document.

Each mode has its own requests (polling: every poll; push: the pages' loads, their health checks,
the barista's work and one request per stream opened), its streams held and its notice delay; the
``runtimes`` of the document are the profile's own mode (what ``make compare`` reads), ``modes``
holds both."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from compare.aws_model.distributions import Sum
from compare.aws_model.overheads import Overheads
from compare.aws_model.projection import hops_for
from compare.cost import estimate
from compare.cost.notice import SCREENS
from compare.cost.notice import push as push_notice
from compare.cost.prices import PriceBook
from compare.cost.profile import Profile, ProfileError, parse
from compare.cost.sizing import hourly_held
from compare.cost.traffic import MODES, PUSH
from compare.day import deployed, fleet_sim, lambda_sim
from compare.day.fleet_sim import UnitShape
from compare.day.inputs import DayInputs
from compare.day.requests import draw
from compare.day.traffic import Arrivals, arrivals, mode_mix
from compare.local.envelopes import LAMBDA_MB_PER_VCPU

log = logging.getLogger(__name__)
SCHEMA = "cafe-compute/day@2"
NOTICE_POLLING = (
    "modeled: the wait for the next poll (the slowest judged screen's interval, counted by the census, "
    "at its 99th percentile) + the hour's simulated request p99"
)
NOTICE_PUSH = "modeled: the delivery path on AWS (compare/cost/notice.py), for the units serving that hour"
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


def daily_usd(raw_profile: dict[str, Any], mode: str | None = None) -> dict[str, float]:
    """The cost model's own figure per open day in ``mode`` (`make cost MODE=…` prints the same)."""
    result = estimate(raw_profile, with_breakeven=False, mode=mode)
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


def simulate_runtimes(
    profile: Profile,
    arr: Arrivals,
    inputs: DayInputs,
    seed: int,
    reap: float,
    usd: dict[str, float],
    sweep: tuple[float, ...],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The day of ``arr`` on each runtime as deployed; returns the runtimes and their facts."""
    over = inputs.overheads
    book = PriceBook.load(profile.region)
    runtimes: dict[str, Any] = {}

    lam = run_lambda(profile, arr, inputs, seed, reap)
    runtimes["lambda"] = summarise(
        arr.times, lam.latency_s, lam.cold, hourly_max(_alive(lam.env_events)), usd["lambda"], lam.throttled
    )
    if sweep:
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
    facts = {
        "fargate": {**far_facts, "task_vcpu": far.vcpu, "task_start": _ready_parts(over, "fargate")},
        "ec2": {
            **ec2_facts,
            "instance_type": ec2.instance_type,
            "vcpus": vcpus,
            "launch": _ready_parts(over, "ec2"),
        },
        "processes_per_unit": {"lambda": 1, "fargate": far.workers, "ec2": int(vcpus)},
    }
    return runtimes, facts


def add_live(profile: Profile, runtimes: dict[str, Any], processes: dict[str, int]) -> None:
    """Each hour's streams held and notice delay, and the day's, beside its requests."""
    held = hourly_held(profile)
    intervals = profile.traffic.intervals_s
    slowest_poll_ms = max(intervals[key] for key, _ in SCREENS.values() if key in intervals) * 990.0
    open_hours = [h for h in range(HOURS) if profile.schedule.is_open(h)]
    for name, runtime in runtimes.items():
        found: dict[int, float] = {}  # push: the delivery path's p99 for a count of hubs
        for row in runtime["hours"]:
            h = row["hour"]
            row["streams_held"] = round(held[h], 3)
            if profile.mode == PUSH:
                hubs = max(1, int(row["capacity_units"])) * processes[name]
                if hubs not in found:
                    found[hubs] = push_notice(profile, name, hubs).p99_ms
                row["notice_p99_ms"] = round(found[hubs], 1) if h in open_hours else None
            else:
                request = row["p99_ms"]
                row["notice_p99_ms"] = None if request is None else round(slowest_poll_ms + request, 1)
        notices = [r["notice_p99_ms"] for r in runtime["hours"] if r["notice_p99_ms"] is not None]
        runtime["day"]["notice_p99_ms"] = max(notices) if notices else None
        runtime["day"]["streams_held_peak"] = round(max(held), 3)
        runtime["day"]["notice_label"] = NOTICE_PUSH if profile.mode == PUSH else NOTICE_POLLING


def simulate_day(
    raw_profile: dict[str, Any],
    inputs: DayInputs,
    *,
    seed: int = 20261202,
    idle_reap_s: float | None = None,
    idle_sweep_s: tuple[float, ...] | None = None,
) -> dict[str, Any]:
    """Simulate the profile's open day on Lambda, Fargate and EC2 in both modes; ``usd`` is the cost
    model's. The idle-reap sweep runs for the profile's own mode."""
    base = parse(raw_profile)
    over = inputs.overheads
    reap_fig = over["lambda.idle_reap_s"]
    reap = float(reap_fig.value["value"]) if idle_reap_s is None else idle_reap_s
    sweep = idle_sweep_s if idle_sweep_s is not None else (300.0, 600.0, 1800.0, 3600.0)
    modes: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    for mode in MODES:
        try:
            profile = base if mode == base.mode else base.with_mode(mode)
        except ProfileError as exc:  # a census taken before push: polling only
            log.warning("%s not simulated: %s", mode, exc)
            continue
        mix = mode_mix(profile)
        arr = arrivals(profile, mix, np.random.default_rng([seed, 0]))
        usd = daily_usd(raw_profile, mode)
        runtimes, facts_m = simulate_runtimes(
            profile, arr, inputs, seed, reap, usd, sweep if mode == base.mode else ()
        )
        add_live(profile, runtimes, facts_m["processes_per_unit"])
        modes[mode] = {
            "requests_per_open_day": round(profile.monthly_requests / profile.open_days_per_month, 3),
            "cafe_mix": {k: round(v, 6) for k, v in mix.items()},
            "runtimes": runtimes,
        }
        if mode == base.mode:
            facts = facts_m

    return {
        "schema": SCHEMA,
        "label": LABEL,
        "mode": base.mode,
        # The profile's own mode, as make compare reads it; both modes are under "modes".
        "runtimes": modes[base.mode]["runtimes"],
        "modes": modes,
        "provenance": {
            "profile": raw_profile.get("description", ""),
            "seed": seed,
            "requests_per_open_day": modes[base.mode]["requests_per_open_day"],
            "cafe_mix": modes[base.mode]["cafe_mix"],
            "arrivals": "Poisson within each hour at the cost model's hourly rate; in peak hours a burst "
            "window (1/6 h at burst_factor × the rate) keeps the hour's mean",
            "usd": "the cost model's monthly figure per runtime and mode ÷ open days per month (make cost "
            "MODE=…: runtimes.<name>.usd_per_open_day), excluding the shared DynamoDB and transfer costs",
            "streams_held": "modeled: the mean streams held in the hour (the census's streams per page, "
            "the profile's screens and orders; Little's law for the customers following an order)",
            "notice_p99_ms": {"polling": NOTICE_POLLING, "push": NOTICE_PUSH},
            "lambda": {
                "memory_mb": base.lambda_.memory_mb,
                "vcpu": round(base.lambda_.memory_mb / LAMBDA_MB_PER_VCPU, 4),
                "api": base.lambda_.api,
                "idle_reap_s": reap,
                "idle_reap_source": reap_fig.label(),
                "idle_reap_range_s": list(reap_fig.range or ()),
                "environment_reuse": "the most recently released warm environment serves first (assumption)",
            },
            "fargate": facts["fargate"],
            "ec2": facts["ec2"],
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
