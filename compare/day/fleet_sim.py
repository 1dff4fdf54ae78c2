"""Fargate tasks and EC2 instances as deployed: a fleet of units behind round-robin routing (the
ALB's default), each with its CPU envelope, scaled by a target-tracking policy on average CPU.

A unit's worker processes are one SimPy resource: a request holds a worker only for its CPU work
(a CFS quota for a 0.25 vCPU task, the credit balance's speed for a burstable instance); the
DynamoDB wait overlaps (uvicorn's thread pool, gunicorn's threads).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import simpy

from compare.aws_model.distributions import Distribution
from compare.day.cpu import CfsQuota, CreditBalance
from compare.day.requests import Draws
from compare.day.traffic import Arrivals, feed


@dataclass(frozen=True)
class Policy:
    """Target tracking on average CPU % (template values), with AWS's alarm rules.

    Application Auto Scaling (the ECS service) spaces scaling activities by its cooldowns. EC2 Auto
    Scaling's target tracking has none: it gives each new instance a warm-up (``warmup_s``, from its
    launch here) instead, during which the instance's CPU is left out of the average, the instance
    counts toward the capacity a scale-out adds to (only instances past warm-up are the base the
    new capacity is computed from, and a launch happens only if that exceeds the desired count),
    and no scale-in happens.
    """

    target_pct: float
    min_units: int
    max_units: int
    metric_period_s: float
    scale_out_cooldown_s: float
    scale_in_cooldown_s: float
    scale_out_datapoints: int = 3
    scale_in_datapoints: int = 15
    scale_in_threshold: float = 0.9
    warmup_s: float = 0.0


@dataclass(frozen=True)
class UnitShape:
    vcpu: float  # what the CPU % is relative to
    workers: int  # processes that do CPU work in parallel
    cfs: bool  # CPU limited by a CFS quota (Fargate) rather than whole cores (EC2)
    baseline: float | None = None  # burstable: the credit baseline per vCPU
    unlimited: bool = True


@dataclass
class Unit:
    cpu: simpy.Resource
    quota: CfsQuota | None
    credits: CreditBalance | None
    ready_at: float
    launched_at: float = -math.inf
    serving: bool = False
    used_s: float = 0.0  # CPU used in the current metric period
    used_credit_s: float = 0.0  # CPU used since the credit balance last advanced


@dataclass
class FleetOutcome:
    latency_s: np.ndarray
    #: (time, number of units serving) after every change
    serving: list[tuple[float, int]] = field(default_factory=list)
    datapoints: list[tuple[float, float]] = field(default_factory=list)
    credits_min: float | None = None
    surplus_vcpu_s: float = 0.0


def simulate(
    arrivals: Arrivals,
    draws: Draws,
    *,
    shape: UnitShape,
    initial: int,
    policy: Policy | None,
    start_s: Distribution,
    seed: int,
) -> FleetOutcome:
    env = simpy.Environment()
    rng = np.random.default_rng([seed, 4242])
    n = len(arrivals)
    latency = np.full(n, np.nan)
    units: list[Unit] = []
    out = FleetOutcome(latency)
    desired = initial
    rr = 0

    def new_unit(ready_at: float, launched_at: float) -> Unit:
        credits = None
        if shape.baseline is not None:
            credits = CreditBalance(shape.vcpu, shape.baseline, shape.unlimited)
            credits._t = ready_at
        quota = CfsQuota(shape.vcpu) if shape.cfs else None
        return Unit(simpy.Resource(env, capacity=shape.workers), quota, credits, ready_at, launched_at)

    def record() -> None:
        out.serving.append((env.now, sum(1 for u in units if u.serving)))

    def start_unit(delay: float, initial: bool = False) -> Generator[simpy.events.Event, None, None]:
        unit = new_unit(env.now + delay, -math.inf if initial else env.now)
        units.append(unit)
        if delay > 0:
            yield env.timeout(delay)
        unit.serving = True
        record()

    for _ in range(initial):
        env.process(start_unit(0.0, initial=True))

    def cpu_done(unit: Unit, slot: simpy.resources.resource.Request, _event: simpy.events.Event) -> None:
        unit.cpu.release(slot)

    def granted(
        i: int, t0: float, unit: Unit, slot: simpy.resources.resource.Request, _e: simpy.events.Event
    ) -> None:
        cpu = float(draws.cpu_s[i])
        if unit.quota is not None:
            hold = unit.quota.finish(env.now, cpu) - env.now
        else:
            hold = cpu / (unit.credits.speed() if unit.credits else 1.0)
        unit.used_s += cpu
        unit.used_credit_s += cpu
        # the worker is free again after the CPU work; the DynamoDB wait overlaps other requests
        latency[i] = env.now + hold - t0 + float(draws.io_s[i]) + float(draws.hop_s[i])
        env.timeout(hold).callbacks.append(partial(cpu_done, unit, slot))

    def arrive(i: int, _event: simpy.events.Event) -> None:
        nonlocal rr
        live = [u for u in units if u.serving]
        unit = live[rr % len(live)]
        rr += 1
        slot = unit.cpu.request()
        slot.callbacks.append(partial(granted, i, env.now, unit, slot))

    feed(env, arrivals.times, arrive)

    def monitor(period: float) -> Generator[simpy.events.Event, None, None]:
        """Every metric period: the CPU datapoint, the credit balances, and the policy's decision."""
        nonlocal desired
        last_out = last_any = -math.inf
        while env.now < 24 * 3600:
            yield env.timeout(period)
            live = [u for u in units if u.serving]
            warmup = policy.warmup_s if policy is not None else 0.0
            warming = any(env.now < u.launched_at + warmup for u in units)
            # the group's average leaves out the instances still warming up (EC2 Auto Scaling)
            base = [u for u in live if env.now >= u.launched_at + warmup] or live
            used = sum(u.used_s for u in base)
            for u in units:
                u.used_s = 0.0
                if u.credits is not None and u.serving:
                    u.credits.advance(env.now, u.used_credit_s)
                    u.used_credit_s = 0.0
                    low = u.credits.credits
                    out.credits_min = low if out.credits_min is None else min(out.credits_min, low)
            util = 100.0 * used / (len(base) * shape.vcpu * period) if base else 0.0
            out.datapoints.append((env.now, util))
            if policy is None:
                continue
            recent = [u for _, u in out.datapoints]
            if (
                len(recent) >= policy.scale_out_datapoints
                and all(u > policy.target_pct for u in recent[-policy.scale_out_datapoints :])
                and env.now - last_out >= policy.scale_out_cooldown_s
                and desired < policy.max_units
            ):
                want = min(policy.max_units, math.ceil(len(base) * util / policy.target_pct))
                if want > desired:
                    for _ in range(want - desired):
                        env.process(start_unit(float(start_s.sample(rng, 1)[0])))
                    desired = want
                    last_out = last_any = env.now
            elif (
                len(recent) >= policy.scale_in_datapoints
                and all(
                    u < policy.target_pct * policy.scale_in_threshold
                    for u in recent[-policy.scale_in_datapoints :]
                )
                and env.now - last_any >= policy.scale_in_cooldown_s
                and not warming
                and desired > policy.min_units
                and len(live) == desired
            ):
                want = max(policy.min_units, math.ceil(len(live) * util / policy.target_pct))
                for unit in live[want:]:  # the newest stop taking requests; in-flight ones finish
                    unit.serving = False
                    units.remove(unit)
                if want < desired:
                    desired = want
                    last_any = env.now
                    record()

    period = policy.metric_period_s if policy else 60.0
    env.process(monitor(period))
    env.run(until=24 * 3600 + 600)
    out.surplus_vcpu_s = sum(u.credits.surplus_s for u in units if u.credits)
    return out
