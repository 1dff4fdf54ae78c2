"""Fargate and EC2 fleets in the simulator: queueing against a known formula, and the
target-tracking policy's timing (datapoints, cooldowns or warm-ups, start time)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from compare.aws_model import Constant
from compare.day.fleet_sim import FleetOutcome, Policy, UnitShape, simulate
from tests.day.conftest import arrivals, draws

FULL_CORE = UnitShape(vcpu=1.0, workers=1, cfs=False)


def run(
    times: list[float], cpu: float, *, io: float = 0.0, policy: Policy | None = None, start: float = 0.0
) -> FleetOutcome:
    """One full-core unit to begin with; every request takes ``cpu`` of CPU and ``io`` of waiting."""
    return simulate(
        arrivals(times),
        draws(len(times), cpu, io_s=io),
        shape=FULL_CORE,
        initial=1,
        policy=policy,
        start_s=Constant(start),
        seed=0,
    )


def test_one_unit_with_fixed_service_matches_the_md1_queue() -> None:
    # M/D/1: mean wait = ρ·D / (2(1 − ρ)) (Pollaczek–Khinchine with deterministic service)
    rng = np.random.default_rng(11)
    rate, service = 50.0, 0.012  # ρ = 0.6
    times = np.cumsum(rng.exponential(1 / rate, 120_000))
    times = times[times < 20 * 3600]
    out = run(times.tolist(), service)
    rho = rate * service
    expected_wait = rho * service / (2 * (1 - rho))
    assert float(np.nanmean(out.latency_s)) - service == pytest.approx(expected_wait, rel=0.06)


def test_dynamodb_wait_does_not_hold_the_worker() -> None:
    # two requests at once, 10 ms CPU + 1 s I/O each: the second waits 10 ms, not 1 s
    out = run([100.0, 100.0], 0.010, io=1.0)
    assert out.latency_s.tolist() == pytest.approx([1.010, 1.020])


POLICY = Policy(
    target_pct=60,
    min_units=1,
    max_units=4,
    metric_period_s=60,
    scale_out_cooldown_s=60,
    scale_in_cooldown_s=120,
)


def overload(seconds: float, rate: float = 40.0, cpu: float = 0.02) -> tuple[list[float], float]:
    """A steady stream that keeps one full core ≈ 80 % busy (above the 60 % target)."""
    return [i / rate for i in range(int(seconds * rate))], cpu


def test_scale_out_waits_for_three_datapoints_and_the_start_time() -> None:
    times, cpu = overload(900)
    out = run(times, cpu, policy=POLICY, start=50.0)
    first_change = next((t, n) for t, n in out.serving if n > 1)
    # datapoints at 60, 120, 180 s are all above 60 %: launch at 180 s, serving 50 s later
    assert first_change == (pytest.approx(230.0), 2)


def test_scale_in_needs_fifteen_low_datapoints() -> None:
    # 1.1 cores of demand for ten minutes (two units then run at 55 %, above the 54 % scale-in
    # threshold), then nothing
    times, cpu = overload(600, rate=55.0)
    out = run(times, cpu, policy=POLICY, start=50.0)
    assert max(n for _, n in out.serving) >= 2
    back_to_min = next(t for t, n in out.serving if t > 600 and n == 1)
    # the last busy datapoint is at 600 s; the fifteenth low one after it is at 1 500 s
    assert back_to_min == pytest.approx(600 + 15 * 60)


def test_a_second_scale_out_waits_for_the_cooldown() -> None:
    # 3 cores of demand: every datapoint is above target. The first launch comes at 180 s (three
    # datapoints); with a 300 s cooldown the next one comes at 480 s, not at 240 s
    slow = replace(POLICY, max_units=8, scale_out_cooldown_s=300, scale_in_cooldown_s=300)
    times, cpu = overload(900, rate=150.0)
    out = run(times, cpu, policy=slow, start=10.0)
    changes = [(t, n) for t, n in out.serving if t > 0]
    assert changes[0] == (pytest.approx(190.0), 2)
    third = next(t for t, n in changes if n > 2)
    assert third == pytest.approx(490.0)


# EC2 Auto Scaling's target tracking: no cooldown, a warm-up per new instance instead.
WARMUP = replace(POLICY, max_units=10, scale_out_cooldown_s=0, scale_in_cooldown_s=0, warmup_s=300)


def _rising(initial: int, policy: Policy) -> list[tuple[float, int]]:
    """Four full-core units: 3.2 cores of demand (80 %) for 200 s, then 6 cores."""
    first = [i / 160 for i in range(200 * 160)]
    then = [200 + i / 300 for i in range(700 * 300)]
    out = simulate(
        arrivals(first + then),
        draws(len(first) + len(then), 0.02),
        shape=FULL_CORE,
        initial=initial,
        policy=policy,
        start_s=Constant(10.0),
        seed=0,
    )
    return list({t: n for t, n in out.serving if t > 0}.items())  # the count after each moment


def test_target_tracking_scales_out_again_during_a_warm_up() -> None:
    # 80 % on 4 units: three datapoints → 6 units launched at 180 s, serving at 190 s. Demand then
    # rises: the 4 warmed-up units' average alone calls for a 7th, launched without waiting the
    # 300 s a cooldown would impose (that one would come at 480 s)
    changes = _rising(4, WARMUP)
    assert changes[0] == (pytest.approx(190.0), 6)
    # datapoints at 240 (diluted by the 10 s before the new units served), 300 s: launch at 300 s
    assert next(t for t, n in changes if n > 6) == pytest.approx(310.0)
    cooled = replace(POLICY, max_units=10, scale_out_cooldown_s=300, scale_in_cooldown_s=300)
    assert next(t for t, n in _rising(4, cooled) if n > 6) >= 490


def test_scale_in_waits_for_every_warm_up_to_end() -> None:
    # 1.1 cores for 200 s, then nothing: a second unit launches at 180 s; the low datapoints after
    # 240 s would allow a scale-in at 1 140 s, but nothing scales in before the warm-up ends at
    # 480 s either way — and with a warm-up of 1 200 s, not before 1 380 s
    times, cpu = overload(200, rate=55.0)
    long = replace(WARMUP, warmup_s=1200)
    out = run(times, cpu, policy=long, start=10.0)
    assert max(n for _, n in out.serving) >= 2
    back = next(t for t, n in out.serving if t > 200 and n == 1)
    assert back >= 180 + 1200


def test_ec2_target_tracking_has_no_cooldown_but_a_warm_up() -> None:
    from compare.aws_model.overheads import load
    from compare.day.deployed import ec2_policy, fargate_policy

    over = load()
    policy, facts = ec2_policy(over, 1)
    assert policy.scale_out_cooldown_s == 0 and policy.scale_in_cooldown_s == 0
    assert policy.warmup_s == 300 and facts["instance_warmup_s"] == 300
    assert "cooldown" not in over.figures["ec2.asg_instance_warmup_s"].name
    # the ECS service's Application Auto Scaling policy does have cooldowns, from its template
    fargate, _ = fargate_policy(over, 1)
    assert fargate.scale_out_cooldown_s == 60 and fargate.warmup_s == 0
