"""Lambda as deployed: one execution environment per concurrent request, init on the request path
when no warm environment is free, idle environments reaped after ``idle_reap_s``, and the
account's concurrency limit (beyond it a request is throttled, not queued)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import simpy

from compare.aws_model.distributions import Distribution
from compare.day.cpu import CfsQuota
from compare.day.requests import Draws
from compare.day.traffic import Arrivals, feed
from compare.local.envelopes import LAMBDA_MB_PER_VCPU


@dataclass
class LambdaOutcome:
    latency_s: np.ndarray
    cold: np.ndarray
    throttled: np.ndarray
    #: (time, +1 created / -1 reaped) of every environment
    env_events: list[tuple[float, int]] = field(default_factory=list)

    @property
    def environments(self) -> int:
        return sum(1 for _, d in self.env_events if d > 0)


def simulate(
    arrivals: Arrivals,
    draws: Draws,
    *,
    memory_mb: float,
    idle_reap_s: float,
    concurrency_limit: int,
    init_ms: tuple[Distribution, ...],
    seed: int,
) -> LambdaOutcome:
    n = len(arrivals)
    env = simpy.Environment()
    rng = np.random.default_rng([seed, 1769])
    vcpu = memory_mb / LAMBDA_MB_PER_VCPU
    latency = np.full(n, np.nan)
    cold = np.zeros(n, dtype=bool)
    throttled = np.zeros(n, dtype=bool)
    events: list[tuple[float, int]] = []
    # warm environments, oldest release first: (released_at, quota); the newest is reused first
    warm: deque[tuple[float, CfsQuota]] = deque()
    alive = 0

    def reap(now: float) -> None:
        nonlocal alive
        while warm and now - warm[0][0] > idle_reap_s:
            released, _ = warm.popleft()
            events.append((released + idle_reap_s, -1))
            alive -= 1

    def release(quota: CfsQuota, _event: simpy.events.Event) -> None:
        warm.append((env.now, quota))

    def arrive(i: int, _event: simpy.events.Event) -> None:
        nonlocal alive
        t0 = env.now
        reap(t0)
        init_s = 0.0
        if warm:
            _, quota = warm.pop()
        elif alive < concurrency_limit:
            alive += 1
            events.append((t0, +1))
            quota = CfsQuota(vcpu)
            init_s = sum(float(d.sample(rng, 1)[0]) for d in init_ms) / 1000.0
            cold[i] = True
        else:
            throttled[i] = True
            return
        done = quota.finish(t0 + init_s, float(draws.cpu_s[i])) + float(draws.io_s[i])
        latency[i] = done - t0 + float(draws.hop_s[i])
        # the environment is busy until its request is answered, then waits warm for the next
        env.timeout(done - t0).callbacks.append(partial(release, quota))

    feed(env, arrivals.times, arrive)
    env.run()
    while warm:  # the rest are reaped after the day's last request
        released, _ = warm.popleft()
        events.append((released + idle_reap_s, -1))
    events.sort()
    return LambdaOutcome(latency, cold, throttled, events)
